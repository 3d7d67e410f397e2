"""``/docs``: the API reference in Swagger UI, served from this process, offline.

sanic-ext's own docs pages load their scripts from a CDN, so without internet
``/docs`` was blank. Here the Swagger UI assets come from the ``swagger-ui-py``
package the project installs (nothing third-party is copied into this
repository); the page and its start-up script are ours, in ``templates/docs``.
The OpenAPI document, ``/docs/openapi.json``, is generated from our models
(:mod:`server.web.openapi_doc`).

The page runs under a strict Content-Security-Policy: scripts, styles and
images only from this origin (plus ``data:`` images, which Swagger UI's
stylesheet uses for its icons), requests only to this origin, no inline
script, no eval, no fonts, no frames.
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

from sanic import Blueprint, Request, Sanic
from sanic.response import HTTPResponse, file, html
from sanic_ext import openapi

from server.errors import NotFound

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "templates" / "docs"

def _package_dir(name: str) -> Path:
    """Where an installed package lies, without importing it (swagger_ui's import pulls in
    jinja2 and yaml, which nothing here needs)."""
    spec = find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the {name} package is not installed")
    return Path(list(spec.submodule_search_locations)[0])


SWAGGER_UI_DIR = _package_dir("swagger_ui") / "static"

# name under /docs/assets/ -> file; nothing else of either directory is served.
ASSETS: dict[str, Path] = {
    "swagger-ui-bundle.js": SWAGGER_UI_DIR / "swagger-ui-bundle.js",
    "swagger-ui.css": SWAGGER_UI_DIR / "swagger-ui.css",
    "favicon-32x32.png": SWAGGER_UI_DIR / "favicon-32x32.png",
    "docs.js": TEMPLATE_DIR / "docs.js",
    "docs.css": TEMPLATE_DIR / "docs.css",
}

_MIME = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
         ".png": "image/png"}

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",  # the OpenAPI document, and "Try it out" on this origin
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
])

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

_PAGE = (TEMPLATE_DIR / "index.html").read_text(encoding="utf-8")

bp = Blueprint("docs_ui", url_prefix="/docs")


def install(app: Sanic) -> None:
    app.blueprint(bp)
    # sanic-ext's start-up banner links to the route it names "openapi.index" (its own UI
    # page, switched off) and fails to start without one: that name is our page's.
    app.add_route(index, "/docs", methods=["GET"], name="openapi.index", strict_slashes=False)


@openapi.exclude()
async def index(request: Request) -> HTTPResponse:
    return html(_PAGE, headers={**HEADERS, "Cache-Control": "no-cache"})


@bp.get("/assets/<name:str>")
@openapi.exclude()
async def asset(request: Request, name: str) -> HTTPResponse:
    path = ASSETS.get(name)
    if path is None:
        raise NotFound()
    return await file(path, mime_type=_MIME[path.suffix], headers=HEADERS, max_age=3600)
