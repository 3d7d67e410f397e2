"""The Bearer-token guard of the mini-program API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

from sanic import Request

from server.auth.tokens import InvalidToken
from server.errors import Unauthenticated


async def current_user_id(request: Request) -> str:
    """The caller's user id from the Bearer token; 401 when missing, invalid or revoked.

    Checked once per request: the idempotency layer authenticates before the
    handler's guard does, and the guard then reuses the answer.
    """
    known = getattr(request.ctx, "user_id", None)
    if known is not None:
        return known
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated()
    accounts = request.app.ctx.accounts
    try:
        claims = accounts.tokens.verify(token.strip())
    except InvalidToken:
        raise Unauthenticated("登录已失效，请重新登录", code="invalid_token") from None
    if await accounts.is_access_revoked(claims.jti):
        raise Unauthenticated("登录已失效，请重新登录", code="invalid_token")
    request.ctx.user_id = claims.user_id
    request.ctx.access_claims = claims
    return claims.user_id


def authenticated(handler: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """Handlers that need a logged-in user; sets ``request.ctx.user_id``."""

    @wraps(handler)
    async def wrapper(request: Request, *args: Any, **kwargs: Any) -> Any:
        await current_user_id(request)
        return await handler(request, *args, **kwargs)

    wrapper.principal_kind = "user"  # type: ignore[attr-defined]
    return wrapper


def identity_bound(handler: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """After :func:`authenticated`: the caller must have bound a real identity (else 403
    ``identity_not_bound``), checked before the body so that the answer does not depend on it."""

    @wraps(handler)
    async def wrapper(request: Request, *args: Any, **kwargs: Any) -> Any:
        from server.services.contracts.access import bound_user

        await bound_user(request.ctx.user_id)
        return await handler(request, *args, **kwargs)

    return wrapper
