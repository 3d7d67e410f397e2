"""How an agency's system (tax, bank, public security, provident fund) authenticates:
OAuth2 client credentials → an ES256 JWT of its own audience.

The same grant and token format as the registration offices'
(:mod:`server.http.registry_auth`), with ``aud: agency`` and ``typ:
agency_access``, so an agency's token is refused by the registry API and the
other way round. Each request re-reads the client row: disabling a client takes
effect at once, and its region and kind come from the database, not the token.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from sanic import Request

from server.errors import Unauthenticated
from server.http.registry_auth import ClientTokens, bearer_claims

REALM = "agency"


class AgencyTokens(ClientTokens):
    """Agencies' access tokens: audience ``agency``, with region, kind and scope."""

    audience = "agency"
    token_type = "agency_access"


@dataclass(frozen=True)
class AgencyPrincipal:
    client_id: str
    name: str
    kind: str
    region_code: str


async def agency_principal(request: Request) -> AgencyPrincipal:
    """The calling agency, from its Bearer token; 401 if invalid or disabled."""
    known: AgencyPrincipal | None = getattr(request.ctx, "agency", None)
    if known is not None:
        return known
    claims = bearer_claims(request, request.app.ctx.agency_tokens, REALM)
    client = await request.app.ctx.agency_clients.enabled(claims["sub"])
    if client is None or client.region_code != claims.get("region") \
            or client.kind != claims.get("kind"):
        raise Unauthenticated("访问令牌无效或已过期", code="invalid_token", headers={
            "WWW-Authenticate": f'Bearer realm="{REALM}", error="invalid_token"'})
    principal = AgencyPrincipal(client.client_id, client.name, client.kind, client.region_code)
    request.ctx.agency = principal
    return principal


def agency_client(handler: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """Handlers for agencies; sets ``request.ctx.agency`` (a principal)."""

    @wraps(handler)
    async def wrapper(request: Request, *args: Any, **kwargs: Any) -> Any:
        await agency_principal(request)
        return await handler(request, *args, **kwargs)

    wrapper.principal_kind = "agency"  # type: ignore[attr-defined]
    return wrapper
