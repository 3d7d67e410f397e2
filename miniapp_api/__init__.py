"""The mini-program API under ``/api/v1``: thin handlers over the services."""

from __future__ import annotations

from sanic import Blueprint

from miniapp_api import auth

blueprint = Blueprint.group(auth.bp, url_prefix="/api/v1")
