"""Alibaba Cloud 实人认证 (Cloudauth 2019-03-07): ``InitFaceVerify`` / ``DescribeFaceVerify``.

Signed with ACS3-HMAC-SHA256. The RPC parameters travel as a form body rather
than in the query string, so names and ID numbers never appear in a URL (URLs
end up in proxies' access logs). Alibaba reports no similarity score; its
verdict is ``Passed`` plus ``SubCode``.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from server.adapters.faceid import base
from server.adapters.faceid.signing import (
    acs3_authorization,
    acs3_canonical_query,
    acs3_canonical_request,
    acs3_signature,
    sha256_hex,
)
from server.adapters.upstream import (
    Answer,
    bad_answer,
    final,
    request_json,
    retrying,
    unavailable,
)

VERSION = "2019-03-07"
FORM = "application/x-www-form-urlencoded"
CERTIFY_ID_TTL_S = 30 * 60  # documented: valid 30 minutes, usable once

_TRANSIENT = ("Throttling", "ServiceUnavailable", "InternalError", "Forbidden.RAM.Throttling")
_CREDENTIALS = ("SignatureDoesNotMatch", "IncompleteSignature", "InvalidAccessKeyId",
                "Forbidden", "SignatureNonceUsed", "InvalidTimeStamp")

_SUB_CODES: dict[str, str] = {
    "200": base.REASON_OK,
    "201": base.REASON_ID_NAME_MISMATCH,
    "202": base.REASON_NO_IDENTITY_RECORD,
    "204": base.REASON_LOW_SIMILARITY,
    "205": base.REASON_LIVENESS_FAILED,
}


class AlibabaCloudauth(base.FaceProvider):
    name = "alibaba"
    needs_meta_info = True

    def __init__(self, *, access_key_id: str, access_key_secret: str, scene_id: str,
                 endpoint: str, session: aiohttp.ClientSession, timeout_s: float,
                 retries: int, product_code: str = "ID_PRO",
                 now: Callable[[], float] = time.time) -> None:
        self._key_id = access_key_id
        self._secret = access_key_secret
        self._scene_id = scene_id
        parts = urlsplit(endpoint)
        self._url = endpoint
        self._host = parts.netloc
        self._uri = parts.path or "/"
        self._session = session
        self._timeout_s = timeout_s
        self._retries = retries
        self._product_code = product_code
        self._now = now

    def _headers(self, action: str, body: bytes) -> dict[str, str]:
        signed = {
            "host": self._host,
            "content-type": FORM,
            "x-acs-action": action,
            "x-acs-version": VERSION,
            "x-acs-date": datetime.fromtimestamp(self._now(), UTC).strftime(
                "%Y-%m-%dT%H:%M:%SZ"),
            # A fresh nonce per attempt: Alibaba refuses a repeated one (replay guard).
            "x-acs-signature-nonce": secrets.token_hex(16),
            "x-acs-content-sha256": sha256_hex(body),
        }
        canonical, names = acs3_canonical_request(method="POST", uri=self._uri, query="",
                                                  headers=signed,
                                                  payload_sha256=signed["x-acs-content-sha256"])
        signature = acs3_signature(self._secret, canonical)
        return {**signed, "authorization": acs3_authorization(self._key_id, names, signature)}

    async def _call(self, action: str, params: dict[str, str]) -> tuple[Answer, dict[str, Any]]:
        body = acs3_canonical_query(params).encode()
        answer = await request_json(self._session, self.name, "POST", self._url, data=body,
                                    headers=self._headers(action, body),
                                    timeout_s=self._timeout_s)
        code = str(answer.data.get("Code") or "")
        details = {"provider_code": code,
                   "provider_request_id": str(answer.data.get("RequestId") or "")}
        if code == "200":
            result = answer.data.get("ResultObject")
            if not isinstance(result, dict):
                raise bad_answer(self.name, "no ResultObject", **details)
            return answer, result
        if code.startswith(_TRANSIENT):
            raise unavailable(self.name, "transient", **details)
        if code.startswith(_CREDENTIALS) or answer.status in (401, 403):
            raise final(unavailable(self.name, "credentials refused", **details))
        raise bad_answer(self.name, "error answer", **details)

    async def start(self, request: base.StartRequest) -> base.StartedVerification:
        if not request.meta_info:
            raise ValueError("Alibaba face verification needs the client SDK's MetaInfo")
        answer, result = await self._call("InitFaceVerify", {
            "SceneId": self._scene_id,
            "OuterOrderNo": request.reference,
            "ProductCode": self._product_code,
            "Model": "LIVENESS",
            "CertType": "IDENTITY_CARD",
            "CertName": request.identity.name,
            "CertNo": request.identity.id_number,
            "MetaInfo": request.meta_info,
        })
        certify_id = result.get("CertifyId")
        if not isinstance(certify_id, str) or not certify_id:
            raise bad_answer(self.name, "no CertifyId")
        request_id = answer.data.get("RequestId")
        return base.StartedVerification(
            provider_ref=certify_id, client_payload={"certify_id": certify_id},
            expires_at=datetime.fromtimestamp(self._now(), UTC)
            + timedelta(seconds=CERTIFY_ID_TTL_S),
            provider_request_id=str(request_id) if request_id else None)

    async def fetch_result(self, query: base.ResultQuery) -> base.VerificationResult:
        return await retrying(lambda: self._fetch_once(query), self._retries)

    async def _fetch_once(self, query: base.ResultQuery) -> base.VerificationResult:
        answer, result = await self._call("DescribeFaceVerify", {
            "SceneId": self._scene_id, "CertifyId": query.provider_ref})
        request_id = answer.data.get("RequestId")
        common = {"provider_ref": query.provider_ref, "answer_sha256": answer.sha256,
                  "provider_request_id": str(request_id) if request_id else None}
        passed = result.get("Passed")
        sub_code = str(result.get("SubCode") or "")
        if passed not in ("T", "F"):
            return base.VerificationResult(finished=False, passed=False,
                                            reason_code=base.REASON_PENDING, **common)
        if passed == "T":
            return base.VerificationResult(finished=True, passed=True,
                                            reason_code=base.REASON_OK,
                                            provider_code=f"T:{sub_code}", **common)
        reason = _SUB_CODES.get(sub_code, base.REASON_PROVIDER_REFUSED)
        if reason == base.REASON_OK:  # "F" with 200 is contradictory: trust the F
            reason = base.REASON_PROVIDER_REFUSED
        return base.VerificationResult(finished=True, passed=False, reason_code=reason,
                                        provider_code=f"F:{sub_code}", **common)
