"""The Alibaba Cloudauth adapter against a local server speaking Cloudauth's documented JSON.

The fake checks the ACS3 signature the way the gateway does (the vectors in
test_signing_vectors.py tie that code to Alibaba's own example), refuses a
reused nonce, and keeps InitFaceVerify's sessions for DescribeFaceVerify.
"""

from __future__ import annotations

import collections
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from server.adapters.faceid.alibaba import AlibabaCloudauth
from server.adapters.faceid.base import ExpectedIdentity, ResultQuery, StartRequest
from server.adapters.faceid.signing import acs3_canonical_request, acs3_signature, sha256_hex
from server.errors import UpstreamBadAnswer, UpstreamTimeout, UpstreamUnavailable
from tests import flows

KEY_ID, KEY_SECRET, SCENE = "LTAI5tFaceTests", "alibaba-secret", "1000000006"


@dataclass
class FakeCloudauth:
    calls: collections.Counter = field(default_factory=collections.Counter)
    sessions: dict[str, dict[str, str]] = field(default_factory=dict)
    results: dict[str, tuple[str, str]] = field(default_factory=dict)
    nonces: set[str] = field(default_factory=set)
    throttle: int = 0
    slow: bool = False
    query_strings: list[str] = field(default_factory=list)
    _ids: Any = field(default_factory=itertools.count)

    def _error(self, status: int, code: str) -> web.Response:
        return web.json_response({"RequestId": "req-err", "Code": code, "Message": code},
                                 status=status)

    def _check_signature(self, request: web.Request, body: bytes) -> web.Response | None:
        auth = request.headers.get("Authorization", "")
        parts = dict(p.split("=", 1) for p in auth.removeprefix("ACS3-HMAC-SHA256 ").split(","))
        if parts.get("Credential") != KEY_ID:
            return self._error(404, "InvalidAccessKeyId.NotFound")
        names = parts.get("SignedHeaders", "").split(";")
        if request.headers.get("x-acs-content-sha256") != sha256_hex(body):
            return self._error(400, "ContentSHA256NotMatch")
        signed = {n: request.headers.get(n, "") for n in names}
        canonical, _ = acs3_canonical_request(method=request.method, uri=request.path,
                                              query=request.query_string, headers=signed,
                                              payload_sha256=sha256_hex(body))
        if acs3_signature(KEY_SECRET, canonical) != parts.get("Signature"):
            return self._error(400, "SignatureDoesNotMatch")
        nonce = request.headers.get("x-acs-signature-nonce", "")
        if "x-acs-signature-nonce" not in names or nonce in self.nonces:
            return self._error(400, "SignatureNonceUsed")
        self.nonces.add(nonce)
        return None

    def app(self) -> web.Application:
        async def handle(request: web.Request) -> web.Response:
            body = await request.read()
            self.query_strings.append(request.query_string)
            if (refused := self._check_signature(request, body)) is not None:
                return refused
            action = request.headers.get("x-acs-action", "")
            self.calls[action] += 1
            if request.headers.get("x-acs-version") != "2019-03-07":
                return self._error(400, "InvalidVersion")
            if self.slow:
                import asyncio

                await asyncio.sleep(5)
            if self.throttle:
                self.throttle -= 1
                return self._error(400, "Throttling.User")
            params = dict(parse_qsl(body.decode()))
            if params.get("SceneId") != SCENE:
                return web.json_response({"RequestId": "r", "Code": "401",
                                          "Message": "SceneId"})
            if action == "InitFaceVerify":
                certify_id = f"sha{next(self._ids):029d}"
                self.sessions[certify_id] = params
                return web.json_response({"RequestId": "r-init", "Code": "200",
                                          "Message": "success",
                                          "ResultObject": {"CertifyId": certify_id}})
            if action == "DescribeFaceVerify":
                if params.get("CertifyId") not in self.sessions:
                    return web.json_response({"RequestId": "r", "Code": "401",
                                              "Message": "CertifyId"})
                passed, sub = self.results.get(params["CertifyId"], ("", ""))
                result = {"Passed": passed, "SubCode": sub} if passed else {}
                return web.json_response({"RequestId": "r-describe", "Code": "200",
                                          "Message": "success", "ResultObject": result})
            return self._error(400, "InvalidAction.NotFound")

        app = web.Application()
        app.router.add_post("/", handle)
        return app


