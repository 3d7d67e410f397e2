"""Operations endpoints: liveness, readiness, metrics."""

from __future__ import annotations

import asyncio
import logging

from sanic import Blueprint, Request, response
from tortoise import connections

from server.http.metrics import exposition
from server.http.operations import operation

log = logging.getLogger("server.ops")
bp = Blueprint("ops")


@bp.get("/healthz")
@operation("Liveness", tag="ops", responses={200: "application/json"})
async def healthz(request: Request) -> response.HTTPResponse:
    """Alive: the worker answers. Says nothing about its dependencies."""
    return response.json({"status": "ok"})


async def _check(name: str, coro) -> tuple[str, str | None]:
    try:
        await asyncio.wait_for(coro, timeout=2.0)
        return name, None
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        return name, type(exc).__name__


async def _database() -> None:
    await connections.get("default").execute_query("SELECT 1")


@bp.get("/readyz")
@operation("Readiness: database, key-value store, signing keys", tag="ops",
           responses={200: "application/json"}, errors={503: "not_ready"})
async def readyz(request: Request) -> response.HTTPResponse:
    """Ready: database, key-value store and signing keys usable; 503 naming what is not."""
    ctx = request.app.ctx
    checks = [_check("database", _database()), _check("kv", ctx.kv.ping())]
    readiness = getattr(ctx, "signing_ready", None)
    if readiness is not None:
        checks.append(_check("signing_keys", readiness()))
    results = await asyncio.gather(*checks)
    failing = {name: err for name, err in results if err}
    parts = {name: ("ok" if not err else "failing") for name, err in results}
    if failing:
        log.warning("not ready", extra={"failing": sorted(failing)})
        return response.json(
            {"error": {"code": "not_ready", "message": "服务未就绪",
                       "details": {"failing": sorted(failing), "checks": parts}},
             "request_id": request.ctx.request_id},
            status=503,
        )
    return response.json({"status": "ready", "checks": parts})


@bp.get("/metrics")
@operation("Prometheus metrics (text format)", tag="ops", responses={200: "text/plain"})
async def metrics(request: Request) -> response.HTTPResponse:
    body, content_type = exposition()
    return response.raw(body, content_type=content_type)
