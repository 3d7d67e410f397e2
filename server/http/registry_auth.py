"""How a registration office's system authenticates: OAuth2 client credentials → ES256 JWT.

Tokens are signed with the service's ES256 key like the mini-program's access
tokens, but carry ``aud: registry`` and ``typ: registry_access``, so neither
kind is accepted in place of the other. As there, the header is checked
before the signature: only ``alg: ES256`` with our ``kid`` passes, which
refuses ``alg: none`` and HS256-with-the-public-key forgeries; python-jose
then verifies with an explicit ``algorithms=["ES256"]`` allow-list.

Each request re-reads the client row, so disabling a client takes effect
at once, and the client's region comes from the database, not the token.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any
from urllib.parse import unquote_plus

from sanic import Request

from server.auth.tokens import Es256Codec, InvalidToken
from server.errors import ApiError, Forbidden, InvalidInput, Unauthenticated
from server.http.body import json_object
from server.http.validation import validate
from server.schemas.registry import TokenAnswer, TokenBody

AUDIENCE = "registry"
TOKEN_TYPE = "registry_access"
_BEARER_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="registry", error="invalid_token"'}


# What a client-credentials token endpoint takes and answers (``@operation(**…)``).
TOKEN_OPERATION: dict[str, Any] = {
    "raw_body": {"application/json": {"$ref": "#/components/schemas/TokenBody"},
                 "application/x-www-form-urlencoded": {"$ref": "#/components/schemas/TokenBody"}},
    "responses": {200: TokenAnswer},
    "errors": {400: "invalid_request, unsupported_grant_type, invalid_scope (RFC 6749 §5.2)",
               401: "invalid_client", 429: "temporarily_unavailable"},
    "models": (TokenBody,),
}


@dataclass(frozen=True)
class RegistryPrincipal:
    client_id: str
    region_code: str
    scopes: frozenset[str]


class ClientTokens:
    """Access tokens of one kind of machine client: an audience and a ``typ`` of its own,
    with the client's region and scopes (and any further claims) inside."""

    audience = AUDIENCE
    token_type = TOKEN_TYPE

    def __init__(self, private_key_pem: bytes, key_id: str, ttl_s: int) -> None:
        self._codec = Es256Codec(private_key_pem, key_id, self.audience, self.token_type)
        self.key_id = key_id
        self.ttl_s = ttl_s

    def issue(self, client_id: str, region_code: str, scopes: list[str],
              now: int | None = None, **extra: Any) -> str:
        token, _ = self._codec.encode(client_id, self.ttl_s, now, region=region_code,
                                      scope=" ".join(scopes), **extra)
        return token

    def verify(self, token: str) -> dict[str, Any]:
        claims = self._codec.decode(token)
        if not isinstance(claims.get("scope"), str):
            raise InvalidToken(f"not a {self.token_type} token")
        return claims


class RegistryTokens(ClientTokens):
    """Registration offices' access tokens: audience ``registry``, with region and scopes."""


def bearer_claims(request: Request, tokens: ClientTokens, realm: str) -> dict[str, Any]:
    """The verified claims of the request's Bearer token; 401 (with a challenge) if none."""
    challenge = {"WWW-Authenticate": f'Bearer realm="{realm}", error="invalid_token"'}
    header = request.headers.get("authorization", "")
    kind, _, token = header.partition(" ")
    if kind.lower() != "bearer" or not token.strip():
        raise Unauthenticated("需要访问令牌", code="unauthenticated", headers=challenge)
    try:
        return tokens.verify(token.strip())
    except InvalidToken:
        raise Unauthenticated("访问令牌无效或已过期", code="invalid_token",
                              headers=challenge) from None


@dataclass(frozen=True)
class ClientCredentials:
    client_id: str
    client_secret: str
    scope: str | None


def _basic(header: str) -> tuple[str, str] | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthenticated("客户端凭证无效", code="invalid_client") from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise Unauthenticated("客户端凭证无效", code="invalid_client")
    # RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
    return unquote_plus(client_id), unquote_plus(secret)


