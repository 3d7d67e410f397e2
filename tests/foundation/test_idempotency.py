"""``Idempotency-Key``: authenticated first, scoped to the principal, final answers only,
no bearer secret stored in clear, 24-hour records that are purged."""

from __future__ import annotations

import secrets
from datetime import timedelta

import httpx

from server.config import Settings
from server.domain import clock
from server.identity_crypto import IdentityCipher
from server.models import IdempotencyRecord
from server.secrets import load_secrets
from server.services.idempotency import IdempotencyStore, StoredAnswer, is_final
from tests import flows
from tests import sale as s
from tests.db import with_db
from tests.foundation.test_http_errors import assert_error
from tests.live import LiveServer


def _key() -> str:
    return "k-" + secrets.token_hex(8)


def _login(api: httpx.Client, code: str) -> dict:
    return s.expect(api.post("/api/v1/auth/login", json={"provider": "sandbox", "code": code}),
                    200)


def _start_bind(api: httpx.Client, token: str, key: str, id_number: str) -> httpx.Response:
    return api.post("/api/v1/face-verifications", json={
        "purpose": "bind_identity", "consent": True, "name": "王建国", "id_number": id_number},
        headers={**flows.auth(token), "Idempotency-Key": key})


def test_a_repeat_gets_the_first_answer_and_another_request_is_422(api):
    token = flows.login(api, "idem-" + secrets.token_hex(4))
    key, id_number = _key(), flows.make_id_number()
    first = _start_bind(api, token, key, id_number)
    again = _start_bind(api, token, key, id_number)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert_error(_start_bind(api, token, key, flows.make_id_number()), 422,
                 "idempotency_key_reused")
    bad = api.post("/api/v1/auth/logout", json={},
                   headers={**flows.auth(token), "Idempotency-Key": "x" * 200})
    assert_error(bad, 400, "invalid_idempotency_key")
    ctl = api.post("/api/v1/auth/logout", json={},
                   headers={**flows.auth(token), "Idempotency-Key": "a\x01b"})
    assert_error(ctl, 400, "invalid_idempotency_key")


def test_a_logged_out_token_with_the_same_key_is_refused_not_replayed(api):
    session = _login(api, "idem-" + secrets.token_hex(4))
    token = session["access_token"]
    key, id_number = _key(), flows.make_id_number()
    assert _start_bind(api, token, key, id_number).status_code == 201
    s.expect(api.post("/api/v1/auth/logout", headers=flows.auth(token)), 204)
    replay = _start_bind(api, token, key, id_number)
    assert_error(replay, 401, "invalid_token")
    assert "idempotent-replayed" not in replay.headers
    # A token that never was valid gets no stored answer either.
    assert_error(_start_bind(api, token + "x", key, id_number), 401, "invalid_token")


def test_a_retry_with_a_refreshed_token_is_recognised(api):
    session = _login(api, "idem-" + secrets.token_hex(4))
    key, id_number = _key(), flows.make_id_number()
    first = s.expect(_start_bind(api, session["access_token"], key, id_number), 201)
    fresh = s.expect(api.post("/api/v1/auth/refresh",
                              json={"refresh_token": session["refresh_token"]}), 200)
    assert fresh["access_token"] != session["access_token"]
    again = _start_bind(api, fresh["access_token"], key, id_number)
    assert again.status_code == 201 and again.json()["id"] == first["id"]
    assert again.headers["idempotent-replayed"] == "true"
    # Another user's identical request with the same key is that user's own.
    other = flows.login(api, "idem-" + secrets.token_hex(4))
    theirs = _start_bind(api, other, key, id_number)
    assert theirs.status_code == 201 and theirs.json()["id"] != first["id"]


def test_a_pending_409_is_not_kept(api):
    token = flows.login(api, "idem-" + secrets.token_hex(4))
    started = flows.start_verification(api, token, "bind_identity", name="王建国",
                                       id_number=flows.make_id_number())
    headers = {**flows.auth(token), "Idempotency-Key": _key()}
    url = f"/api/v1/face-verifications/{started['id']}/complete"
    assert_error(api.post(url, headers=headers), 409, "face_verification_pending")
    flows.sandbox_scan(api, started, "pass")
    done = api.post(url, headers=headers)
    assert done.status_code == 200 and done.json()["status"] == "passed"
    assert "idempotent-replayed" not in done.headers
    # Now final: kept and replayed.
    assert api.post(url, headers=headers).headers["idempotent-replayed"] == "true"


def test_a_429_is_not_kept(fresh_env):
    server = LiveServer({**fresh_env, "FACE_RATE_PER_USER": "1", "FACE_RATE_WINDOW_S": "2"})
    server.migrate()
    server.start()
    try:
        with httpx.Client(base_url=server.base_url, timeout=30) as api:
            token = flows.login(api, "idem-429")
            s.expect(_start_bind(api, token, _key(), flows.make_id_number()), 201)
            key, id_number = _key(), flows.make_id_number()
            assert_error(_start_bind(api, token, key, id_number), 429, "rate_limited")
            import time

            time.sleep(2.2)
            retry = _start_bind(api, token, key, id_number)
            assert retry.status_code == 201, retry.text
            assert "idempotent-replayed" not in retry.headers
    finally:
        server.stop()


