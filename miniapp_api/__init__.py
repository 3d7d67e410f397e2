"""The mini-program API under ``/api/v1``: thin handlers over the services."""

from __future__ import annotations

from sanic import Blueprint

from miniapp_api import auth, contracts, face, properties, ratings  # face: face verification

blueprint = Blueprint.group(auth.bp, face.bp, contracts.bp, properties.bp, ratings.bp,
                            url_prefix="/api/v1")
