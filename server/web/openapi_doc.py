"""``/docs/openapi.json``: the OpenAPI 3.1 document, built once per worker from the routes'
``@operation`` declarations and the models of :mod:`server.schemas` (the docs UI at
``/docs``, :mod:`server.web.docs`, reads it)."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from server.http.openapi import build_document
from server.http.render import json

bp = Blueprint("openapi_document", url_prefix="/docs")

TITLE = "二手房网签备案 API"
VERSION = "1.0.0"
DESCRIPTION = ("Mini-program, registration-office and public-verification endpoints of the "
               "second-hand house online signing and filing service. Errors: "
               "`{error: {code, message, details}, request_id}` (API.md); 400 answers name "
               "each bad field in `details.fields`.")


def document(request: Request) -> dict:
    doc = getattr(request.app.ctx, "openapi_document", None)
    if doc is None:
        doc = build_document(request.app, title=TITLE, version=VERSION,
                             description=DESCRIPTION)
        request.app.ctx.openapi_document = doc
    return doc


# Not itself an operation of the document: the docs' own routes are not the API's.
@bp.get("/openapi.json")
async def openapi_json(request: Request) -> HTTPResponse:
    return json(document(request), headers={"Cache-Control": "no-cache"})
