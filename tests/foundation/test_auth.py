"""Log-in and our tokens: forged, tampered, expired and wrong-algorithm tokens are refused;
refresh tokens rotate and a reused one revokes its family; the host-app login adapters."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest
from aiohttp import web

from server.adapters.login import LoginRejected
from server.adapters.login.oauth import GovAppLogin
from server.adapters.login.wechat import WeChatLogin
from server.auth.tokens import AccessTokens, InvalidToken
from tests import flows


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _server_tokens(live_server) -> AccessTokens:
    secrets_dir = Path(live_server.env["DATA_DIR"]) / "secrets"
    kid = json.loads((secrets_dir / "dev-secrets.json").read_text())["token_key_id"]
    return AccessTokens((secrets_dir / "token-es256.pem").read_bytes(), kid, ttl_s=60)


def _me(api, token: str):
    return api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})


def test_a_valid_token_works(api):
    assert _me(api, flows.login(api, "auth-ok")).status_code == 200


def test_expired_token_is_refused(api, live_server):
    tokens = _server_tokens(live_server)
    user = _me(api, flows.login(api, "auth-exp")).json()["id"]
    fresh, _ = tokens.issue(user)
    assert _me(api, fresh).status_code == 200
    old, _ = tokens.issue(user, now=int(time.time()) - 3600)
    resp = _me(api, old)
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "invalid_token"


def test_tampered_token_is_refused(api):
    token = flows.login(api, "auth-tamper")
    header, payload, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "someone-else"
    assert _me(api, f"{header}.{_b64(claims)}.{sig}").status_code == 401


def test_alg_none_is_refused(api):
    token = flows.login(api, "auth-none")
    _, payload, _ = token.split(".")
    forged = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{payload}."
    assert _me(api, forged).status_code == 401


def test_hs256_with_the_public_key_is_refused(api, live_server):
    """The classic algorithm confusion: sign HS256 with the server's public key as secret."""
    tokens = _server_tokens(live_server)
    user = _me(api, flows.login(api, "auth-hs")).json()["id"]
    import hashlib
    import hmac

    signing_input = (_b64({"alg": "HS256", "typ": "JWT", "kid": tokens.key_id}) + "." + _b64(
        {"sub": user, "exp": int(time.time()) + 600, "typ": "access", "iss": "house-esign",
         "aud": "miniapp"})).encode()
    mac = hmac.new(tokens._public_pem.encode(), signing_input, hashlib.sha256).digest()
    forged = signing_input.decode() + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    assert _me(api, forged).status_code == 401


def test_refresh_rotates_and_reuse_revokes_the_family(api):
    body = api.post("/api/v1/auth/login", json={"provider": "sandbox", "code": "auth-rot"}).json()
    first = body["refresh_token"]
    second = api.post("/api/v1/auth/refresh", json={"refresh_token": first}).json()
    assert second["refresh_token"] != first and second["access_token"]
    reused = api.post("/api/v1/auth/refresh", json={"refresh_token": first})
    assert reused.status_code == 401
    assert reused.json()["error"]["code"] == "refresh_token_reused"
    # The whole family is gone, including the token issued by the rotation.
    after = api.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert after.status_code == 401


def test_logout_revokes_access_and_refresh(api):
    body = api.post("/api/v1/auth/login", json={"provider": "sandbox", "code": "auth-out"}).json()
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    out = api.post("/api/v1/auth/logout", json={"refresh_token": body["refresh_token"]},
                   headers=headers)
    assert out.status_code == 204
    assert api.get("/api/v1/me", headers=headers).status_code == 401
    assert api.post("/api/v1/auth/refresh",
                    json={"refresh_token": body["refresh_token"]}).status_code == 401


def test_unknown_provider(api):
    resp = api.post("/api/v1/auth/login", json={"provider": "myspace", "code": "x"})
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "unknown_provider"


def test_same_code_same_user(api):
    a = _me(api, flows.login(api, "same-code")).json()["id"]
    b = _me(api, flows.login(api, "same-code")).json()["id"]
    assert a == b


@pytest.fixture()
async def fake_hosts():
    """A local stand-in for WeChat's code2session and a government app's OAuth endpoints."""
    async def code2session(request: web.Request) -> web.Response:
        q = request.query
        if q.get("appid") != "wx1" or q.get("secret") != "s3cret":
            return web.json_response({"errcode": 40125, "errmsg": "invalid appsecret"})
        if q.get("js_code") == "good":
            return web.json_response({"openid": "o-123", "session_key": "k"})
        return web.json_response({"errcode": 40029, "errmsg": "invalid code"})

    async def token(request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("code") != "good" or form.get("client_secret") != "cs":
            return web.json_response({"error": "invalid_grant"}, status=400)
        return web.json_response({"access_token": "at-1", "token_type": "Bearer"})

    async def userinfo(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != "Bearer at-1":
            return web.json_response({}, status=401)
        return web.json_response({"sub": "gov-user-9"})

    app = web.Application()
    app.router.add_get("/sns/jscode2session", code2session)
    app.router.add_post("/oauth/token", token)
    app.router.add_get("/oauth/userinfo", userinfo)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_wechat_code2session(fake_hosts):
    import aiohttp

    async with aiohttp.ClientSession() as http:
        login = WeChatLogin("wx1", "s3cret", fake_hosts, http)
        account = await login.exchange("good")
        assert (account.provider, account.subject) == ("wechat", "o-123")
        with pytest.raises(LoginRejected):
            await login.exchange("bad")


async def test_government_app_code_exchange(fake_hosts):
    import aiohttp

    async with aiohttp.ClientSession() as http:
        login = GovAppLogin("ehb", f"{fake_hosts}/oauth/token", f"{fake_hosts}/oauth/userinfo",
                            "cid", "cs", http)
        account = await login.exchange("good")
        assert (account.provider, account.subject) == ("ehb", "gov-user-9")
        with pytest.raises(LoginRejected):
            await login.exchange("bad")


def _local_tokens(ttl_s: int = 60) -> AccessTokens:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    return AccessTokens(pem, "kid-local", ttl_s=ttl_s)


def test_a_remembered_token_is_still_refused_once_it_expires() -> None:
    """Verified tokens are remembered (the signature check is most of a request's CPU),
    but never past their expiry."""
    tokens = _local_tokens()
    token, _ = tokens.issue("user-1", now=int(time.time()) - 59)  # expires within 1 s
    assert tokens.verify(token).user_id == "user-1"
    assert tokens.verify(token).user_id == "user-1"  # remembered
    time.sleep(2.2)  # python-jose compares whole seconds
    with pytest.raises(InvalidToken):
        tokens.verify(token)


def test_remembered_tokens_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    tokens = _local_tokens()
    monkeypatch.setattr(AccessTokens, "VERIFIED_CACHE", 3)
    issued = [tokens.issue(f"user-{n}")[0] for n in range(5)]
    for token in issued:
        tokens.verify(token)
    tokens.verify(issued[2])  # used again: kept
    tokens.verify(issued[0])  # checked again (it had been dropped), the oldest goes
    assert list(tokens._verified) == [issued[4], issued[2], issued[0]]


def test_a_forged_token_is_refused_every_time() -> None:
    tokens, other = _local_tokens(), _local_tokens()
    forged, _ = other.issue("user-1")  # another key, same kid
    for _ in range(2):
        with pytest.raises(InvalidToken):
            tokens.verify(forged)
    assert not tokens._verified
