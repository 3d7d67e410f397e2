"""WeChat mini-program 人脸核身 (v2): ``getverifyid`` / ``queryverifyinfo`` with ``cert_hash``.

Both calls need the mini-program's access token. It is fetched with
``/cgi-bin/stable_token`` (the variant that does not invalidate tokens other
workers hold), kept in the key-value store so every worker shares it until
shortly before it expires, and fetched again when WeChat says it is invalid
(40001) or expired (42001). Those two answers mean the call was not executed,
so repeating it once with a fresh token is safe even for ``getverifyid``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from server.adapters.faceid import base
from server.adapters.faceid.signing import wechat_cert_hash
from server.adapters.upstream import (
    Answer,
    bad_answer,
    final,
    request_json,
    retrying,
    unavailable,
)
from server.kv import KeyValueStore

CERT_TYPE = "IDENTITY_CARD"
_TOKEN_INVALID = (40001, 42001, 40014)  # invalid, expired, malformed access token
_SYSTEM_BUSY = (-1, 45009, 45011)  # busy, daily limit, frequency limit
_CONFIG_WRONG = (40013, 40125, 40164, 41002, 41004, 61024)  # app id / secret / IP whitelist

# verify_ret -> reason. Passed only when errcode == 0 and verify_ret == 10000.
_VERIFY_RET: dict[int, str] = {
    10000: base.REASON_OK,
    10001: base.REASON_PROVIDER_REFUSED,
    10002: base.REASON_LIVENESS_FAILED,
    10003: base.REASON_ID_NAME_MISMATCH,
    10004: base.REASON_LOW_SIMILARITY,
}


class WeChatFace(base.FaceProvider):
    name = "wechat"
    needs_subject = True

    def __init__(self, *, app_id: str, app_secret: str, endpoint: str,
                 session: aiohttp.ClientSession, kv: KeyValueStore, timeout_s: float,
                 retries: int) -> None:
        self._app_id = app_id
        self._secret = app_secret
        self._endpoint = endpoint.rstrip("/")
        self._session = session
        self._kv = kv
        self._timeout_s = timeout_s
        self._retries = retries
        self._cache_key = f"faceid:wechat:access-token:{app_id}"

    # --- access token -----------------------------------------------------------

    async def _fetch_token(self, force_refresh: bool) -> tuple[str, int]:
        answer = await request_json(
            self._session, self.name, "POST", f"{self._endpoint}/cgi-bin/stable_token",
            json={"grant_type": "client_credential", "appid": self._app_id,
                  "secret": self._secret, "force_refresh": force_refresh},
            timeout_s=self._timeout_s)
        errcode = answer.data.get("errcode") or 0
        if errcode in _SYSTEM_BUSY:
            raise unavailable(self.name, "token busy", provider_code=str(errcode))
        if errcode:
            raise final(unavailable(self.name, "token refused", provider_code=str(errcode)))
        token, expires_in = answer.data.get("access_token"), answer.data.get("expires_in")
        if not isinstance(token, str) or not token or not isinstance(expires_in, int):
            raise bad_answer(self.name, "no access_token")
        return token, expires_in

    async def _access_token(self, rejected: str | None = None) -> str:
        if rejected is None:
            cached = await self._kv.get(self._cache_key)
            if cached:
                return cached.decode()
        token, expires_in = await self._fetch_token(force_refresh=False)
        if token == rejected:
            # WeChat still hands out the token it just refused: only a forced refresh
            # (limited to a few a day) gets a new one.
            token, expires_in = await self._fetch_token(force_refresh=True)
        # Refresh a minute early: WeChat keeps the old token valid for 5 minutes anyway.
        await self._kv.set(self._cache_key, token.encode(), ttl=max(1, expires_in - 60))
        return token

    async def _call(self, path: str, payload: dict[str, Any]) -> Answer:
        token = await self._access_token()
        answer = await self._post(path, token, payload)
        if answer.data.get("errcode") in _TOKEN_INVALID:
            answer = await self._post(path, await self._access_token(rejected=token), payload)
        errcode = answer.data.get("errcode") or 0
        if errcode in _SYSTEM_BUSY:
            raise unavailable(self.name, "busy", provider_code=str(errcode))
        if errcode in _CONFIG_WRONG or errcode in _TOKEN_INVALID:
            raise final(unavailable(self.name, "credentials refused",
                                    provider_code=str(errcode)))
        return answer

    async def _post(self, path: str, token: str, payload: dict[str, Any]) -> Answer:
        return await request_json(self._session, self.name, "POST", f"{self._endpoint}{path}",
                                  params={"access_token": token}, json=payload,
                                  timeout_s=self._timeout_s)

    # --- the two calls ---------------------------------------------------------------

    async def start(self, request: base.StartRequest) -> base.StartedVerification:
        if not request.subject:
            raise ValueError("WeChat face verification needs the user's openid")
        answer = await self._call("/cityservice/face/identify/getverifyid", {
            "out_seq_no": request.reference,
            "cert_info": {"cert_type": CERT_TYPE, "cert_name": request.identity.name,
                          "cert_no": request.identity.id_number},
            "openid": request.subject,
        })
        errcode = answer.data.get("errcode") or 0
        verify_id = answer.data.get("verify_id")
        if errcode or not isinstance(verify_id, str) or not verify_id:
            raise bad_answer(self.name, "getverifyid refused", provider_code=str(errcode))
        expires_in = answer.data.get("expires_in")
        ttl = expires_in if isinstance(expires_in, int) and expires_in > 0 else 3600
        return base.StartedVerification(
            provider_ref=verify_id, client_payload={"verify_id": verify_id},
            expires_at=datetime.now(UTC) + timedelta(seconds=ttl))

    async def fetch_result(self, query: base.ResultQuery) -> base.VerificationResult:
        return await retrying(lambda: self._fetch_once(query), self._retries)

    async def _fetch_once(self, query: base.ResultQuery) -> base.VerificationResult:
        if not query.subject:
            raise ValueError("WeChat face verification needs the user's openid")
        answer = await self._call("/cityservice/face/identify/queryverifyinfo", {
            "verify_id": query.provider_ref,
            "out_seq_no": query.reference,
            "cert_hash": wechat_cert_hash(CERT_TYPE, query.identity.name,
                                          query.identity.id_number),
            "openid": query.subject,
        })
        common = {"provider_ref": query.provider_ref, "answer_sha256": answer.sha256}
        errcode = answer.data.get("errcode") or 0
        if errcode:
            # e.g. cert_hash or openid not those the verification was opened for
            return base.VerificationResult(finished=True, passed=False,
                                            reason_code=base.REASON_PROVIDER_REFUSED,
                                            provider_code=f"errcode:{errcode}", **common)
        ret = answer.data.get("verify_ret")
        if not ret:
            return base.VerificationResult(finished=False, passed=False,
                                            reason_code=base.REASON_PENDING, **common)
        if not isinstance(ret, int):
            raise bad_answer(self.name, "verify_ret not a number")
        if ret >= 90000:
            reason = base.REASON_CANCELLED  # 9xxxx: the phone side gave up or failed
        else:
            reason = _VERIFY_RET.get(ret, base.REASON_PROVIDER_REFUSED)
        return base.VerificationResult(finished=True, passed=ret == 10000, reason_code=reason,
                                        provider_code=f"verify_ret:{ret}", **common)
