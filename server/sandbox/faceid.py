"""The sandbox face-verification provider: the Tencent FaceID server protocol, faithfully.

The API root answers TC3-signed ``DetectAuth`` and ``GetDetectInfoEnhanced``
with the action in ``X-TC-Action``, with HTTP 200 and either the result or
Tencent's error body ``{"Response": {"Error": {"Code", "Message"}, "RequestId"}}``.
It is served twice, and each is signed over the path it is posted to:

- ``POST /``, where the official Tencent Cloud SDKs post (they always use the
  canonical URI ``/`` and sign ``host`` as their endpoint): an SDK whose
  ``HttpProfile`` endpoint is this server's ``host:port`` works unmodified;
- ``POST /sandbox/faceid``, where our own
  :class:`~server.adapters.faceid.tencent.TencentFaceId` adapter is pointed in
  development (it signs over its endpoint's path), so the embedded default
  exercises the production code path over HTTP.

Two endpoints stand in for the phone and for the passing of time:
``POST /sandbox/faceid/scan {biz_token, outcome}`` (what the SDK would report
to Tencent) and ``POST /sandbox/faceid/expire {biz_token}`` (ends a token's
life now, so tests need not wait two hours).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi

from server.adapters.faceid.tencent import SERVICE, VERSION
from server.errors import Conflict, InvalidInput, NotFound
from server.http.body import json_object
from server.http.render import json
from server.sandbox.credentials import sandbox_tencent_credentials
from server.sandbox.tc3_check import TencentApiError, verify_tc3
from server.sandbox.tokens import OUTCOMES, BizToken, SandboxTokens

FACEID_PATH = "/sandbox/faceid"

bp = Blueprint("sandbox_faceid")

# outcome -> (ErrCode, ErrMsg, LiveStatus, Comparestatus, Sim), Tencent's Text codes.
_TEXT: dict[str, tuple[int, str, int, int | None, str | None]] = {
    "pass": (0, "成功", 0, 0, "92.36"),
    "low_similarity": (2016, "比对相似度未达到通过标准", 0, 2016, "41.27"),
    "id_mismatch": (2006, "姓名和身份证号不一致", 0, 2006, None),
    "liveness_fail": (1004, "活体检测未通过", 1004, None, None),
}
_NOT_FINISHED = (17, "流程未完成")


def _tokens(request: Request) -> SandboxTokens:
    return SandboxTokens(request.app.ctx.kv, request.app.ctx.cipher)


def _string_param(params: dict[str, Any], name: str, max_len: int = 256) -> str:
    value = params.get(name)
    if value is None or value == "":
        raise TencentApiError("MissingParameter", f"The request is missing a required "
                                                  f"parameter `{name}`.")
    if not isinstance(value, str) or len(value) > max_len:
        raise TencentApiError("InvalidParameterValue", f"The value of `{name}` is invalid.")
    return value


async def _detect_auth(request: Request, params: dict[str, Any]) -> dict[str, Any]:
    rule_id = _string_param(params, "RuleId", 32)
    # The real service can also OCR the ID card; the sandbox needs the identity given.
    id_card = _string_param(params, "IdCard", 32)
    name = _string_param(params, "Name", 64)
    extra = params.get("Extra") or ""
    if not isinstance(extra, str) or len(extra) > 1024:
        raise TencentApiError("InvalidParameterValue", "The value of `Extra` is invalid.")
    token = str(uuid.uuid4()).upper()
    ttl = request.app.ctx.settings.sandbox_face_token_ttl_s
    await _tokens(request).issue(token, rule_id, name, id_card, extra, ttl)
    return {"BizToken": token, "Url": None}


async def _get_detect_info_enhanced(request: Request, params: dict[str, Any]
                                    ) -> dict[str, Any]:
    token = _string_param(params, "BizToken", 64)
    rule_id = _string_param(params, "RuleId", 32)
    tokens = _tokens(request)
    biz = await tokens.get(token)
    if biz is None or biz.rule_id != rule_id:
        raise TencentApiError("InvalidParameterValue.BizTokenIllegal", "BizToken 不合法。")
    scan = await tokens.scan_of(token)
    if scan is None and biz.expired(time.time()):
        raise TencentApiError("InvalidParameterValue.BizTokenExpired", "BizToken 已过期。")
    return {"Text": _text(tokens, biz, scan.outcome if scan else None), "IdCardData": None,
            "BestFrame": None, "VideoData": None, "Encryption": None}


def _text(tokens: SandboxTokens, biz: BizToken, outcome: str | None) -> dict[str, Any]:
    if outcome is None:
        err, msg = _NOT_FINISHED
        return {"ErrCode": err, "ErrMsg": msg, "IdCard": None, "Name": None,
                "LiveStatus": None, "LiveMsg": None, "Comparestatus": None,
                "Comparemsg": None, "Sim": None, "Extra": biz.extra, "LivenessDetail": []}
    err, msg, live, compare, sim = _TEXT[outcome]
    name, id_card = tokens.identity(biz)
    detail = {"ReqTime": str(int(time.time() * 1000)), "Seq": str(uuid.uuid4()),
              "Idcard": id_card, "Name": name, "Sim": sim, "IsNeedCharge": True,
              "Errcode": err, "Errmsg": msg, "Livestatus": live, "Livemsg": msg,
              "Comparestatus": compare, "Comparemsg": msg if compare is not None else None,
              "CompareLibType": "权威库", "LivenessMode": 1}
    return {"ErrCode": err, "ErrMsg": msg, "IdCard": id_card, "Name": name,
            "LiveStatus": live, "LiveMsg": msg, "Comparestatus": compare,
            "Comparemsg": msg if compare is not None else None, "Sim": sim,
            "Extra": biz.extra, "LivenessDetail": [detail], "CompareLibType": "权威库",
            "LivenessMode": 1, "Location": None, "Mobile": ""}


_ACTIONS: dict[str, Callable[[Request, dict[str, Any]], Awaitable[dict[str, Any]]]] = {
    "DetectAuth": _detect_auth,
    "GetDetectInfoEnhanced": _get_detect_info_enhanced,
}


def _answer(body: dict[str, Any], request_id: str) -> HTTPResponse:
    # Tencent answers API errors with HTTP 200 too; the body says what happened.
    return json({"Response": {**body, "RequestId": request_id}})


@bp.post("/", name="tencent_sdk_root")
@bp.post(FACEID_PATH)
@openapi.summary("Sandbox: Tencent FaceID API root (TC3-signed DetectAuth, "
                 "GetDetectInfoEnhanced); at / for the official SDKs")
async def tencent_api(request: Request) -> HTTPResponse:
    request_id = str(uuid.uuid4())
    app = request.app
    secret_id, secret_key = sandbox_tencent_credentials(app.ctx.settings, app.ctx.secrets)
    try:
        verify_tc3(method=request.method, path=request.path, query=request.query_string,
                   headers=request.headers, body=request.body or b"",
                   credentials={secret_id: secret_key}, service=SERVICE, now=time.time())
        if request.headers.get("x-tc-version") != VERSION:
            raise TencentApiError("NoSuchVersion", "The requested version does not exist.")
        action = _ACTIONS.get(request.headers.get("x-tc-action", ""))
        if action is None:
            raise TencentApiError("InvalidAction", "The action does not exist.")
        try:
            params = orjson.loads(request.body or b"")
        except orjson.JSONDecodeError:
            params = None
        if not isinstance(params, dict):
            raise TencentApiError("InvalidParameter", "The request body is not a JSON object.")
        body = await action(request, params)
    except TencentApiError as exc:
        return _answer({"Error": {"Code": exc.code, "Message": exc.message}}, request_id)
    return _answer(body, request_id)


async def _token_from_body(request: Request) -> tuple[dict[str, Any], BizToken]:
    data = json_object(request)
    token = data.get("biz_token")
    if not isinstance(token, str) or not token:
        raise InvalidInput({"biz_token": "必填"})
    biz = await _tokens(request).get(token)
    if biz is None:
        raise NotFound("BizToken 不存在", code="biz_token_not_found")
    return data, biz


@bp.post(FACEID_PATH + "/scan")
@openapi.summary("Sandbox: the phone's face scan, with a chosen outcome")
@openapi.body({"application/json": {"biz_token": str, "outcome": str}})
async def scan(request: Request) -> HTTPResponse:
    data, biz = await _token_from_body(request)
    outcome = data.get("outcome")
    if outcome not in OUTCOMES:
        raise InvalidInput({"outcome": f"可选：{', '.join(OUTCOMES)}"})
    tokens = _tokens(request)
    if biz.expired(time.time()):
        raise Conflict("BizToken 已过期", code="biz_token_expired")
    if not await tokens.record_scan(biz, outcome):
        raise Conflict("该 BizToken 已完成核身", code="already_scanned")
    return HTTPResponse(status=204)


@bp.post(FACEID_PATH + "/expire")
@openapi.summary("Sandbox: end a BizToken's life now (instead of waiting for it)")
@openapi.body({"application/json": {"biz_token": str}})
async def expire(request: Request) -> HTTPResponse:
    _, biz = await _token_from_body(request)
    await _tokens(request).expire_now(biz)
    return HTTPResponse(status=204)
