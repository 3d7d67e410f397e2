"""The real Tencent adapter against the sandbox, over HTTP, for every outcome and failure."""

from __future__ import annotations

import collections
import time
from collections.abc import AsyncIterator

import aiohttp
import httpx
import pytest
from aiohttp.test_utils import TestServer

from server.adapters.faceid.base import ExpectedIdentity, ResultQuery, StartRequest
from server.adapters.faceid.tencent import TencentFaceId
from server.errors import UpstreamTimeout, UpstreamUnavailable
from tests import flows
from tests.face.conftest import SECRET_ID, SECRET_KEY
from tests.face.fakes import silent_app


@pytest.fixture()
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def adapter(session: aiohttp.ClientSession, endpoint: str, **overrides) -> TencentFaceId:
    args = {"secret_id": SECRET_ID, "secret_key": SECRET_KEY, "rule_id": "sandbox",
            "region": "ap-guangzhou", "endpoint": endpoint, "session": session,
            "timeout_s": 2.0, "retries": 1, **overrides}
    return TencentFaceId(**args)


def identity() -> ExpectedIdentity:
    return ExpectedIdentity("陈晓明", flows.make_id_number("421281", "19900615"))


async def start_and_scan(face_server, provider: TencentFaceId, who: ExpectedIdentity,
                         outcome: str | None) -> ResultQuery:
    started = await provider.start(StartRequest(identity=who, reference="fv_tencent_test"))
    assert started.client_payload == {"biz_token": started.provider_ref}
    assert started.provider_request_id
    assert started.expires_at.timestamp() == pytest.approx(time.time() + 7200, abs=30)
    if outcome is not None:
        with httpx.Client(base_url=face_server.base_url) as api:
            flows.sandbox_scan(api, {"client_payload": started.client_payload}, outcome)
    return ResultQuery(provider_ref=started.provider_ref, reference="fv_tencent_test",
                       identity=who)


@pytest.mark.parametrize(("outcome", "passed", "reason", "score"), [
    ("pass", True, "ok", 92.36),
    ("low_similarity", False, "low_similarity", 41.27),
    ("id_mismatch", False, "id_name_mismatch", None),
    ("liveness_fail", False, "liveness_failed", None),
])
async def test_outcomes(face_server, session, outcome, passed, reason, score):
    provider = adapter(session, face_server.base_url + "/sandbox/faceid")
    who = identity()
    query = await start_and_scan(face_server, provider, who, outcome)
    result = await provider.fetch_result(query)
    assert (result.finished, result.passed, result.reason_code, result.score) == \
        (True, passed, reason, score)
    assert (result.echoed_name, result.echoed_id_number) == (who.name, who.id_number)
    assert len(result.answer_sha256) == 64 and result.provider_request_id
    assert who.id_number not in repr(result)  # never in logs through a repr


async def test_not_scanned_yet_is_pending(face_server, session):
    provider = adapter(session, face_server.base_url + "/sandbox/faceid")
    result = await provider.fetch_result(await start_and_scan(face_server, provider,
                                                              identity(), None))
    assert (result.finished, result.passed, result.reason_code) == (False, False, "pending")


async def test_expired_token(face_server, session):
    provider = adapter(session, face_server.base_url + "/sandbox/faceid")
    query = await start_and_scan(face_server, provider, identity(), None)
    with httpx.Client(base_url=face_server.base_url) as api:
        assert api.post("/sandbox/faceid/expire",
                        json={"biz_token": query.provider_ref}).status_code == 204
    result = await provider.fetch_result(query)
    assert (result.finished, result.passed, result.reason_code, result.provider_code) == \
        (True, False, "token_expired", "InvalidParameterValue.BizTokenExpired")


async def test_bad_signature_is_503_and_not_retried(face_server, session):
    provider = adapter(session, face_server.base_url + "/sandbox/faceid",
                       secret_key="not-the-key", retries=3)
    with pytest.raises(UpstreamUnavailable) as caught:
        await provider.start(StartRequest(identity=identity(), reference="fv_x"))
    assert caught.value.status == 503
    assert caught.value.details["provider_code"] == "AuthFailure.SignatureFailure"
    started = time.monotonic()
    with pytest.raises(UpstreamUnavailable) as caught:
        await provider.fetch_result(ResultQuery("token", "fv_x", identity()))
    assert caught.value.details["provider_code"] == "AuthFailure.SignatureFailure"
    assert time.monotonic() - started < 1.0  # no back-off: credentials will not heal


async def test_clock_off_by_ten_minutes_is_signature_expire(face_server, session):
    provider = adapter(session, face_server.base_url + "/sandbox/faceid",
                       now=lambda: time.time() - 600)
    with pytest.raises(UpstreamUnavailable) as caught:
        await provider.start(StartRequest(identity=identity(), reference="fv_x"))
    assert caught.value.details["provider_code"] == "AuthFailure.SignatureExpire"


async def test_timeout_start_once_query_retried(session):
    calls: collections.Counter = collections.Counter()
    server = TestServer(silent_app(calls))
    await server.start_server()
    try:
        provider = adapter(session, str(server.make_url("/")), timeout_s=0.3, retries=2)
        with pytest.raises(UpstreamTimeout) as caught:
            await provider.start(StartRequest(identity=identity(), reference="fv_x"))
        assert caught.value.status == 504
        assert sum(calls.values()) == 1  # starting is not idempotent: never retried
        calls.clear()
        with pytest.raises(UpstreamTimeout):
            await provider.fetch_result(ResultQuery("token", "fv_x", identity()))
        assert sum(calls.values()) == 3  # one try and two bounded retries
    finally:
        await server.close()


async def test_unreachable_provider_is_503(session):
    provider = adapter(session, "http://127.0.0.1:9/sandbox/faceid", retries=0)
    with pytest.raises(UpstreamUnavailable):
        await provider.start(StartRequest(identity=identity(), reference="fv_x"))
