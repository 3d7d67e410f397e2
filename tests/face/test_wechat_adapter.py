"""The WeChat 人脸核身 v2 adapter against a local server speaking WeChat's documented JSON."""

from __future__ import annotations

import collections
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from server.adapters.faceid.base import ExpectedIdentity, ResultQuery, StartRequest
from server.adapters.faceid.signing import wechat_cert_hash
from server.adapters.faceid.wechat import WeChatFace
from server.errors import UpstreamTimeout, UpstreamUnavailable
from server.kv.memory import MemoryStore
from tests import flows

APP_ID, APP_SECRET = "wx1234567890abcdef", "s3cret"
OPENID = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"


@dataclass
class FakeWeChat:
    """Keeps what WeChat would: the valid token, the verify sessions and their results."""

    token: str = ""  # what stable_token hands out (unless forced to make a new one)
    revoked: set[str] = field(default_factory=set)
    calls: collections.Counter = field(default_factory=collections.Counter)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    results: dict[str, int] = field(default_factory=dict)
    next_errcode: list[int] = field(default_factory=list)
    slow: bool = False
    _ids: Any = field(default_factory=itertools.count)

    def new_token(self) -> str:
        self.token = f"tok-{next(self._ids)}"
        return self.token

    def app(self) -> web.Application:
        async def stable_token(request: web.Request) -> web.Response:
            self.calls["stable_token"] += 1
            body = await request.json()
            if (body.get("appid"), body.get("secret"), body.get("grant_type")) != \
                    (APP_ID, APP_SECRET, "client_credential"):
                return web.json_response({"errcode": 40013, "errmsg": "invalid appid"})
            if body.get("force_refresh") or not self.token:
                self.new_token()
            return web.json_response({"access_token": self.token, "expires_in": 7200})

        def refused(request: web.Request) -> web.Response | None:
            if self.next_errcode:
                return web.json_response({"errcode": self.next_errcode.pop(0), "errmsg": "x"})
            token = request.query.get("access_token")
            if token != self.token or token in self.revoked:
                return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
            return None

        async def getverifyid(request: web.Request) -> web.Response:
            self.calls["getverifyid"] += 1
            if (answer := refused(request)) is not None:
                return answer
            body = await request.json()
            verify_id = f"vid-{next(self._ids)}"
            self.sessions[verify_id] = body
            return web.json_response({"errcode": 0, "errmsg": "ok", "verify_id": verify_id,
                                      "expires_in": 3600})

        async def queryverifyinfo(request: web.Request) -> web.Response:
            self.calls["queryverifyinfo"] += 1
            if self.slow:
                import asyncio

                await asyncio.sleep(5)
            if (answer := refused(request)) is not None:
                return answer
            body = await request.json()
            started = self.sessions.get(body.get("verify_id"))
            cert = (started or {}).get("cert_info", {})
            expected_hash = wechat_cert_hash(cert.get("cert_type", ""),
                                             cert.get("cert_name", ""), cert.get("cert_no", ""))
            if started is None or body.get("openid") != started["openid"] or \
                    body.get("out_seq_no") != started["out_seq_no"] or \
                    body.get("cert_hash") != expected_hash:
                return web.json_response({"errcode": 40003, "errmsg": "mismatch"})
            ret = self.results.get(body["verify_id"])
            return web.json_response({"errcode": 0, "errmsg": "ok",
                                      **({"verify_ret": ret} if ret is not None else {})})

        app = web.Application()
        app.router.add_post("/cgi-bin/stable_token", stable_token)
        app.router.add_post("/cityservice/face/identify/getverifyid", getverifyid)
        app.router.add_post("/cityservice/face/identify/queryverifyinfo", queryverifyinfo)
        return app


@pytest.fixture()
async def wechat() -> AsyncIterator[tuple[FakeWeChat, WeChatFace]]:
    fake = FakeWeChat()
    server = TestServer(fake.app())
    await server.start_server()
    async with aiohttp.ClientSession() as session:
        provider = WeChatFace(app_id=APP_ID, app_secret=APP_SECRET,
                              endpoint=str(server.make_url("")), session=session,
                              kv=MemoryStore(), timeout_s=1.0, retries=1)
        yield fake, provider
    await server.close()


