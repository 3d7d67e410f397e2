"""HTTP hygiene: Allow on 405, no-store on every answer with a token, nosniff everywhere,
CORS only for the configured origins, with a working preflight."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx
import pytest

from tests import flows
from tests import sale as s
from tests.live import LiveServer

CONSOLE = "https://console.example.gov.cn"


@pytest.fixture(scope="module")
def cors_server(backend, tmp_path_factory) -> Iterator[LiveServer]:
    env = backend.new_database_env(tmp_path_factory.mktemp("cors-data"))
    server = LiveServer({**env, "CORS_ORIGINS": f"{CONSOLE}, http://127.0.0.1:5173"})
    server.migrate()
    server.start()
    yield server
    server.stop()


def test_405_names_the_allowed_methods(api):
    for method, path, allowed in (("DELETE", "/healthz", {"GET", "HEAD"}),
                                  ("PUT", "/api/v1/me", {"GET", "HEAD"}),
                                  ("GET", "/api/v1/auth/login", {"POST"}),
                                  ("DELETE", "/api/v1/contracts", {"GET", "HEAD", "POST"})):
        r = api.request(method, path)
        assert r.status_code == 405, (method, path)
        assert {m.strip() for m in r.headers["allow"].split(",")} == allowed
        assert r.headers["x-content-type-options"] == "nosniff"


def test_nosniff_on_every_kind_of_answer(api, live_server):
    token = flows.login(api, "hdr-" + secrets.token_hex(4))
    for r in (api.get("/healthz"), api.get("/api/v1/me", headers=flows.auth(token)),
              api.get("/api/v1/me"), api.get("/no/such"), api.get("/v/nothing?t=x"),
              api.post("/api/v1/auth/login", content=b"x" * (2 << 20),
                       headers={"Content-Type": "application/json"}),
              api.get("/pki/ca/root.cer")):
        assert r.headers.get("x-content-type-options") == "nosniff", (r.request.url, r.headers)


def test_no_store_on_every_answer_with_a_token(api, live_server):
    login = api.post("/api/v1/auth/login", json={"provider": "sandbox", "code": "hdr-ns"})
    assert login.status_code == 200 and login.headers["cache-control"] == "no-store"
    assert login.headers["pragma"] == "no-cache"
    refresh = api.post("/api/v1/auth/refresh",
                       json={"refresh_token": login.json()["refresh_token"]})
    assert refresh.status_code == 200 and refresh.headers["cache-control"] == "no-store"
    failed = api.post("/api/v1/auth/refresh", json={"refresh_token": "nope"})
    assert failed.status_code == 401 and failed.headers["cache-control"] == "no-store"
    client = s.registry_client(live_server, api)
    token = api.post("/registry/v1/token", json={"client_id": client.client_id,
                                                 "client_secret": client.client_secret})
    assert token.status_code == 200 and token.headers["cache-control"] == "no-store"
    seller, buyer = s.person(api), s.person(api)
    _, cert = s.register_house(api, client, [seller])
    draft = s.create_draft(api, seller, "seller", cert, [seller], [buyer])
    invite = api.post(f"/api/v1/contracts/{draft['id']}/invitations",
                      json={"party_id": s.party_id_of(draft, buyer)}, headers=seller.headers)
    assert invite.status_code == 201 and "token" in invite.json()
    assert invite.headers["cache-control"] == "no-store"
    # Answers without tokens are not forced to no-store.
    assert "no-store" not in api.get("/healthz").headers.get("cache-control", "")


def test_no_cors_by_default(api):
    r = api.get("/healthz", headers={"Origin": CONSOLE})
    assert "access-control-allow-origin" not in r.headers
    pre = api.options("/api/v1/contracts", headers={
        "Origin": CONSOLE, "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in pre.headers


def test_cors_for_configured_origins_with_a_working_preflight(cors_server):
    with httpx.Client(base_url=cors_server.base_url, timeout=30) as api:
        pre = api.options("/api/v1/contracts", headers={
            "Origin": CONSOLE, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, idempotency-key"})
        assert pre.status_code == 204
        assert pre.headers["access-control-allow-origin"] == CONSOLE
        assert {m.strip() for m in pre.headers["access-control-allow-methods"].split(",")} \
            == {"GET", "POST"}
        allowed = pre.headers["access-control-allow-headers"].lower()
        assert all(h in allowed for h in ("authorization", "content-type", "idempotency-key"))
        assert "origin" in pre.headers["vary"].lower()
        assert int(pre.headers["access-control-max-age"]) > 0
        # The actual request then carries the origin back, errors too.
        for r in (api.get("/healthz", headers={"Origin": CONSOLE}),
                  api.get("/api/v1/me", headers={"Origin": CONSOLE})):
            assert r.headers["access-control-allow-origin"] == CONSOLE
            assert "x-request-id" in r.headers["access-control-expose-headers"].lower()
        # Another origin, a method the path does not have, a path that does not exist: no.
        for origin, method, path in (("https://evil.example", "POST", "/api/v1/contracts"),
                                     (CONSOLE, "DELETE", "/api/v1/contracts"),
                                     (CONSOLE, "GET", "/no/such/path")):
            r = api.options(path, headers={"Origin": origin,
                                           "Access-Control-Request-Method": method})
            assert "access-control-allow-origin" not in r.headers, (origin, method, path)
        evil = api.get("/healthz", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in evil.headers
        # A plain OPTIONS (not a preflight) is still just a 405 with Allow.
        plain = api.options("/api/v1/contracts")
        assert plain.status_code == 405 and "allow" in plain.headers


def test_cors_origins_are_validated():
    from server.config import ConfigError, Settings

    for bad in ("*", "https://x.example/path", "ftp://x.example", "console.example"):
        with pytest.raises(ConfigError, match="CORS_ORIGINS"):
            Settings.from_env({"CORS_ORIGINS": bad})
    assert Settings.from_env({}).cors_origins == ()
    assert Settings.from_env({"CORS_ORIGINS": "https://A.example:8443, http://b.example"}
                             ).cors_origins == ("https://a.example:8443", "http://b.example")
