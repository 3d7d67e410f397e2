"""``Idempotency-Key`` on mutating requests: a repeat returns the first final answer.

Phones on flaky networks resend; a resent signature or contract creation must
not act twice. The order matters:

1. the caller is authenticated first, exactly as the route will (a logged-out or
   expired token gets its 401, never a stored answer);
2. the key is scoped to the authenticated principal (the user, the registry
   client, or the staff member), not to the token, so a retry with a refreshed token is recognised;
3. the same key with the same request gets the stored answer back
   (``Idempotent-Replayed: true``), with a different request 422, and while the
   first is still running 409 (never stored);
4. what is stored, for how long and how: :mod:`server.services.idempotency`.

Routes without a principal (login, refresh, the registry token endpoint, public
verification) ignore the header: they have nobody to scope a key to, and the
first three issue tokens that must not be kept.
"""

from __future__ import annotations

import hashlib

from sanic import Request, Sanic
from sanic.response import HTTPResponse

from server.errors import ApiError, Conflict
from server.http.auth import current_user_id
from server.http.registry_auth import registry_principal
from server.services.idempotency import IdempotencyStore, StoredAnswer

_MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
_MAX_KEY = 128


def _guard(request: Request) -> tuple[str, str | None] | None:
    """(principal kind, registry scope) the route's handler is guarded by, if any."""
    route = getattr(request, "route", None)
    handler = getattr(route, "handler", None)
    while handler is not None:
        kind = getattr(handler, "principal_kind", None)
        if kind is not None:
            return kind, getattr(handler, "registry_scope", None)
        handler = getattr(handler, "__wrapped__", None)
    return None


async def _principal(request: Request) -> str | None:
    guard = _guard(request)
    if guard is None:
        return None
    kind, scope = guard
    if kind == "user":
        return "user:" + await current_user_id(request)
    if kind == "registry" and scope is not None:
        return "registry:" + (await registry_principal(request, scope)).client_id
    if kind == "staff":
        from server.http.staff_auth import current_staff

        return "staff:" + (await current_staff(request)).staff_id
    return None


def _request_hash(request: Request) -> str:
    h = hashlib.sha256()
    h.update(request.method.encode() + b" " + request.path.encode() + b"?"
             + (request.query_string or "").encode() + b"\n")
    h.update(request.body or b"")
    return h.hexdigest()


def install(app: Sanic) -> None:
    @app.on_request(priority=80)
    async def replay_or_reserve(request: Request) -> HTTPResponse | None:
        key = request.headers.get("idempotency-key")
        if key is None or request.method not in _MUTATING:
            return None
        if not 1 <= len(key) <= _MAX_KEY or not key.isascii() or not key.isprintable():
            raise ApiError("Idempotency-Key 应为1至128个可打印ASCII字符",
                           code="invalid_idempotency_key")
        principal = await _principal(request)
        if principal is None:
            return None
        scope = hashlib.sha256(principal.encode()).hexdigest()[:32]
        digest = _request_hash(request)
        store: IdempotencyStore = request.app.ctx.idempotency_store
        stored = await store.find(scope, key)
        if stored is not None:
            if stored.request_hash != digest:
                raise ApiError("该 Idempotency-Key 已用于另一个请求",
                               code="idempotency_key_reused", status=422)
            return HTTPResponse(stored.body, status=stored.status,
                                content_type=stored.content_type,
                                headers={"Idempotent-Replayed": "true"})
        # A request cannot run longer than the response timeout, so a reservation left
        # by a worker that died mid-request frees itself soon after.
        ttl = request.app.ctx.settings.request_timeout_s + 5
        if not await request.app.ctx.kv.add(f"idem:{scope}:{key}", b"1", ttl):
            raise Conflict("相同的请求正在处理中", code="idempotency_in_progress",
                           headers={"Retry-After": "1"})
        request.ctx.idempotency = (scope, key, digest)
        return None

    @app.on_response(priority=80)
    async def remember(request: Request, response: HTTPResponse) -> None:
        pending = getattr(request.ctx, "idempotency", None)
        if pending is None:
            return
        scope, key, digest = pending
        try:
            if isinstance(response.body, bytes | None):
                await request.app.ctx.idempotency_store.keep(scope, key, StoredAnswer(
                    digest, response.status, response.body or b"",
                    response.content_type or "application/json"))
        finally:
            await request.app.ctx.kv.delete(f"idem:{scope}:{key}")