WHO = ExpectedIdentity("张三", flows.make_id_number("310101", "19980101", 123))


async def start(provider: WeChatFace, ref: str = "fv_wechat_1") -> ResultQuery:
    started = await provider.start(StartRequest(identity=WHO, reference=ref, subject=OPENID))
    assert started.client_payload == {"verify_id": started.provider_ref}
    return ResultQuery(started.provider_ref, ref, WHO, subject=OPENID)


async def test_start_sends_cert_info_and_openid(wechat):
    fake, provider = wechat
    query = await start(provider)
    sent = fake.sessions[query.provider_ref]
    assert sent == {"out_seq_no": "fv_wechat_1", "openid": OPENID,
                    "cert_info": {"cert_type": "IDENTITY_CARD", "cert_name": "张三",
                                  "cert_no": WHO.id_number}}


@pytest.mark.parametrize(("verify_ret", "finished", "passed", "reason"), [
    (10000, True, True, "ok"),
    (10002, True, False, "liveness_failed"),
    (10003, True, False, "id_name_mismatch"),
    (10004, True, False, "low_similarity"),
    (90004, True, False, "cancelled"),
    (None, False, False, "pending"),
])
async def test_results(wechat, verify_ret, finished, passed, reason):
    fake, provider = wechat
    query = await start(provider)
    if verify_ret is not None:
        fake.results[query.provider_ref] = verify_ret
    result = await provider.fetch_result(query)
    assert (result.finished, result.passed, result.reason_code) == (finished, passed, reason)
    assert result.score is None and len(result.answer_sha256) == 64


async def test_cert_hash_must_match_the_started_identity(wechat):
    fake, provider = wechat
    query = await start(provider)
    fake.results[query.provider_ref] = 10000
    other = ExpectedIdentity("李四", WHO.id_number)
    result = await provider.fetch_result(ResultQuery(query.provider_ref, query.reference,
                                                     other, subject=OPENID))
    assert (result.passed, result.reason_code, result.provider_code) == \
        (False, "provider_refused", "errcode:40003")


async def test_access_token_is_cached(wechat):
    fake, provider = wechat
    await start(provider, "fv_a1")
    await start(provider, "fv_a2")
    assert fake.calls["stable_token"] == 1 and fake.calls["getverifyid"] == 2


async def test_invalid_token_is_refreshed_once(wechat):
    fake, provider = wechat
    query = await start(provider)
    fake.new_token()  # WeChat invalidated the cached one
    fake.results[query.provider_ref] = 10000
    result = await provider.fetch_result(query)
    assert result.passed
    assert fake.calls["stable_token"] == 2 and fake.calls["queryverifyinfo"] == 2


async def test_refused_token_handed_out_again_forces_a_refresh(wechat):
    fake, provider = wechat
    query = await start(provider)
    fake.revoked.add(fake.token)  # refused, yet stable_token still hands it out
    fake.results[query.provider_ref] = 10000
    assert (await provider.fetch_result(query)).passed
    # normal fetch (same token again), then a forced one
    assert fake.calls["stable_token"] == 3 and fake.token not in fake.revoked


async def test_system_busy_is_503_after_retries(wechat):
    fake, provider = wechat
    query = await start(provider)
    fake.next_errcode = [-1, -1]
    with pytest.raises(UpstreamUnavailable):
        await provider.fetch_result(query)
    assert fake.calls["queryverifyinfo"] == 2  # one retry (retries=1)


async def test_busy_then_fine_is_retried(wechat):
    fake, provider = wechat
    query = await start(provider)
    fake.results[query.provider_ref] = 10000
    fake.next_errcode = [-1]
    assert (await provider.fetch_result(query)).passed


async def test_timeout_is_504(wechat):
    fake, provider = wechat
    query = await start(provider)
    fake.slow = True
    with pytest.raises(UpstreamTimeout):
        await provider.fetch_result(query)


async def test_start_without_openid_is_refused(wechat):
    _, provider = wechat
    with pytest.raises(ValueError):
        await provider.start(StartRequest(identity=WHO, reference="fv_x"))