def test_registry_clients_are_scoped_to_the_client_not_the_token(live_server, api):
    client = s.registry_client(live_server, api)
    unit_no = s.new_unit_no()
    payload = s.unit_payload([s.Person("王建国", flows.make_id_number(), "")])
    key = _key()
    first = api.put(f"/registry/v1/units/{unit_no}", json=payload,
                    headers={**client.headers, "Idempotency-Key": key})
    assert first.status_code == 201, first.text
    token = s.expect(api.post("/registry/v1/token", json={
        "client_id": client.client_id, "client_secret": client.client_secret}), 200)
    again = api.put(f"/registry/v1/units/{unit_no}", json=payload, headers={
        "Authorization": f"Bearer {token['access_token']}", "Idempotency-Key": key})
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    # A token without the route's scope is refused before any replay.
    narrow = s.expect(api.post("/registry/v1/token", json={
        "client_id": client.client_id, "client_secret": client.client_secret,
        "scope": "units:read"}), 200)
    assert_error(api.put(f"/registry/v1/units/{unit_no}", json=payload, headers={
        "Authorization": f"Bearer {narrow['access_token']}", "Idempotency-Key": key}),
        403, "insufficient_scope")


def test_stored_answers_hold_no_bearer_secret_in_clear(live_server, app_env, api):
    # An invitation's answer carries its bearer token.
    client = s.registry_client(live_server, api)
    seller, buyer = s.person(api), s.person(api)
    _, cert = s.register_house(api, client, [seller])
    draft = s.create_draft(api, seller, "seller", cert, [seller], [buyer])
    key = _key()
    resp = api.post(f"/api/v1/contracts/{draft['id']}/invitations",
                    json={"party_id": s.party_id_of(draft, buyer)},
                    headers={**seller.headers, "Idempotency-Key": key})
    invitation = s.expect(resp, 201)
    assert resp.headers["cache-control"] == "no-store"
    replay = api.post(f"/api/v1/contracts/{draft['id']}/invitations",
                      json={"party_id": s.party_id_of(draft, buyer)},
                      headers={**seller.headers, "Idempotency-Key": key})
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json()["token"] == invitation["token"]
    assert replay.headers["cache-control"] == "no-store"

    async def rows() -> list[bytes]:
        return [bytes(r.body) for r in await IdempotencyRecord.filter(key=key)]

    stored = with_db(app_env, rows)
    assert len(stored) == 1
    assert invitation["token"].encode() not in stored[0]
    assert b"token" not in stored[0]
    # Token-issuing endpoints take no key: nothing is stored for a login.
    login_key = _key()
    for _ in range(2):
        r = api.post("/api/v1/auth/login", json={"provider": "sandbox", "code": "idem-login"},
                     headers={"Idempotency-Key": login_key})
        assert r.status_code == 200 and "idempotent-replayed" not in r.headers
    assert with_db(app_env, lambda: IdempotencyRecord.filter(key=login_key).count()) == 0


def test_records_expire_after_24_hours_and_are_purged(api, app_env):
    token = flows.login(api, "idem-" + secrets.token_hex(4))
    key, id_number = _key(), flows.make_id_number()
    first = s.expect(_start_bind(api, token, key, id_number), 201)

    async def age() -> None:
        await IdempotencyRecord.filter(key=key).update(
            created_at=clock.now() - timedelta(hours=24, minutes=1))

    with_db(app_env, age)
    again = _start_bind(api, token, key, id_number)
    assert again.status_code == 201 and "idempotent-replayed" not in again.headers
    assert again.json()["id"] != first["id"]

    settings = Settings.from_env(app_env)
    keys = load_secrets(settings)
    store = IdempotencyStore(IdentityCipher(keys.identity_encryption_key,
                                            keys.identity_index_key))

    async def purge() -> tuple[int, int]:
        await IdempotencyRecord.filter(key=key).update(
            created_at=clock.now() - timedelta(hours=25))
        removed = await store.purge()
        return removed, await IdempotencyRecord.filter(key=key).count()

    removed, left = with_db(app_env, purge)
    assert removed >= 1 and left == 0


def test_only_final_outcomes_are_final():
    assert all(is_final(code) for code in (200, 201, 202, 204, 400, 403, 404, 422))
    assert not any(is_final(code) for code in (401, 408, 409, 425, 429, 500, 502, 503, 504))


async def test_a_non_final_answer_is_not_stored(fresh_env):
    from tests.houses.support import run_cli

    assert run_cli(fresh_env, "migrate").returncode == 0
    from server.db import close_orm, init_orm

    settings = Settings.from_env(fresh_env)
    keys = load_secrets(settings)
    store = IdempotencyStore(IdentityCipher(keys.identity_encryption_key,
                                            keys.identity_index_key))
    await init_orm(settings)
    try:
        for status in (409, 429, 500, 503):
            assert not await store.keep("scope", f"k{status}", StoredAnswer("h", status, b"{}",
                                                                             "application/json"))
        assert await IdempotencyRecord.filter(scope="scope").count() == 0
        assert await store.keep("scope", "ok", StoredAnswer("h", 201, b'{"a":1}',
                                                            "application/json"))
        found = await store.find("scope", "ok")
        assert found is not None and found.body == b'{"a":1}' and found.status == 201
        # A record copied under another key does not decrypt: it is dropped, not replayed.
        row = await IdempotencyRecord.get(scope="scope", key="ok")
        await IdempotencyRecord.create(scope="scope", key="copy", request_hash="h", status=201,
                                       body=row.body, content_type="application/json")
        assert await store.find("scope", "copy") is None
    finally:
        await close_orm()
