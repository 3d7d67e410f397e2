"""Tencent Cloud FaceID (慧眼人脸核身): ``DetectAuth`` and ``GetDetectInfoEnhanced``, TC3-signed.

The same class talks to the real service and to our sandbox
(:mod:`server.sandbox`), which speaks the same protocol at another URL: the
canonical URI is the endpoint's path, so a sandbox under ``/sandbox/faceid``
is signed exactly as Tencent's ``/`` is.

Only text results are ever requested (``InfoType`` "1"): no best frame, no
video, so no face image reaches this process at all.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import orjson

from server.adapters.faceid import base
from server.adapters.faceid.signing import tc3_authorization, tc3_canonical_request
from server.adapters.upstream import (
    Answer,
    bad_answer,
    final,
    request_json,
    retrying,
    unavailable,
)

SERVICE = "faceid"
VERSION = "2018-03-01"
CONTENT_TYPE = "application/json; charset=utf-8"
BIZ_TOKEN_TTL_S = 7200  # documented life of a BizToken

# Error-code families that say "try again later" rather than "you are wrong".
_TRANSIENT = ("InternalError", "RequestLimitExceeded", "ResourceUnavailable",
              "ResourceInsufficient", "LimitExceeded")

# Text.ErrCode -> our reason code. 0 passes; 17 (flow not finished) means pending.
_TEXT_REASONS: dict[int, str] = {
    15: base.REASON_TOKEN_EXPIRED,
    16: base.REASON_RETRY_LIMIT,
    2006: base.REASON_ID_NAME_MISMATCH,
    2016: base.REASON_LOW_SIMILARITY,
    **{code: base.REASON_LIVENESS_FAILED for code in range(1001, 1009)},
}
_PENDING_CODES = (17,)

# API-level errors of GetDetectInfoEnhanced that are a verdict, not a failure.
_ERROR_VERDICTS: dict[str, str] = {
    "InvalidParameterValue.BizTokenExpired": base.REASON_TOKEN_EXPIRED,
    "InvalidParameterValue.BizTokenIllegal": base.REASON_TOKEN_INVALID,
    "FailedOperation.CompareLowSimilarity": base.REASON_LOW_SIMILARITY,
    "FailedOperation.IdNameMisMatch": base.REASON_ID_NAME_MISMATCH,
}


class TencentFaceId(base.FaceProvider):
    echoes_identity = True
    reports_score = True

    def __init__(self, *, secret_id: str, secret_key: str, rule_id: str, region: str,
                 endpoint: str, session: aiohttp.ClientSession, timeout_s: float,
                 retries: int, name: str = "tencent", token_ttl_s: int = BIZ_TOKEN_TTL_S,
                 client_extra: dict[str, Any] | None = None,
                 now: Callable[[], float] = time.time) -> None:
        self.name = name
        self._secret_id = secret_id
        self._secret_key = secret_key
        self._rule_id = rule_id
        self._region = region
        parts = urlsplit(endpoint)
        self._url = endpoint
        self._host = parts.netloc
        self._uri = parts.path or "/"
        self._session = session
        self._timeout_s = timeout_s
        self._retries = retries
        self._token_ttl_s = token_ttl_s
        self._client_extra = client_extra or {}
        self._now = now

    def _headers(self, action: str, body: bytes) -> dict[str, str]:
        ts = int(self._now())
        # Sign content-type and host only, as Tencent's SDKs do: a proxy that keeps
        # those two keeps the signature valid.
        canonical, signed = tc3_canonical_request(
            method="POST", uri=self._uri, query="",
            headers={"content-type": CONTENT_TYPE, "host": self._host}, body=body)
        return {
            "Authorization": tc3_authorization(secret_id=self._secret_id,
                                               secret_key=self._secret_key, service=SERVICE,
                                               timestamp=ts, canonical_request=canonical,
                                               signed_headers=signed),
            "Content-Type": CONTENT_TYPE,
            "Host": self._host,
            "X-TC-Action": action,
            "X-TC-Timestamp": str(ts),
            "X-TC-Version": VERSION,
            "X-TC-Region": self._region,
        }

    async def _call(self, action: str, params: dict[str, Any]
                    ) -> tuple[Answer, dict[str, Any], str | None]:
        """One signed call; returns the answer, its ``Response`` and the error code if any."""
        body = orjson.dumps(params)
        answer = await request_json(self._session, self.name, "POST", self._url, data=body,
                                    headers=self._headers(action, body),
                                    timeout_s=self._timeout_s)
        response = answer.data.get("Response")
        if not isinstance(response, dict):
            raise bad_answer(self.name, "no Response object", http_status=answer.status)
        error = response.get("Error")
        code = None
        if error is not None:
            code = error.get("Code") if isinstance(error, dict) else None
            if not isinstance(code, str):
                raise bad_answer(self.name, "malformed Error")
        return answer, response, code

    def _raise_for(self, code: str, request_id: Any) -> None:
        details = {"provider_code": code, "provider_request_id": str(request_id or "")}
        if code.startswith("AuthFailure"):
            # Our credentials or clock: no retry will help, and nothing the user can fix.
            raise final(unavailable(self.name, "credentials refused", **details))
        if code.startswith(_TRANSIENT):
            raise unavailable(self.name, "transient", **details)
        raise bad_answer(self.name, "error answer", **details)

    async def start(self, request: base.StartRequest) -> base.StartedVerification:
        params = {"RuleId": self._rule_id, "IdCard": request.identity.id_number,
                  "Name": request.identity.name, "Extra": request.reference}
        _, response, code = await self._call("DetectAuth", params)
        request_id = response.get("RequestId")
        if code is not None:
            self._raise_for(code, request_id)
        token = response.get("BizToken")
        if not isinstance(token, str) or not token:
            raise bad_answer(self.name, "no BizToken")
        expires = datetime.fromtimestamp(self._now(), UTC) + timedelta(seconds=self._token_ttl_s)
        return base.StartedVerification(
            provider_ref=token, client_payload={"biz_token": token, **self._client_extra},
            expires_at=expires, provider_request_id=str(request_id) if request_id else None)

    async def fetch_result(self, query: base.ResultQuery) -> base.VerificationResult:
        return await retrying(lambda: self._fetch_once(query), self._retries)

    async def _fetch_once(self, query: base.ResultQuery) -> base.VerificationResult:
        params = {"BizToken": query.provider_ref, "RuleId": self._rule_id, "InfoType": "1"}
        answer, response, code = await self._call("GetDetectInfoEnhanced", params)
        request_id = response.get("RequestId")
        request_id = str(request_id) if request_id else None
        if code is not None:
            reason = _ERROR_VERDICTS.get(code)
            if reason is None:
                self._raise_for(code, request_id)
            return base.VerificationResult(
                finished=True, passed=False, reason_code=reason, provider_ref=query.provider_ref,
                answer_sha256=answer.sha256, provider_request_id=request_id, provider_code=code)
        text = response.get("Text")
        if not isinstance(text, dict):
            raise bad_answer(self.name, "no Text")
        return self._from_text(text, answer, query.provider_ref, request_id)

    def _from_text(self, text: dict[str, Any], answer: Answer, ref: str,
                   request_id: str | None) -> base.VerificationResult:
        raw_code = text.get("ErrCode")
        common = {"provider_ref": ref, "answer_sha256": answer.sha256,
                  "provider_request_id": request_id}
        if raw_code is None:
            return base.VerificationResult(finished=False, passed=False,
                                            reason_code=base.REASON_PENDING, **common)
        try:
            err = int(raw_code)
        except (TypeError, ValueError):
            raise bad_answer(self.name, "ErrCode not a number") from None
        if err in _PENDING_CODES:
            return base.VerificationResult(finished=False, passed=False,
                                            reason_code=base.REASON_PENDING,
                                            provider_code=str(err), **common)
        score = _similarity(text.get("Sim"))
        if err == 0 and score is None:
            raise bad_answer(self.name, "passed without Sim")
        name, id_card = text.get("Name"), text.get("IdCard")
        return base.VerificationResult(
            finished=True, passed=err == 0,
            reason_code=base.REASON_OK if err == 0 else _TEXT_REASONS.get(
                err, base.REASON_PROVIDER_REFUSED),
            provider_code=str(err), score=score,
            echoed_name=name if isinstance(name, str) else None,
            echoed_id_number=id_card if isinstance(id_card, str) else None, **common)


def _similarity(value: Any) -> float | None:
    """``Sim`` is a string such as "92.35"; missing or unparsable means no score."""
    if value is None or value == "":
        return None
    try:
        score = float(value)
    except (TypeError, ValueError):
        return None
    return score if 0.0 <= score <= 100.0 else None
