"""The Bearer-token guard of the staff API (``/api/v1/staff``): staff tokens only.

A mini-program token is refused here, and a staff token by every mini-program
route (:mod:`server.http.auth` checks the ``miniapp`` audience), so neither
kind of caller can act as the other.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

from sanic import Request

from server.errors import Unauthenticated
from server.services.staff import StaffPrincipal


async def current_staff(request: Request) -> StaffPrincipal:
    """The calling staff member; 401 when the token is missing or no longer valid."""
    known = getattr(request.ctx, "staff", None)
    if known is not None:
        return known
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("请先登录（工作人员）")
    staff, claims = await request.app.ctx.staff.principal(token.strip())
    request.ctx.staff = staff
    request.ctx.staff_claims = claims
    return staff


def staff_authenticated(handler: Callable[..., Awaitable[Any]]
                        ) -> Callable[..., Awaitable[Any]]:
    """Handlers for staff; sets ``request.ctx.staff``."""

    @wraps(handler)
    async def wrapper(request: Request, *args: Any, **kwargs: Any) -> Any:
        await current_staff(request)
        return await handler(request, *args, **kwargs)

    wrapper.principal_kind = "staff"  # type: ignore[attr-defined]
    return wrapper
