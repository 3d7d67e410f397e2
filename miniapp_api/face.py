"""``/face-verifications``: start (with consent), complete (server-side result), read."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from server.http.auth import authenticated
from server.http.operations import operation
from server.http.render import json
from server.schemas.miniapp import FaceStartBody, FaceVerificationView
from server.schemas.types import FaceVerificationId

bp = Blueprint("miniapp_face")
TAG = "mini-program: face verification"
_PROVIDER_ERRORS = {502: "upstream_bad_answer", 503: "upstream_unavailable",
                    504: "upstream_timeout"}


@bp.post("/face-verifications", ctx_carries_token=True)
@authenticated
@operation(
    "Start a face verification (consent required)", tag=TAG, body=FaceStartBody,
    description="purpose `bind_identity` (name + id_number required), `sign` or `revoke` "
    "(contract_id required; identity already bound). `client_payload` is what "
    "the phone SDK needs (e.g. `biz_token`).",
    responses={201: FaceVerificationView}, security="bearer",
    errors={400: "invalid_input, invalid_json, consent_required, consent_outdated",
            409: "identity_not_bound, identity_already_bound, wechat_login_required",
            429: "rate_limited", **_PROVIDER_ERRORS})
async def start(request: Request, body: FaceStartBody) -> HTTPResponse:
    face = request.app.ctx.face
    v = await face.start(request.ctx.user_id, body.purpose, consent=body.consent,
                         name=body.name, id_number=body.id_number,
                         contract_id=body.contract_id, meta_info=body.meta_info,
                         consent_text_version=body.consent_text_version)
    return json(face.view(v), status=201)


@bp.post("/face-verifications/<verification_id:str>/complete")
@authenticated
@operation(
    "Query the provider for the result (idempotent once final)", tag=TAG,
    path={"verification_id": FaceVerificationId},
    description="→ `{id, status: passed|failed, reason_code, score?}`; a passed "
    "`bind_identity` binds the identity. 409 `face_verification_pending` while "
    "the phone is not done; 502/503/504 on provider trouble (nothing changes).",
    responses={200: FaceVerificationView}, security="bearer",
    errors={409: "face_verification_pending, identity_already_bound", 429: "rate_limited",
            **_PROVIDER_ERRORS})
async def complete(request: Request, verification_id: str) -> HTTPResponse:
    face = request.app.ctx.face
    v = await face.complete(request.ctx.user_id, verification_id)
    return json(face.view(v))


@bp.get("/face-verifications/<verification_id:str>")
@authenticated
@operation("A face verification of the caller, as stored (no provider query)", tag=TAG,
           path={"verification_id": FaceVerificationId},
           responses={200: FaceVerificationView}, security="bearer")
async def show(request: Request, verification_id: str) -> HTTPResponse:
    face = request.app.ctx.face
    return json(face.view(await face.get(request.ctx.user_id, verification_id)))
