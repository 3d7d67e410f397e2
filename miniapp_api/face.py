"""``/face-verifications``: start (with consent), complete (server-side result), read."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi

from server.http.auth import authenticated
from server.http.body import json_object
from server.http.render import json

bp = Blueprint("miniapp_face")


@bp.post("/face-verifications", ctx_carries_token=True)
@openapi.summary("Start a face verification (consent required)")
@openapi.description("purpose `bind_identity` (name + id_number required), `sign` or `revoke` "
                     "(contract_id required; identity already bound). `client_payload` is what "
                     "the phone SDK needs (e.g. `biz_token`). 201 with "
                     "`{id, provider, client_payload, expires_at, status, identity (masked)}`.")
@openapi.body({"application/json": {"purpose": str, "consent": bool, "name": str,
                                    "id_number": str, "contract_id": str,
                                    "consent_text_version": str, "meta_info": str}})
@authenticated
async def start(request: Request) -> HTTPResponse:
    data = json_object(request)
    face = request.app.ctx.face
    v = await face.start(request.ctx.user_id, data.get("purpose"), consent=data.get("consent"),
                         name=data.get("name"), id_number=data.get("id_number"),
                         contract_id=data.get("contract_id"), meta_info=data.get("meta_info"),
                         consent_text_version=data.get("consent_text_version"))
    return json(face.view(v), status=201)


@bp.post("/face-verifications/<verification_id:str>/complete")
@openapi.summary("Query the provider for the result (idempotent once final)")
@openapi.description("→ `{id, status: passed|failed, reason_code, score?}`; a passed "
                     "`bind_identity` binds the identity. 409 `face_verification_pending` while "
                     "the phone is not done; 502/503/504 on provider trouble (nothing changes).")
@authenticated
async def complete(request: Request, verification_id: str) -> HTTPResponse:
    face = request.app.ctx.face
    v = await face.complete(request.ctx.user_id, verification_id)
    return json(face.view(v))


@bp.get("/face-verifications/<verification_id:str>")
@openapi.summary("A face verification of the caller, as stored (no provider query)")
@authenticated
async def show(request: Request, verification_id: str) -> HTTPResponse:
    face = request.app.ctx.face
    return json(face.view(await face.get(request.ctx.user_id, verification_id)))
