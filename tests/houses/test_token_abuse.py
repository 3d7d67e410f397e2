"""The registry token endpoint against abuse: throttled per client_id and per client address,
and RFC 6749 §5.2 error bodies that a standard OAuth2 client (authlib) reads."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx
import pytest
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import OAuth2Client

from tests import sale as s
from tests.live import LiveServer

PER_CLIENT, PER_ADDRESS = 3, 7


@pytest.fixture(scope="module")
def token_server(backend, tmp_path_factory) -> Iterator[LiveServer]:
    env = backend.new_database_env(tmp_path_factory.mktemp("token-data"))
    server = LiveServer({**env, "REGISTRY_TOKEN_FAILURES_PER_CLIENT": str(PER_CLIENT),
                         "REGISTRY_TOKEN_FAILURES_PER_ADDRESS": str(PER_ADDRESS),
                         "REGISTRY_TOKEN_FAILURE_WINDOW_S": "600"})
    server.migrate()
    server.start()
    yield server
    server.stop()


def _authlib(server: LiveServer, client_id: str, secret: str, method: str) -> dict:
    with OAuth2Client(client_id, secret, token_endpoint_auth_method=method) as oauth:
        return oauth.fetch_token(f"{server.base_url}/registry/v1/token",
                                 grant_type="client_credentials")


def _authlib_error(server: LiveServer, client_id: str, secret: str,
                   method: str = "client_secret_basic") -> OAuthError:
    with pytest.raises(OAuthError) as caught:
        _authlib(server, client_id, secret, method)
    return caught.value


def test_authlib_gets_a_token_and_reads_the_error_codes(live_server, api):
    client = s.registry_client(live_server, api)
    for method in ("client_secret_basic", "client_secret_post"):
        token = _authlib(live_server, client.client_id, client.client_secret, method)
        assert token["token_type"] == "Bearer" and token["access_token"]
        assert token["expires_in"] > 0 and "contracts:read" in token["scope"]
    wrong = _authlib_error(live_server, client.client_id, "not-the-secret")
    assert wrong.error == "invalid_client" and wrong.description
    unknown = _authlib_error(live_server, "rc_nobody_" + secrets.token_hex(3), "x",
                             "client_secret_post")
    assert unknown.error == "invalid_client"
    with OAuth2Client(client.client_id, client.client_secret, scope="units:read admin") as o:
        with pytest.raises(OAuthError) as caught:
            o.fetch_token(f"{live_server.base_url}/registry/v1/token",
                          grant_type="client_credentials")
    assert caught.value.error == "invalid_scope"
    with OAuth2Client(client.client_id, client.client_secret) as o, \
            pytest.raises(OAuthError) as caught:
        o.fetch_token(f"{live_server.base_url}/registry/v1/token", grant_type="password",
                      username="u", password="p")
    assert caught.value.error == "unsupported_grant_type"


def test_failures_are_throttled_per_client_then_per_address(token_server):
    with httpx.Client(base_url=token_server.base_url, timeout=30) as api:
        target = s.registry_client(token_server, api)
        bystander = s.registry_client(token_server, api)
        for _ in range(PER_CLIENT):
            assert _authlib_error(token_server, target.client_id, "guess").error == \
                "invalid_client"
        # The client_id is now refused even with its right secret, before any scrypt.
        refused = api.post("/registry/v1/token", auth=(target.client_id, target.client_secret),
                           data={"grant_type": "client_credentials"})
        assert refused.status_code == 429, refused.text
        assert refused.json() == {"error": "temporarily_unavailable",
                                  "error_description": refused.json()["error_description"]}
        assert int(refused.headers["retry-after"]) == 600
        assert refused.headers["cache-control"] == "no-store"
        assert _authlib_error(token_server, target.client_id, target.client_secret).error == \
            "temporarily_unavailable"
        # Another client from the same address is not slowed by that (successes never count).
        assert _authlib(token_server, bystander.client_id, bystander.client_secret,
                        "client_secret_basic")["access_token"]
        # Spraying client ids from one address: refused once the address has failed enough.
        for i in range(PER_ADDRESS - PER_CLIENT):
            assert _authlib_error(token_server, f"rc_spray_{i}", "x").error == "invalid_client"
        after = api.post("/registry/v1/token", json={
            "client_id": bystander.client_id, "client_secret": bystander.client_secret})
        assert after.status_code == 429 and after.json()["error"] == "temporarily_unavailable"
        # Malformed ids (NUL, too long) are an RFC 6749 invalid_request, never a 500; a
        # well-formed unknown one is a failure like any other.
        for odd in ("a\x00b", "x" * 500):
            r = api.post("/registry/v1/token", json={"client_id": odd, "client_secret": "x"})
            assert r.status_code == 400 and r.json()["error"] == "invalid_request", r.text
        r = api.post("/registry/v1/token", json={"client_id": "客户端", "client_secret": "x"})
        assert r.status_code in (401, 429) and "error" in r.json()