def client_credentials(request: Request) -> ClientCredentials:
    """Read ``{client_id, client_secret}`` from HTTP Basic, a form, or a JSON body."""
    ctype = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if ctype == "application/x-www-form-urlencoded":
        body: dict[str, Any] = {k: v[0] for k, v in request.form.items() if v}
    elif (request.body or b"").strip():
        body = json_object(request)
    else:
        body = {}
    grant = body.get("grant_type")
    if grant is not None and grant != "client_credentials":
        raise ApiError("仅支持 client_credentials 授权方式", code="unsupported_grant_type")
    scope = body.get("scope")
    if scope is not None and not isinstance(scope, str):
        raise InvalidInput({"scope": "应为以空格分隔的字符串"})
    basic = _basic(request.headers.get("authorization", ""))
    if basic is not None:
        if body.get("client_secret") is not None:
            raise ApiError("只能使用一种客户端认证方式", code="invalid_request")
        body = {**body, "client_id": basic[0], "client_secret": basic[1]}
    # Length and character class before any lookup (a NUL would break PostgreSQL).
    creds = validate(TokenBody, body)
    return ClientCredentials(creds.client_id, creds.client_secret, scope)


async def client_token_answer(request: Request, clients: Any, tokens: ClientTokens,
                              **claims: Callable[[Any], Any]) -> dict[str, Any]:
    """The client-credentials grant (RFC 6749 §4.4) for one kind of client: ``clients``
    authenticates and says each client's scopes (``scopes_of``); ``claims`` add claims
    to the token, each computed from the client row. Errors are raised for the caller's
    route to render in the RFC 6749 §5.2 form."""
    from server.http.peer import client_address

    creds = client_credentials(request)
    client = await clients.authenticate(creds.client_id, creds.client_secret,
                                        client_address(request))
    allowed = clients.scopes_of(client)
    scopes = allowed
    if creds.scope:
        scopes = creds.scope.split()
        if not set(scopes) <= set(allowed):
            raise ApiError("申请的权限超出该客户端的授权范围", code="invalid_scope",
                           details={"allowed": allowed})
    access = tokens.issue(client.client_id, client.region_code, scopes,
                          **{name: claim(client) for name, claim in claims.items()})
    return {"access_token": access, "token_type": "Bearer", "expires_in": tokens.ttl_s,
            "scope": " ".join(scopes)}


async def registry_principal(request: Request, scope: str) -> RegistryPrincipal:
    """The calling office, from its Bearer token; 401 if invalid, 403 without ``scope``."""
    known: RegistryPrincipal | None = getattr(request.ctx, "registry", None)
    if known is not None and scope in known.scopes:
        return known
    claims = bearer_claims(request, request.app.ctx.registry_tokens, "registry")
    client = await request.app.ctx.registry_clients.enabled(claims["sub"])
    if client is None or client.region_code != claims.get("region"):
        raise Unauthenticated("访问令牌无效或已过期", code="invalid_token",
                              headers=_BEARER_CHALLENGE)
    granted = frozenset(claims["scope"].split()) & frozenset(client.scopes.split())
    if scope not in granted:
        raise Forbidden(f"访问令牌缺少权限 {scope}", code="insufficient_scope")
    principal = RegistryPrincipal(client.client_id, client.region_code, granted)
    request.ctx.registry = principal
    return principal


def registry_scope(scope: str) -> Callable[[Callable[..., Awaitable[Any]]],
                                           Callable[..., Awaitable[Any]]]:
    """Decorator for registry handlers; sets ``request.ctx.registry`` (a principal)."""

    def decorate(handler: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        @wraps(handler)
        async def wrapper(request: Request, *args: Any, **kwargs: Any) -> Any:
            await registry_principal(request, scope)
            return await handler(request, *args, **kwargs)

        wrapper.principal_kind = "registry"  # type: ignore[attr-defined]
        wrapper.registry_scope = scope  # type: ignore[attr-defined]
        return wrapper

    return decorate
