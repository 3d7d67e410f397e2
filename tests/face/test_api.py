"""The face-verification API over HTTP: the live server, its real Tencent adapter, the sandbox.

The face server's adapter reaches the sandbox through a proxy the tests can make
hang, so provider timeouts are real timeouts of the real code path.
"""

from __future__ import annotations

import re
import secrets
import time

import httpx
import pytest

from tests import flows
from tests import sale as s
from tests.face.conftest import PER_ID_NUMBER, PER_USER, FaceServer


def new_token(api: httpx.Client) -> str:
    return flows.login(api, "face-api-" + secrets.token_hex(6))


def user_id(api: httpx.Client, token: str) -> str:
    return api.get("/api/v1/me", headers=flows.auth(token)).json()["id"]


def start(api: httpx.Client, token: str, **body) -> httpx.Response:
    return api.post("/api/v1/face-verifications", json={"consent": True, **body},
                    headers=flows.auth(token))


def complete(api: httpx.Client, token: str, verification_id: str) -> httpx.Response:
    return api.post(f"/api/v1/face-verifications/{verification_id}/complete",
                    headers=flows.auth(token))


def error(resp: httpx.Response, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["error"]["code"] == code, body
    return body["error"]


def bound(api: httpx.Client, name: str = "王建国") -> tuple[str, str]:
    token, id_number = new_token(api), flows.make_id_number()
    flows.bind_identity(api, token, name, id_number)
    return token, id_number


def signing_party(face_server: FaceServer, api: httpx.Client, name: str | None = None
                  ) -> tuple[s.Person, str]:
    """A seller (bound identity) of a contract in ``signing``, and that contract's id."""
    seller = s.person(api, name)
    sale = s.sale_in_signing(face_server.server, api, seller=seller)
    return seller, sale.contract_id


def test_bind_identity(face_api):
    token, id_number = new_token(face_api), flows.make_id_number()
    resp = start(face_api, token, purpose="bind_identity", name="李秀英", id_number=id_number)
    assert resp.status_code == 201, resp.text
    started = resp.json()
    assert started["provider"] == "sandbox" and started["status"] == "pending"
    assert started["id"].startswith("fv_")
    assert set(started["client_payload"]) == {"biz_token", "scan_path"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00", started["expires_at"])
    assert started["identity"] == {"name_masked": "李*英",
                                   "id_number_masked": id_number[:4] + "*" * 10 + id_number[-4:]}
    assert id_number not in resp.text
    flows.sandbox_scan(face_api, started, "pass")
    done = complete(face_api, token, started["id"])
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["id"], body["status"], body["reason_code"], body["score"]) == \
        (started["id"], "passed", "ok", 92.36)
    assert body["client_payload"] is None and id_number not in done.text
    me = face_api.get("/api/v1/me", headers=flows.auth(token)).json()
    assert me["real_name_verified"] is True and me["name_masked"] == "李*英"


def test_input_is_validated_per_field(face_api):
    token = new_token(face_api)
    good = flows.make_id_number()
    wrong_check = good[:17] + ("0" if good[17] != "0" else "1")
    fields = error(start(face_api, token, purpose="bind_identity", name="李秀英",
                         id_number=wrong_check), 400, "invalid_input")["details"]["fields"]
    assert "校验位" in fields["id_number"]
    fields = error(start(face_api, token, purpose="bind_identity", name="L1",
                         id_number="123"), 400, "invalid_input")["details"]["fields"]
    assert set(fields) == {"name", "id_number"}
    fields = error(start(face_api, token, purpose="bind_identity"),
                   400, "invalid_input")["details"]["fields"]
    assert set(fields) == {"name", "id_number"}
    assert "purpose" in error(start(face_api, token, purpose="selfie"), 400,
                              "invalid_input")["details"]["fields"]
    assert "contract_id" in error(start(face_api, token, purpose="sign"), 400,
                                  "invalid_input")["details"]["fields"]
    error(face_api.post("/api/v1/face-verifications", content=b"[]",
                        headers={**flows.auth(token), "Content-Type": "application/json"}),
          400, "invalid_json")
    # Not said to be JSON: not parsed as JSON.
    error(face_api.post("/api/v1/face-verifications", content=b"{}",
                        headers=flows.auth(token)), 415, "unsupported_media_type")


def test_no_consent_no_start(face_api, face_server: FaceServer):
    token = new_token(face_api)
    uid = user_id(face_api, token)
    body = {"purpose": "bind_identity", "name": "李秀英", "id_number": flows.make_id_number()}
    for consent in ({}, {"consent": False}, {"consent": "yes"}):
        resp = face_api.post("/api/v1/face-verifications", json={**body, **consent},
                             headers=flows.auth(token))
        assert "consent" in error(resp, 400, "consent_required")["details"]["fields"]
    assert [r for r in face_server.rows("face_consents") if r["user_id"] == uid] == []
    assert [r for r in face_server.rows("face_verifications") if r["user_id"] == uid] == []


def test_sign_needs_a_bound_identity(face_api):
    token = new_token(face_api)
    error(start(face_api, token, purpose="sign", contract_id="c-42"), 409, "identity_not_bound")
    error(start(face_api, token, purpose="revoke", contract_id="c-42"), 409,
          "identity_not_bound")


def test_sign_verification_records_the_contract(face_api, face_server: FaceServer):
    seller, cid = signing_party(face_server, face_api)
    fv_id = flows.passed_verification(face_api, seller.token, "sign", cid)
    row = next(r for r in face_server.rows("face_verifications") if r["id"] == fv_id)
    assert (row["purpose"], row["contract_id"], row["status"]) == ("sign", cid, "passed")
    assert row["consumed_at"] is None and row["valid_until"] is not None


def test_sign_and_revoke_starts_need_a_party_at_that_step(face_api, face_server: FaceServer):
    seller, cid = signing_party(face_server, face_api)
    stranger, _ = bound(face_api)
    stranger_id = user_id(face_api, stranger)
    starts = face_server.proxy.calls["DetectAuth"]
    # Not a party: the same 404 as for a contract that does not exist.
    for contract_id in (cid, "c-does-not-exist"):
        error(start(face_api, stranger, purpose="sign", contract_id=contract_id), 404,
              "not_found")
        error(start(face_api, stranger, purpose="revoke", contract_id=contract_id), 404,
              "not_found")
    # A party, but the contract is signing, not filed with a revocation asked.
    error(start(face_api, seller.token, purpose="revoke", contract_id=cid), 409,
          "invalid_state")
    # Signed already: no second sign verification.
    s.expect(s.sign(face_api, cid, seller), 201)
    error(start(face_api, seller.token, purpose="sign", contract_id=cid), 409, "already_signed")
    # None of these reached the provider, recorded a consent or counted against a quota.
    assert face_server.proxy.calls["DetectAuth"] == starts + 1  # the one real signature
    assert [r for r in face_server.rows("face_consents") if r["user_id"] == stranger_id
            and r["purpose"] != "bind_identity"] == []


@pytest.mark.parametrize(("outcome", "reason", "score", "provider_code"), [
    ("low_similarity", "low_similarity", 41.27, "2016"),
    ("id_mismatch", "id_name_mismatch", None, "2006"),
    ("liveness_fail", "liveness_failed", None, "1004"),
])
def test_failed_outcomes_and_their_evidence(face_api, face_server: FaceServer, outcome, reason,
                                            score, provider_code):
    token = new_token(face_api)
    started = flows.start_verification(face_api, token, "bind_identity", name="陈晓明",
                                       id_number=flows.make_id_number())
    flows.sandbox_scan(face_api, started, outcome)
    body = flows.complete(face_api, token, started["id"])
    assert (body["status"], body["reason_code"], body["score"]) == ("failed", reason, score)
    me = face_api.get("/api/v1/me", headers=flows.auth(token)).json()
    assert me["real_name_verified"] is False
    row = next(r for r in face_server.rows("face_verifications") if r["id"] == started["id"])
    assert (row["provider"], row["provider_code"], row["reason_code"]) == \
        ("sandbox", provider_code, reason)
    assert re.fullmatch(r"[0-9a-f]{64}", row["answer_sha256"])
    assert row["provider_request_id"] and row["start_request_id"]
    assert row["completed_at"] is not None and row["valid_until"] is None


def test_expired_token_fails(face_api):
    token = new_token(face_api)
    started = flows.start_verification(face_api, token, "bind_identity", name="陈晓明",
                                       id_number=flows.make_id_number())
    biz_token = started["client_payload"]["biz_token"]
    assert face_api.post("/sandbox/faceid/expire",
                         json={"biz_token": biz_token}).status_code == 204
    body = flows.complete(face_api, token, started["id"])
    assert (body["status"], body["reason_code"]) == ("failed", "token_expired")


def test_pending_until_the_phone_is_done(face_api):
    token = new_token(face_api)
    started = flows.start_verification(face_api, token, "bind_identity", name="陈晓明",
                                       id_number=flows.make_id_number())
    error(complete(face_api, token, started["id"]), 409, "face_verification_pending")
    shown = face_api.get(f"/api/v1/face-verifications/{started['id']}",
                         headers=flows.auth(token)).json()
    assert shown["status"] == "pending" and shown["client_payload"] == started["client_payload"]
    flows.sandbox_scan(face_api, started, "pass")
    assert flows.complete(face_api, token, started["id"])["status"] == "passed"


def test_complete_again_gives_the_same_answer_without_asking(face_api,
                                                             face_server: FaceServer):
    token = new_token(face_api)
    started = flows.start_verification(face_api, token, "bind_identity", name="陈晓明",
                                       id_number=flows.make_id_number())
    flows.sandbox_scan(face_api, started, "low_similarity")
    first = complete(face_api, token, started["id"])
    queries = face_server.proxy.calls["GetDetectInfoEnhanced"]
    face_server.proxy.mode = "hang"  # asking the provider now would time out
    began = time.monotonic()
    again = complete(face_api, token, started["id"])
    assert time.monotonic() - began < 0.9
    assert again.status_code == 200 and again.json() == first.json()
    assert face_server.proxy.calls["GetDetectInfoEnhanced"] == queries


def test_someone_elses_verification_is_not_found(face_api):
    owner, stranger = new_token(face_api), new_token(face_api)
    started = flows.start_verification(face_api, owner, "bind_identity", name="陈晓明",
                                       id_number=flows.make_id_number())
    flows.sandbox_scan(face_api, started, "pass")
    error(complete(face_api, stranger, started["id"]), 404, "face_verification_not_found")
    error(face_api.get(f"/api/v1/face-verifications/{started['id']}",
                       headers=flows.auth(stranger)), 404, "face_verification_not_found")
    me = face_api.get("/api/v1/me", headers=flows.auth(stranger)).json()
    assert me["real_name_verified"] is False
    error(face_api.post(f"/api/v1/face-verifications/{started['id']}/complete"), 401,
          "unauthenticated")


def test_identity_is_bound_for_good(face_api):
    token, id_number = bound(face_api, "王建国")
    error(start(face_api, token, purpose="bind_identity", name="王建国",
                id_number=flows.make_id_number("110101")), 409, "identity_already_bound")
    error(start(face_api, token, purpose="bind_identity", name="王建军", id_number=id_number),
          409, "identity_already_bound")
    again = flows.bind_identity(face_api, token, "王建国", id_number)  # same one: fine
    assert again["status"] == "passed"


def test_rate_limit_per_user(face_api):
    token = new_token(face_api)
    for _ in range(PER_USER):  # each a different ID number: only the user's quota fills
        resp = start(face_api, token, purpose="bind_identity", name="王建国",
                     id_number=flows.make_id_number())
        assert resp.status_code == 201, resp.text
    resp = start(face_api, token, purpose="bind_identity", name="王建国",
                 id_number=flows.make_id_number())
    assert error(resp, 429, "rate_limited")["details"] == {"scope": "user"}
    assert resp.headers["Retry-After"] == "600"


def test_rate_limit_per_id_number_counts_per_claimant(face_api):
    id_number = flows.make_id_number()
    stranger = new_token(face_api)
    for _ in range(PER_ID_NUMBER):
        resp = start(face_api, stranger, purpose="bind_identity", name="王建国",
                     id_number=id_number)
        assert resp.status_code == 201, resp.text
    resp = start(face_api, stranger, purpose="bind_identity", name="王建国",
                 id_number=id_number)
    assert error(resp, 429, "rate_limited")["details"] == {"scope": "id_number"}
    assert int(resp.headers["Retry-After"]) > 0


def test_a_stranger_hammering_an_id_number_does_not_lock_its_owner_out(
        face_api, face_server: FaceServer):
    owner = s.person(face_api, "王建国")  # bound, with one start of the owner's own
    strangers = [new_token(face_api) for _ in range(2)]
    for stranger in strangers:  # every stranger until refused
        while start(face_api, stranger, purpose="bind_identity", name="王建国",
                    id_number=owner.id_number).status_code == 201:
            pass
        assert error(start(face_api, stranger, purpose="bind_identity", name="王建国",
                           id_number=owner.id_number), 429, "rate_limited")["details"] == \
            {"scope": "id_number"}
    # The owner still signs: a sign start is counted on the owner's own quota.
    sale = s.sale_in_signing(face_server.server, face_api, seller=owner)
    assert s.sign(face_api, sale.contract_id, owner).status_code == 201
    # And a person who has not yet bound their own, hammered ID number can still bind it.
    victim_id = flows.make_id_number()
    hammer = new_token(face_api)
    while start(face_api, hammer, purpose="bind_identity", name="李秀英",
                id_number=victim_id).status_code == 201:
        pass
    victim = new_token(face_api)
    assert flows.bind_identity(face_api, victim, "李秀英", victim_id)["status"] == "passed"


def test_provider_timeout_on_start_changes_nothing(face_api, face_server: FaceServer):
    seller, cid = signing_party(face_server, face_api)
    token = seller.token
    uid = user_id(face_api, token)
    before = [r["id"] for r in face_server.rows("face_verifications") if r["user_id"] == uid]
    face_server.proxy.mode = "hang"
    error(start(face_api, token, purpose="sign", contract_id=cid), 504,
          "upstream_timeout")
    face_server.proxy.mode = "forward"
    after = [r["id"] for r in face_server.rows("face_verifications") if r["user_id"] == uid]
    assert after == before


def test_provider_timeout_on_complete_keeps_it_pending(face_api, face_server: FaceServer):
    seller, cid = signing_party(face_server, face_api)
    token = seller.token
    started = flows.start_verification(face_api, token, "sign", contract_id=cid)
    flows.sandbox_scan(face_api, started, "pass")
    face_server.proxy.mode = "hang"
    error(complete(face_api, token, started["id"]), 504, "upstream_timeout")
    face_server.proxy.mode = "forward"
    shown = face_api.get(f"/api/v1/face-verifications/{started['id']}",
                         headers=flows.auth(token)).json()
    assert (shown["status"], shown["completed_at"]) == ("pending", None)
    assert flows.complete(face_api, token, started["id"])["status"] == "passed"


def test_database_and_logs_hold_no_plain_id_number(face_api, face_server: FaceServer):
    seller, cid = signing_party(face_server, face_api, "司马相如")
    token, id_number = seller.token, seller.id_number
    flows.passed_verification(face_api, token, "sign", cid)
    uid = user_id(face_api, token)
    user_row = next(r for r in face_server.rows("users") if r["id"] == uid)
    assert user_row["real_name"] == "司马相如" and user_row["identity_bound_at"] is not None
    assert re.fullmatch(r"[0-9a-f]{64}", user_row["id_index"])
    for table in ("users", "face_verifications", "face_consents", "login_identities"):
        dump = repr(face_server.rows(table))
        assert id_number not in dump and id_number[:17] not in dump, table
    fv_rows = [r for r in face_server.rows("face_verifications") if r["user_id"] == uid]
    assert len(fv_rows) == 2 and all(r["expected_id_enc"] for r in fv_rows)
    log = face_server.server.log()
    assert "face verification completed" in log  # the log is on, and says nothing personal
    assert id_number not in log and "司马相如" not in log
