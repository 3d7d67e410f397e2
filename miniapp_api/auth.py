"""``/auth/*`` and ``/me``."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi

from server.errors import InvalidInput
from server.http.auth import authenticated
from server.http.body import json_object
from server.http.render import json

bp = Blueprint("miniapp_auth")


def _string(data: dict, key: str, max_len: int = 512) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput({key: "必填"})
    if len(value) > max_len:
        raise InvalidInput({key: f"长度不能超过{max_len}"})
    return value.strip()


def _session_view(request: Request, session) -> dict:
    return {"access_token": session.access_token, "refresh_token": session.refresh_token,
            "token_type": "Bearer", "expires_in": session.expires_in,
            "user": request.app.ctx.accounts.user_view(session.user)}


@bp.post("/auth/login", ctx_carries_token=True)
@openapi.summary("Log in with a host-app code")
@openapi.body({"application/json": {"provider": str, "code": str}})
async def login(request: Request) -> HTTPResponse:
    data = json_object(request)
    session = await request.app.ctx.accounts.login(_string(data, "provider", 32),
                                                   _string(data, "code"))
    return json(_session_view(request, session))


@bp.post("/auth/refresh", ctx_carries_token=True)
@openapi.summary("Rotate the refresh token")
@openapi.body({"application/json": {"refresh_token": str}})
async def refresh(request: Request) -> HTTPResponse:
    data = json_object(request)
    session = await request.app.ctx.accounts.refresh(_string(data, "refresh_token"))
    return json(_session_view(request, session))


@bp.post("/auth/logout")
@openapi.summary("Revoke the access token and its refresh-token family")
@authenticated
async def logout(request: Request) -> HTTPResponse:
    data = json_object(request, optional=True)
    claims = request.ctx.access_claims
    token = data.get("refresh_token") if isinstance(data.get("refresh_token"), str) else None
    await request.app.ctx.accounts.logout(request.ctx.user_id, claims.jti, claims.expires_at,
                                          token)
    return HTTPResponse(status=204)


@bp.get("/me")
@openapi.summary("The current user, with masked identity")
@authenticated
async def me(request: Request) -> HTTPResponse:
    user = await request.app.ctx.accounts.get_user(request.ctx.user_id)
    return json(request.app.ctx.accounts.user_view(user))
