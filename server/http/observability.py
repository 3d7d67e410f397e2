"""Request ids, access log lines and request metrics, as Sanic middleware."""

from __future__ import annotations

import logging
import re
import secrets
import time

from sanic import Request, Sanic
from sanic.response import HTTPResponse

from server.http import metrics
from server.logs import request_id_var

access_log = logging.getLogger("server.access")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def route_label(request: Request) -> str:
    """The route pattern, never the raw path: raw paths carry tokens and explode cardinality."""
    route = getattr(request, "route", None)
    if route is None:
        return "unmatched"
    return "/" + route.path.lstrip("/")


def install(app: Sanic) -> None:
    @app.on_request(priority=100)
    async def start(request: Request) -> None:
        incoming = request.headers.get("x-request-id", "")
        rid = incoming if _SAFE_ID.match(incoming) else secrets.token_hex(8)
        request.ctx.request_id = rid
        request.ctx.started = time.perf_counter()
        request_id_var.set(rid)

    @app.on_response(priority=100)
    async def finish(request: Request, response: HTTPResponse) -> None:
        rid = getattr(request.ctx, "request_id", None) or request_id_var.get()
        response.headers.setdefault("X-Request-ID", rid)
        started = getattr(request.ctx, "started", None)
        elapsed = time.perf_counter() - started if started else 0.0
        route = route_label(request)
        metrics.observe(request.method, route, response.status, elapsed)
        access_log.info(
            "request",
            extra={"method": request.method, "route": route, "status": response.status,
                   "duration_ms": round(elapsed * 1000, 2)},
        )
