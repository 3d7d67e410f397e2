"""The registration office's API: tokens, region isolation, version ordering, restrictions."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from tests.foundation.test_http_errors import assert_error
from tests.houses.support import (
    create_client,
    expect,
    login,
    new_id_number,
    new_unit_no,
    owner,
    put_restriction,
    put_unit,
    unit_payload,
)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _parts(token: str) -> tuple[dict, dict, str]:
    h, p, s = token.split(".")
    pad = lambda x: x + "=" * (-len(x) % 4)  # noqa: E731
    return (json.loads(base64.urlsafe_b64decode(pad(h))),
            json.loads(base64.urlsafe_b64decode(pad(p))), s)


def _sole() -> list[dict]:
    return [owner(("王建国", new_id_number()))]


# -- tokens ----------------------------------------------------------------------------------

def test_token_by_json_form_and_basic(api, app_env):
    creds = create_client(app_env, "421202")
    cid, secret = creds["client_id"], creds["client_secret"]
    for resp in (
        api.post("/registry/v1/token", json={"client_id": cid, "client_secret": secret}),
        api.post("/registry/v1/token", data={"grant_type": "client_credentials",
                                             "client_id": cid, "client_secret": secret}),
        api.post("/registry/v1/token", auth=(cid, secret),
                 data={"grant_type": "client_credentials"}),
    ):
        body = expect(resp, 200)
        assert body["token_type"] == "Bearer" and body["expires_in"] > 0
        assert set(body["scope"].split()) >= {"units:read", "units:write"}
        header, claims, _ = _parts(body["access_token"])
        assert header["alg"] == "ES256"
        assert claims["aud"] == "registry" and claims["sub"] == cid
        assert resp.headers["cache-control"] == "no-store"


def _oauth2_error(resp, status: int, error: str) -> dict:
    """RFC 6749 §5.2: the token endpoint's errors are ``{error, error_description}``."""
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["error"] == error and isinstance(body["error_description"], str), body
    assert resp.headers["cache-control"] == "no-store"
    return body


def test_bad_credentials_are_401(api, reg):
    _oauth2_error(api.post("/registry/v1/token", json={
        "client_id": reg.client_id, "client_secret": reg.client_secret + "x"}), 401,
        "invalid_client")
    _oauth2_error(api.post("/registry/v1/token", json={
        "client_id": "rc_nobody", "client_secret": reg.client_secret}), 401, "invalid_client")
    bad = api.post("/registry/v1/token", auth=(reg.client_id, "wrong"))
    _oauth2_error(bad, 401, "invalid_client")
    assert bad.headers["www-authenticate"].startswith("Basic")
    body = _oauth2_error(api.post("/registry/v1/token", json={"client_id": reg.client_id}),
                         400, "invalid_request")
    assert set(body) == {"error", "error_description"}
    _oauth2_error(api.post("/registry/v1/token", json={
        "grant_type": "password", "client_id": reg.client_id,
        "client_secret": reg.client_secret}), 400, "unsupported_grant_type")
    _oauth2_error(api.post("/registry/v1/token", json={
        "client_id": reg.client_id, "client_secret": reg.client_secret,
        "scope": "units:read admin"}), 400, "invalid_scope")
    # Not a body type the endpoint takes: still an OAuth2 error, not the envelope.
    _oauth2_error(api.post("/registry/v1/token", content=b"client_id=x",
                           headers={"Content-Type": "application/pdf"}), 415,
                  "invalid_request")


def test_a_narrower_scope_is_enforced(api, reg):
    body = expect(api.post("/registry/v1/token", json={
        "client_id": reg.client_id, "client_secret": reg.client_secret,
        "scope": "units:read"}), 200)
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    unit_no = new_unit_no()
    assert_error(api.put(f"/registry/v1/units/{unit_no}", json=unit_payload(_sole()),
                         headers=headers), 403, "insufficient_scope")
    assert_error(api.get(f"/registry/v1/units/{unit_no}", headers=headers), 404, "not_found")


