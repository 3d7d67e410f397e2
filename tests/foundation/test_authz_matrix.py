"""The authorization matrix: every endpoint × every kind of caller → the expected status.

The rows are checked against the app's own route table, so a new route without a row
(or a row for a route that is gone) fails :func:`test_every_route_has_a_row`. Callers:

- ``anon``: no credentials;
- ``other``: a logged-in user with a bound identity who is no party of the contract;
- ``party``: the seller of the filed contract the paths name;
- ``reg_other``: a registration office of another region;
- ``reg``: the registration office of the contract's region;
- ``staff_other``: a service point's staff member of another region;
- ``staff``: a staff member of the contract's region (who drafted ``{staff_cid}``);
- ``agency_other``: an agency's client (tax) of another region;
- ``agency``: the tax client of the contract's region.

Every kind of token is tried on every route, so a staff or agency token accepted where
it must not be (a party's step, the registry API) shows as a mismatch.

Mutating requests carry bodies that pass the caller's authorization and then stop at
validation or at the contract's state (a 400/409 for the party shows it got past the
guard), so one world serves the whole table; the few that do change state are ordered.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from sanic import Sanic

from server.config import Settings
from server.web import app as app_assets
from tests import flows
from tests import sale as s
from tests.agencies import support as a
from tests.verify.conftest import code_and_token

CALLERS = ("anon", "other", "party", "reg_other", "reg", "staff_other", "staff",
           "agency_other", "agency")


def user_route(party: int, other: int = 404) -> tuple[int, ...]:
    """A mini-program route: 401 without a user token (no other token is a user token)."""
    return (401, other, party, 401, 401, 401, 401, 401, 401)


def registry_route(region: int, other_region: int = 404) -> tuple[int, ...]:
    """A registry route: 401 without a registry token (no other token is a registry token)."""
    return (401, 401, 401, other_region, region, 401, 401, 401, 401)


def staff_route(region: int, other_region: int = 404) -> tuple[int, ...]:
    """A staff route: 401 without a staff token (user tokens are not staff tokens)."""
    return (401, 401, 401, 401, 401, other_region, region, 401, 401)


def agency_route(region: int, other_region: int = 404) -> tuple[int, ...]:
    """An agency route: 401 without an agency token (registry tokens are not agency tokens)."""
    return (401, 401, 401, 401, 401, 401, 401, other_region, region)


def public(status: int) -> tuple[int, ...]:
    return (status,) * len(CALLERS)


# "METHOD /route/pattern": (expected per caller in CALLERS order, path, body)
MATRIX: dict[str, tuple[tuple[int, ...], str, object]] = {
    # -- mini-program: accounts
    "POST /api/v1/auth/login": (public(400), "/api/v1/auth/login", {}),
    "POST /api/v1/auth/refresh": (public(400), "/api/v1/auth/refresh", {}),
    "GET /api/v1/me": (user_route(200, 200), "/api/v1/me", None),
    # -- face verification
    "POST /api/v1/face-verifications": (user_route(400, 400), "/api/v1/face-verifications",
                                        {"purpose": "sign", "consent": True}),
    "GET /api/v1/face-verifications/<verification_id:str>": (
        user_route(200), "/api/v1/face-verifications/{fv}", None),
    "POST /api/v1/face-verifications/<verification_id:str>/complete": (
        user_route(409), "/api/v1/face-verifications/{fv}/complete", None),
    # -- houses
    "POST /api/v1/properties/check": (user_route(400, 400), "/api/v1/properties/check", {}),
    "GET /api/v1/properties/mine": (user_route(200, 200), "/api/v1/properties/mine", None),
    # -- contracts
    "POST /api/v1/contracts": (user_route(400, 400), "/api/v1/contracts", {}),
    "GET /api/v1/contracts": (user_route(200, 200), "/api/v1/contracts", None),
    "GET /api/v1/contracts/<contract_id:str>": (user_route(200), "/api/v1/contracts/{cid}",
                                                None),
    "PATCH /api/v1/contracts/<contract_id:str>": (user_route(409), "/api/v1/contracts/{cid}",
                                                  {"terms": s.terms()}),  # If-Match: below
    "POST /api/v1/contracts/<contract_id:str>/cancel": (
        user_route(409), "/api/v1/contracts/{cid}/cancel", None),
    "POST /api/v1/contracts/<contract_id:str>/confirm": (
        user_route(409), "/api/v1/contracts/{cid}/confirm", {"version": 1}),
    "GET /api/v1/contracts/<contract_id:str>/document.pdf": (
        user_route(200), "/api/v1/contracts/{cid}/document.pdf", None),
    "POST /api/v1/contracts/<contract_id:str>/invitations": (
        user_route(409), "/api/v1/contracts/{cid}/invitations", {"party_id": "{buyer_party}"}),
    "POST /api/v1/invitations/<token:str>/accept": (
        user_route(404, 404), "/api/v1/invitations/{invitation}/accept", None),
    "GET /api/v1/contracts/<contract_id:str>/pages/<page:str>": (
        user_route(200), "/api/v1/contracts/{cid}/pages/1.png", None),
    "POST /api/v1/contracts/<contract_id:str>/signatures": (
        user_route(409), "/api/v1/contracts/{cid}/signatures",
        {"face_verification_id": "{fv}", "signature_image": "{png}"}),
    "GET /api/v1/contracts/<contract_id:str>/evidence.pdf": (
        user_route(200), "/api/v1/contracts/{cid}/evidence.pdf", None),
    "GET /api/v1/contracts/<contract_id:str>/timeline": (
        user_route(200), "/api/v1/contracts/{cid}/timeline", None),
    "POST /api/v1/contracts/<contract_id:str>/rating": (
        user_route(201), "/api/v1/contracts/{cid}/rating", {"score": 5}),
    # Changes state for the party (asks for revocation): after everything above.
    "POST /api/v1/contracts/<contract_id:str>/revocation": (
        user_route(202), "/api/v1/contracts/{cid}/revocation", {"reason": "权限矩阵"}),
    "POST /api/v1/contracts/<contract_id:str>/revocation/confirm": (
        user_route(409), "/api/v1/contracts/{cid}/revocation/confirm",
        {"face_verification_id": "{fv}"}),
    # -- service-point staff (代理签约)
    "POST /api/v1/staff/login": (public(400), "/api/v1/staff/login", {}),
    "POST /api/v1/staff/password": (public(400), "/api/v1/staff/password", {}),
    "POST /api/v1/staff/contracts": (staff_route(400, 400), "/api/v1/staff/contracts", {}),
    "GET /api/v1/staff/contracts": (staff_route(200, 200), "/api/v1/staff/contracts", None),
    "GET /api/v1/staff/contracts/<contract_id:str>": (
        staff_route(200), "/api/v1/staff/contracts/{staff_cid}", None),
    "POST /api/v1/staff/contracts/<contract_id:str>/invitations": (
        staff_route(201), "/api/v1/staff/contracts/{staff_cid}/invitations",
        {"party_id": "{staff_party}"}),
    # Changes state (cancels the counter draft): after the other rows of that contract.
    "POST /api/v1/staff/contracts/<contract_id:str>/cancel": (
        staff_route(200), "/api/v1/staff/contracts/{staff_cid}/cancel", None),
    # -- other agencies
    "POST /agency/v1/token": (public(400), "/agency/v1/token", {}),
    "GET /agency/v1/contracts/<contract_no:str>": (
        agency_route(200), "/agency/v1/contracts/{contract_no}", None),
    # -- public verification
    "GET /v/<code:str>": (public(200), "/v/{code}?t={qr_token}", None),
    "GET /api/v1/verify/<code:str>": (public(200), "/api/v1/verify/{code}?t={qr_token}", None),
    "POST /api/v1/verify/<code:str>/document": (
        public(400), "/api/v1/verify/{code}/document?t={qr_token}", b""),
    # -- registry office
    "POST /registry/v1/token": (public(400), "/registry/v1/token", {}),
    "GET /registry/v1/units/<unit_no:str>": (registry_route(200), "/registry/v1/units/{unit}",
                                             None),
    # A malformed body is refused by its shape before the region is looked at (it says
    # nothing about the unit); the region guard of these paths is the GET/DELETE rows'.
    "PUT /registry/v1/units/<unit_no:str>": (registry_route(400, 400),
                                             "/registry/v1/units/{unit}", {}),
    "PUT /registry/v1/units/<unit_no:str>/restrictions/<restriction_id:str>": (
        registry_route(400, 400), "/registry/v1/units/{unit}/restrictions/R-matrix", {}),
    "DELETE /registry/v1/units/<unit_no:str>/restrictions/<restriction_id:str>": (
        registry_route(200), "/registry/v1/units/{unit}/restrictions/R-matrix", None),
    "GET /registry/v1/contracts": (registry_route(200, 200), "/registry/v1/contracts", None),
    "GET /registry/v1/statistics": (registry_route(200, 200),
                                    "/registry/v1/statistics?from=2026-01-01&to=2026-12-31",
                                    None),
    "GET /registry/v1/contracts/<filing_no:str>": (
        registry_route(200), "/registry/v1/contracts/{filing_no}", None),
    "GET /registry/v1/contracts/<filing_no:str>/document.pdf": (
        registry_route(200), "/registry/v1/contracts/{filing_no}/document.pdf", None),
    "GET /registry/v1/contracts/<filing_no:str>/evidence.pdf": (
        registry_route(200), "/registry/v1/contracts/{filing_no}/evidence.pdf", None),
    # These two change state (accepted, then registered): after every other contract row.
    "POST /registry/v1/contracts/<filing_no:str>/acceptance": (
        registry_route(200), "/registry/v1/contracts/{filing_no}/acceptance",
        {"case_no": "SL-matrix-1"}),
    "POST /registry/v1/contracts/<filing_no:str>/completion": (
        registry_route(200), "/registry/v1/contracts/{filing_no}/completion", None),
    # -- PKI, operations, documentation, sandbox: public by design
    "GET /pki/roots.pem": (public(200), "/pki/roots.pem", None),
    "GET /pki/ca/<name:str>": (public(200), "/pki/ca/root.cer", None),
    "GET /pki/crl/<name:str>": (public(200), "/pki/crl/issuing.crl", None),
    # OCSP and TSA answer garbage in their own protocol (malformedRequest / rejection).
    "POST /pki/ocsp": (public(200), "/pki/ocsp", b"not der"),
    "GET /pki/ocsp/<encoded:path>": (public(200), "/pki/ocsp/bm90IGRlcg==", None),
    "POST /pki/tsa": (public(200), "/pki/tsa", b"not der"),
    "GET /healthz": (public(200), "/healthz", None),
    "GET /readyz": (public(200), "/readyz", None),
    "GET /metrics": (public(200), "/metrics", None),
    "GET /docs": (public(200), "/docs", None),
    "GET /docs/openapi.json": (public(200), "/docs/openapi.json", None),
    "GET /docs/assets/<name:str>": (public(200), "/docs/assets/docs.css", None),
    # -- the H5 client: public pages and assets (its data comes from the API above)
    "GET /app": (public(301), "/app", None),
    "GET /app/": (public(200), "/app/", None),
    "GET /app/a/<build:str>/<name:path>": (public(200), "/app/a/{build}/app.js", None),
    "GET /app/qr.svg": (public(400), "/app/qr.svg?u=https://example.com/", None),
    "POST /sandbox/faceid": (public(200), "/sandbox/faceid", {}),
    "POST /": (public(200), "/", {}),  # the sandbox, where the official Tencent SDK posts
    "POST /sandbox/faceid/scan": (public(400), "/sandbox/faceid/scan", {}),
    "POST /sandbox/faceid/expire": (public(400), "/sandbox/faceid/expire", {}),
    # Last: they end the caller's session.
    "POST /api/v1/auth/logout": (user_route(204, 204), "/api/v1/auth/logout", None),
    "POST /api/v1/staff/logout": (staff_route(204, 204), "/api/v1/staff/logout", None),
}


# Headers a row's request needs besides the caller's credentials.
HEADERS = {"PATCH /api/v1/contracts/<contract_id:str>": {"If-Match": '"1"'}}


def route_table(tmp_path) -> set[str]:
    """``METHOD /pattern`` of every route the app serves (the development configuration,
    which has every route production has, plus the sandbox's)."""
    from server.app import create_app

    Sanic.test_mode = True
    app = create_app(Settings.from_env({"DATA_DIR": str(tmp_path)}),
                     name=f"matrix{secrets.token_hex(3)}")
    out = set()
    for route in app.router.routes:
        for method in route.methods - {"HEAD", "OPTIONS"}:
            out.add(f"{method} /{route.path}")
    return out


def test_every_route_has_a_row(tmp_path):
    routes = route_table(tmp_path)
    missing = sorted(routes - MATRIX.keys())
    stale = sorted(MATRIX.keys() - routes)
    assert not missing, f"routes without a row in the authorization matrix: {missing}"
    assert not stale, f"rows for routes that do not exist: {stale}"


@dataclass
class World:
    headers: dict[str, dict[str, str]]
    values: dict[str, str]


@pytest.fixture(scope="module")
def world(live_server) -> Iterator[World]:
    with httpx.Client(base_url=live_server.base_url, timeout=60) as api:
        region = s.registry_client(live_server, api)
        other_region = s.registry_client(live_server, api, region="421221")
        sale = s.filed_sale(live_server, api, client=region)
        party, buyer = sale.sellers[0], sale.buyers[0]
        other = s.person(api)
        view = s.expect(api.get(f"/api/v1/contracts/{sale.contract_id}",
                                headers=party.headers), 200)
        code, qr_token = code_and_token(view["verification_url"])
        # The party's own face verification (pending): a binding of the same identity.
        fv = flows.start_verification(api, party.token, "bind_identity", name=party.name,
                                      id_number=party.id_number)["id"]
        s.expect(api.put(f"/registry/v1/units/{sale.unit_no}/restrictions/R-matrix",
                         json={"kind": "objection"}, headers=region.headers), 201)
        clerk = a.staff(live_server, api, s.REGION)
        clerk_other = a.staff(live_server, api, "421221")
        tax = a.agency(live_server, api, "tax", s.REGION)
        tax_other = a.agency(live_server, api, "tax", "421221")
        counter_seller, counter_buyer = s.person(api), s.person(api)
        _, cert = s.register_house(api, region, [counter_seller])
        drafted = s.expect(api.post("/api/v1/staff/contracts", json={
            "certificate_no": cert, "sellers": [counter_seller.party()],
            "buyers": [counter_buyer.party()], "terms": s.terms()}, headers=clerk.headers), 201)
        yield World(
            headers={"anon": {}, "other": other.headers, "party": party.headers,
                     "reg_other": other_region.headers, "reg": region.headers,
                     "staff_other": clerk_other.headers, "staff": clerk.headers,
                     "agency_other": tax_other.headers, "agency": tax.headers},
            values={"cid": sale.contract_id, "fv": fv, "unit": sale.unit_no,
                    "staff_cid": drafted["id"],
                    "staff_party": s.party_id_of(drafted, counter_buyer),
                    "contract_no": view["contract_no"],
                    "filing_no": view["filing_no"], "code": code, "qr_token": qr_token,
                    "invitation": "inv_" + secrets.token_hex(16),
                    "buyer_party": s.party_id_of(view, buyer), "png": s.signature_png(),
                    "build": app_assets.BUILD})


def _fill(value: object, values: dict[str, str]) -> object:
    if isinstance(value, str):
        for name, v in values.items():
            value = value.replace("{" + name + "}", v)
        return value
    if isinstance(value, dict):
        return {k: _fill(v, values) for k, v in value.items()}
    return value


def test_the_authorization_matrix(live_server, world: World):
    mismatches = []
    with httpx.Client(base_url=live_server.base_url, timeout=60) as api:
        for route, (expected, path, body) in MATRIX.items():
            method = route.split(" ", 1)[0]
            url = _fill(path, world.values)
            for caller, want in zip(CALLERS, expected, strict=True):
                kwargs: dict = {"headers": {**world.headers[caller], **HEADERS.get(route, {})}}
                if isinstance(body, bytes):
                    kwargs["content"] = body
                    kwargs["headers"]["Content-Type"] = "application/octet-stream"
                elif body is not None:
                    kwargs["json"] = _fill(body, world.values)
                got = api.request(method, url, **kwargs)
                if got.status_code != want:
                    mismatches.append(f"{route} as {caller}: {got.status_code} (want {want}) "
                                      f"{got.text[:160]}")
    assert not mismatches, "\n".join(mismatches)
