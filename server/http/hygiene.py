"""Headers every response gets, tokens that must not be cached, and CORS.

- ``X-Content-Type-Options: nosniff`` on everything, errors included, so a browser
  never runs a JSON body (or an uploaded PDF's echo) as script or HTML.
- ``Cache-Control: no-store`` (and ``Pragma: no-cache`` for HTTP/1.0 caches) on every
  answer of a route declared with ``ctx_carries_token=True``: login, refresh, the
  registry token endpoint and invitations hand out bearer secrets (RFC 6749 §5.1).
- CORS only for the origins in ``CORS_ORIGINS`` (none by default). The mini-program
  itself is not a browser and needs no CORS; a web console on another origin does.
  A preflight (``OPTIONS`` with ``Access-Control-Request-Method``) is answered here
  for any path that has the requested method; anything else stays same-origin.
"""

from __future__ import annotations

from sanic import Request, Sanic
from sanic.response import HTTPResponse, empty

from server.config import Settings

_ALLOWED_REQUEST_HEADERS = "Authorization, Content-Type, Idempotency-Key, If-Match, " \
    "If-None-Match, X-Request-ID"
_EXPOSED_HEADERS = "ETag, X-Request-ID, X-Content-SHA256, Digest, Retry-After, " \
    "Idempotent-Replayed, Location"
_PREFLIGHT_MAX_AGE_S = 600


def carries_token(request: Request) -> bool:
    route = getattr(request, "route", None)
    return bool(route is not None and getattr(route.ctx, "carries_token", False))


def _route_methods(app: Sanic, path: str) -> set[str]:
    """Methods some route serves at ``path`` (empty when none matches)."""
    methods: set[str] = set()
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        try:
            app.router.get(path, method, None)
        except Exception:  # noqa: BLE001 - NotFound / MethodNotAllowed: not this method
            continue
        methods.add(method)
    return methods


def preflight(app: Sanic, settings: Settings, request: Request) -> HTTPResponse | None:
    """The answer to a CORS preflight, or None when ``request`` is not one."""
    origin = request.headers.get("origin")
    wanted = (request.headers.get("access-control-request-method") or "").upper()
    if request.method != "OPTIONS" or not origin or not wanted:
        return None
    methods = _route_methods(app, request.path)
    headers = {"Vary": "Origin", "X-Content-Type-Options": "nosniff"}
    if origin.lower() not in settings.cors_origins or wanted not in methods:
        # No Access-Control-Allow-* headers: the browser refuses the real request.
        return empty(status=204, headers=headers)
    headers.update({
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": ", ".join(sorted(methods)),
        "Access-Control-Allow-Headers": _ALLOWED_REQUEST_HEADERS,
        "Access-Control-Max-Age": str(_PREFLIGHT_MAX_AGE_S),
    })
    return empty(status=204, headers=headers)


def decorate(settings: Settings, request: Request, response: HTTPResponse) -> None:
    """Add the headers of this module to a response (ours or an error's)."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if carries_token(request):
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    origin = request.headers.get("origin")
    if request.method == "OPTIONS" and "access-control-request-method" in request.headers:
        return  # a preflight: preflight() alone decides what it allows
    if origin and origin.lower() in settings.cors_origins:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = _EXPOSED_HEADERS
        vary = response.headers.get("Vary")
        if not vary:
            response.headers["Vary"] = "Origin"
        elif "origin" not in vary.lower():
            response.headers["Vary"] = f"{vary}, Origin"


def install(app: Sanic, settings: Settings) -> None:
    @app.on_response(priority=95)
    async def headers(request: Request, response: HTTPResponse) -> None:
        decorate(settings, request, response)