def test_forged_tokens_are_refused(api, reg, app_env):
    unit_no, _ = put_unit(api, reg, _sole())
    path = f"/registry/v1/units/{unit_no}"
    expect(api.get(path, headers=reg.headers), 200)
    header, claims, sig = _parts(reg.token)

    def call(token: str):
        return api.get(path, headers={"Authorization": f"Bearer {token}"})

    # tampered claims, original signature
    tampered = {**claims, "scope": claims["scope"] + " admin", "exp": claims["exp"] + 10}
    assert_error(call(f"{_b64(json.dumps(header).encode())}."
                      f"{_b64(json.dumps(tampered).encode())}.{sig}"), 401, "invalid_token")
    # alg: none
    none_header = {"alg": "none", "typ": "JWT", "kid": header["kid"]}
    unsigned = f"{_b64(json.dumps(none_header).encode())}.{_b64(json.dumps(claims).encode())}."
    assert_error(call(unsigned), 401, "invalid_token")
    # HS256 keyed with the public key (algorithm confusion)
    pem = (Path(app_env["DATA_DIR"]) / "secrets" / "token-es256.pem").read_bytes()
    public = serialization.load_pem_private_key(pem, password=None).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    hs_header = {"alg": "HS256", "typ": "JWT", "kid": header["kid"]}
    signing_input = (f"{_b64(json.dumps(hs_header).encode())}."
                     f"{_b64(json.dumps(claims).encode())}")
    mac = hmac.new(public, signing_input.encode(), hashlib.sha256).digest()
    assert_error(call(f"{signing_input}.{_b64(mac)}"), 401, "invalid_token")
    # garbage, no token, a mini-program token
    assert_error(call("not.a.jwt"), 401, "invalid_token")
    assert_error(api.get(path), 401, "unauthenticated")
    miniapp_token, _ = login(api)
    assert_error(call(miniapp_token), 401, "invalid_token")
    # and the registry token is no mini-program token
    assert_error(api.get("/api/v1/me", headers=reg.headers), 401, "invalid_token")


# -- region isolation ------------------------------------------------------------------------

def test_a_client_only_sees_its_own_region(api, reg, reg_tongcheng):
    unit_no, _ = put_unit(api, reg_tongcheng, _sole())
    assert unit_no.startswith("421222")
    expect(api.get(f"/registry/v1/units/{unit_no}", headers=reg_tongcheng.headers), 200)
    h = reg.headers
    assert_error(api.get(f"/registry/v1/units/{unit_no}", headers=h), 404, "not_found")
    assert_error(api.put(f"/registry/v1/units/{unit_no}",
                         json=unit_payload(_sole(), version=99), headers=h), 404, "not_found")
    assert_error(api.put(f"/registry/v1/units/{unit_no}/restrictions/CF-1",
                         json={"kind": "seizure"}, headers=h), 404, "not_found")
    assert_error(api.delete(f"/registry/v1/units/{unit_no}/restrictions/CF-1", headers=h), 404,
                 "not_found")
    # ... and did not change it
    body = expect(api.get(f"/registry/v1/units/{unit_no}", headers=reg_tongcheng.headers), 200)
    assert body["source_version"] == 1 and body["restrictions"] == []
    # a unit of its own region that does not exist is the same 404
    assert_error(api.get(f"/registry/v1/units/{new_unit_no('421202')}", headers=h), 404,
                 "not_found")


# -- validation ------------------------------------------------------------------------------

def test_invalid_pushes_name_their_fields(api, reg):
    owners = [owner(("王建国", new_id_number()), "by_share", 50),
              owner(("李秀英", new_id_number()[:17] + "Y"), "by_share", 50)]
    body = assert_error(api.put(f"/registry/v1/units/{new_unit_no()}",
                                json=unit_payload(owners, structure=9, inner_area=500),
                                headers=reg.headers), 400, "invalid_input")
    fields = body["error"]["details"]["fields"]
    assert set(fields) == {"owners[1].id_number", "structure", "inner_area"}
    for bad in (new_unit_no()[:27], new_unit_no().lower()):
        body = assert_error(api.put(f"/registry/v1/units/{bad}", json=unit_payload(_sole()),
                                    headers=reg.headers), 400, "invalid_input")
        assert "unit_no" in body["error"]["details"]["fields"]
    assert_error(api.put(f"/registry/v1/units/{new_unit_no()}", content=b"[1]",
                         headers={**reg.headers, "content-type": "application/json"}), 400,
                 "invalid_json")


# -- version ordering ------------------------------------------------------------------------