@pytest.fixture()
async def alibaba() -> AsyncIterator[tuple[FakeCloudauth, AlibabaCloudauth, str]]:
    fake = FakeCloudauth()
    server = TestServer(fake.app())
    await server.start_server()
    async with aiohttp.ClientSession() as session:
        endpoint = str(server.make_url("/"))
        provider = AlibabaCloudauth(access_key_id=KEY_ID, access_key_secret=KEY_SECRET,
                                    scene_id=SCENE, endpoint=endpoint, session=session,
                                    timeout_s=1.0, retries=2)
        yield fake, provider, endpoint
    await server.close()


WHO = ExpectedIdentity("王建国", flows.make_id_number("421202", "19750312", 351))


async def start(provider: AlibabaCloudauth) -> ResultQuery:
    started = await provider.start(StartRequest(identity=WHO, reference="fv_ali_1",
                                                meta_info='{"zimVer":"3.0.0"}'))
    assert started.client_payload == {"certify_id": started.provider_ref}
    assert started.provider_request_id == "r-init"
    return ResultQuery(started.provider_ref, "fv_ali_1", WHO)


async def test_init_sends_the_identity_in_the_signed_body_not_the_url(alibaba):
    fake, provider, _ = alibaba
    query = await start(provider)
    sent = fake.sessions[query.provider_ref]
    assert (sent["CertName"], sent["CertNo"], sent["OuterOrderNo"]) == \
        ("王建国", WHO.id_number, "fv_ali_1")
    assert (sent["CertType"], sent["ProductCode"]) == ("IDENTITY_CARD", "ID_PRO")
    assert all(WHO.id_number not in q for q in fake.query_strings)


@pytest.mark.parametrize(("answer", "finished", "passed", "reason"), [
    (("T", "200"), True, True, "ok"),
    (("F", "201"), True, False, "id_name_mismatch"),
    (("F", "202"), True, False, "no_identity_record"),
    (("F", "204"), True, False, "low_similarity"),
    (("F", "205"), True, False, "liveness_failed"),
    (("F", "299"), True, False, "provider_refused"),
    (None, False, False, "pending"),
])
async def test_results(alibaba, answer, finished, passed, reason):
    fake, provider, _ = alibaba
    query = await start(provider)
    if answer:
        fake.results[query.provider_ref] = answer
    result = await provider.fetch_result(query)
    assert (result.finished, result.passed, result.reason_code) == (finished, passed, reason)
    assert result.score is None  # Cloudauth reports no similarity
    assert result.provider_request_id == "r-describe"


async def test_wrong_secret_is_503_without_retry(alibaba):
    fake, _, endpoint = alibaba
    async with aiohttp.ClientSession() as session:
        wrong = AlibabaCloudauth(access_key_id=KEY_ID, access_key_secret="nope",
                                 scene_id=SCENE, endpoint=endpoint, session=session,
                                 timeout_s=1.0, retries=2)
        with pytest.raises(UpstreamUnavailable) as caught:
            await wrong.fetch_result(ResultQuery("x", "fv", WHO))
    assert caught.value.details["provider_code"] == "SignatureDoesNotMatch"
    assert len(fake.query_strings) == 1


async def test_throttling_is_retried_with_a_fresh_nonce(alibaba):
    fake, provider, _ = alibaba
    query = await start(provider)
    fake.results[query.provider_ref] = ("T", "200")
    fake.throttle = 2
    assert (await provider.fetch_result(query)).passed
    assert fake.calls["DescribeFaceVerify"] == 3


async def test_start_is_not_retried(alibaba):
    fake, provider, _ = alibaba
    fake.throttle = 1
    with pytest.raises(UpstreamUnavailable):
        await start(provider)
    assert fake.calls["InitFaceVerify"] == 1


async def test_unknown_error_code_is_502(alibaba):
    fake, provider, _ = alibaba
    with pytest.raises(UpstreamBadAnswer) as caught:
        await provider.fetch_result(ResultQuery("unknown-certify-id", "fv", WHO))
    assert caught.value.status == 502 and caught.value.details["provider_code"] == "401"


async def test_timeout_is_504(alibaba):
    fake, provider, _ = alibaba
    query = await start(provider)
    fake.slow = True
    with pytest.raises(UpstreamTimeout):
        await provider.fetch_result(query)


async def test_meta_info_is_required(alibaba):
    _, provider, _ = alibaba
    with pytest.raises(ValueError):
        await provider.start(StartRequest(identity=WHO, reference="fv_x"))
