"""``/auth/*`` and ``/me``."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from server.http.auth import authenticated
from server.http.operations import operation
from server.http.render import json
from server.schemas.miniapp import LoginBody, LogoutBody, RefreshBody, Session, UserView

bp = Blueprint("miniapp_auth")
TAG = "mini-program: account"


def _session_view(request: Request, session) -> dict:
    return {"access_token": session.access_token, "refresh_token": session.refresh_token,
            "token_type": "Bearer", "expires_in": session.expires_in,
            "user": request.app.ctx.accounts.user_view(session.user)}


@bp.post("/auth/login", ctx_carries_token=True)
@operation("Log in with a host-app code", tag=TAG, body=LoginBody,
           responses={200: Session},
           errors={400: "invalid_input, invalid_json, unknown_provider", 401: "login_rejected",
                   429: "rate_limited", 502: "upstream_bad_answer",
                   503: "upstream_unavailable", 504: "upstream_timeout"})
async def login(request: Request, body: LoginBody) -> HTTPResponse:
    session = await request.app.ctx.accounts.login(body.provider.strip(), body.code.strip())
    return json(_session_view(request, session))


@bp.post("/auth/refresh", ctx_carries_token=True)
@operation("Rotate the refresh token", tag=TAG, body=RefreshBody, responses={200: Session},
           errors={401: "invalid_refresh_token, refresh_token_reused"})
async def refresh(request: Request, body: RefreshBody) -> HTTPResponse:
    session = await request.app.ctx.accounts.refresh(body.refresh_token)
    return json(_session_view(request, session))


@bp.post("/auth/logout")
@authenticated
@operation("Revoke the access token and its refresh-token family", tag=TAG, body=LogoutBody,
           body_optional=True, responses={204: None}, security="bearer")
async def logout(request: Request, body: LogoutBody) -> HTTPResponse:
    claims = request.ctx.access_claims
    await request.app.ctx.accounts.logout(request.ctx.user_id, claims.jti, claims.expires_at,
                                          body.refresh_token)
    return HTTPResponse(status=204)


@bp.get("/me")
@authenticated
@operation("The current user, with masked identity", tag=TAG, responses={200: UserView},
           security="bearer")
async def me(request: Request) -> HTTPResponse:
    user = await request.app.ctx.accounts.get_user(request.ctx.user_id)
    return json(request.app.ctx.accounts.user_view(user))