def test_source_version_ordering(api, reg):
    unit_no = new_unit_no()
    path = f"/registry/v1/units/{unit_no}"
    v5 = unit_payload([owner(("王建国", new_id_number()))], version=5)
    first = expect(api.put(path, json=v5, headers=reg.headers), 201)
    assert first == {"unit_no": unit_no, "applied": True, "result": "created",
                     "current_version": 5}
    # an older version is not applied
    v3 = {**v5, "owners": [owner(("张伟", new_id_number()))], "source_version": 3}
    stale = expect(api.put(path, json=v3, headers=reg.headers), 200)
    assert stale["applied"] is False and stale["reason"] == "stale_version"
    assert stale["current_version"] == 5
    stored = expect(api.get(path, headers=reg.headers), 200)
    assert stored["source_version"] == 5 and stored["owners"][0]["name_masked"] == "王*国"
    # the same version again is a harmless repeat
    again = expect(api.put(path, json=v5, headers=reg.headers), 200)
    assert again["applied"] is True and again["result"] == "unchanged"
    # the same version with other content is a conflict
    assert_error(api.put(path, json={**v5, "house_no": "OTHER"}, headers=reg.headers), 409,
                 "version_conflict")
    # a newer version replaces the unit and its owners
    v6 = {**v5, "owners": [owner(("张伟", new_id_number(), ), "joint"),
                           owner(("刘芳", new_id_number()), "joint")], "source_version": 6}
    assert expect(api.put(path, json=v6, headers=reg.headers), 200)["result"] == "updated"
    stored = expect(api.get(path, headers=reg.headers), 200)
    assert stored["source_version"] == 6 and stored["ownership_kind"] == "joint"
    assert [o["name_masked"] for o in stored["owners"]] == ["张*", "刘*"]


def test_a_certificate_belongs_to_one_unit(api, reg):
    _, cert = put_unit(api, reg, _sole())
    assert_error(api.put(f"/registry/v1/units/{new_unit_no()}",
                         json=unit_payload(_sole(), certificate_no=cert), headers=reg.headers),
                 409, "certificate_no_in_use")


# -- restrictions ----------------------------------------------------------------------------

def test_restrictions_are_added_and_lifted_not_deleted(api, reg):
    unit_no, _ = put_unit(api, reg, _sole())
    base = f"/registry/v1/units/{unit_no}/restrictions"
    mortgage = {"kind": "mortgage", "lender": "中国建设银行咸宁分行", "amount_fen": 52_000_000,
                "source_time": "2024-05-01T09:30:00+08:00"}
    created = api.put(f"{base}/DY-1", json=mortgage, headers=reg.headers)
    assert created.status_code == 201 and created.json()["changed"] is True
    repeat = expect(api.put(f"{base}/DY-1", json=mortgage, headers=reg.headers), 200)
    assert repeat["changed"] is False and repeat["data_version"] == created.json()["data_version"]
    assert_error(api.put(f"{base}/DY-1", json={"kind": "seizure"}, headers=reg.headers), 409,
                 "restriction_kind_changed")
    lifted = expect(api.delete(f"{base}/DY-1", headers=reg.headers), 200)
    assert lifted["active"] is False and lifted["lifted_at"]
    assert lifted["data_version"] != created.json()["data_version"]
    assert expect(api.delete(f"{base}/DY-1", headers=reg.headers), 200)["changed"] is False
    assert_error(api.put(f"{base}/DY-1", json=mortgage, headers=reg.headers), 409,
                 "restriction_lifted")
    assert_error(api.delete(f"{base}/NOPE", headers=reg.headers), 404, "restriction_not_found")
    stored = expect(api.get(f"/registry/v1/units/{unit_no}", headers=reg.headers), 200)
    [row] = stored["restrictions"]
    assert row["restriction_id"] == "DY-1" and row["active"] is False
    assert row["lender"] == "中国建设银行咸宁分行" and row["amount_fen"] == 52_000_000
    assert row["lifted_at"] and row["source_time"] == "2024-05-01T09:30:00+08:00"
    body = assert_error(api.put(f"{base}/DY-2", json={"kind": "mortgage"}, headers=reg.headers),
                        400, "invalid_input")
    assert {"lender", "amount_fen"} <= set(body["error"]["details"]["fields"])
    assert_error(api.put(f"/registry/v1/units/{new_unit_no()}/restrictions/CF-1",
                         json={"kind": "seizure"}, headers=reg.headers), 404, "not_found")


@pytest.mark.parametrize("kind", ["seizure", "objection"])
def test_restriction_ids_are_per_unit(api, reg, kind):
    a, _ = put_unit(api, reg, _sole())
    b, _ = put_unit(api, reg, _sole())
    assert put_restriction(api, reg, a, "R-1", {"kind": kind})["kind"] == kind
    assert put_restriction(api, reg, b, "R-1", {"kind": kind})["changed"] is True


def test_the_docs_say_how_stale_versions_answer(api):
    spec = expect(api.get("/docs/openapi.json"), 200)
    put = spec["paths"]["/registry/v1/units/{unit_no}"]["put"]
    assert "stale_version" in put["summary"]
