"""``Idempotency-Key`` on mutating requests: a repeat returns the first answer.

Phones on flaky networks resend; a resent signature or contract creation must
not act twice. The first answer (below 500) is stored with a hash of the
request; a repeat with the same key and the same request gets it back, the
same key with a different request is refused (422), and a repeat that arrives
while the first is still running gets 409. Keys are scoped to the caller's
credentials, so one caller's key never answers another's request.
"""

from __future__ import annotations

import hashlib

from sanic import Request, Sanic
from sanic.response import HTTPResponse
from tortoise.exceptions import IntegrityError

from server.errors import ApiError, Conflict
from server.models import IdempotencyRecord

_MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
_MAX_KEY = 128
_IN_FLIGHT_TTL_S = 120


def _scope(request: Request) -> str:
    credential = request.headers.get("authorization", "") or request.client_ip or "-"
    return hashlib.sha256(credential.encode()).hexdigest()[:32]


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
        # Printable ASCII only: a NUL or other control character would break PostgreSQL.
        if not 1 <= len(key) <= _MAX_KEY or not all(" " < c <= "~" for c in key):
            raise ApiError("Idempotency-Key 应为1至128个可见ASCII字符",
                           code="invalid_idempotency_key")
        scope, digest = _scope(request), _request_hash(request)
        record = await IdempotencyRecord.get_or_none(scope=scope, key=key)
        if record is not None:
            if record.request_hash != digest:
                raise ApiError("该 Idempotency-Key 已用于另一个请求",
                               code="idempotency_key_reused", status=422)
            return HTTPResponse(record.body, status=record.status,
                                content_type=record.content_type,
                                headers={"Idempotent-Replayed": "true"})
        if not await request.app.ctx.kv.add(f"idem:{scope}:{key}", b"1", _IN_FLIGHT_TTL_S):
            raise Conflict("相同的请求正在处理中", code="idempotency_in_progress")
        request.ctx.idempotency = (scope, key, digest)
        return None

    @app.on_response(priority=80)
    async def remember(request: Request, response: HTTPResponse) -> None:
        pending = getattr(request.ctx, "idempotency", None)
        if pending is None:
            return
        scope, key, digest = pending
        try:
            if response.status < 500 and isinstance(response.body, bytes | None):
                try:
                    await IdempotencyRecord.create(
                        scope=scope, key=key, request_hash=digest, status=response.status,
                        body=response.body or b"",
                        content_type=response.content_type or "application/json")
                except IntegrityError:
                    pass
        finally:
            await request.app.ctx.kv.delete(f"idem:{scope}:{key}")
