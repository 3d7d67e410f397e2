"""Inputs that used to answer 500 (issue 12), and type errors that said 必填 (issue 13):
each is now a 4xx in the API.md format naming the field and what it should be."""

from __future__ import annotations

import httpx

from tests import sale as s
from tests.api.conftest import envelope, fields

LONG_ID = "x" * 33


def test_a_string_where_an_integer_belongs_says_so(api: httpx.Client, filed: s.Sale):
    who = filed.sellers[0]
    resp = api.post(f"/api/v1/contracts/{filed.contract_id}/confirm", json={"version": "1"},
                    headers=who.headers)
    assert fields(resp) == {"version": "应为整数"}
    missing = api.post(f"/api/v1/contracts/{filed.contract_id}/confirm", json={},
                       headers=who.headers)
    assert fields(missing) == {"version": "必填"}


def test_type_errors_name_the_expected_kind(api: httpx.Client, user: s.Person,
                                            registry: s.RegistryClient):
    _, cert = s.register_house(api, registry, [user])
    body = {"kind": "resale", "certificate_no": cert, "initiator_role": "seller",
            "sellers": [user.party()], "buyers": "nobody",
            "terms": {**s.terms(funds_custody="yes", payment_method="cash", deposit_fen=1.5),
                      "price_fen": "100"}}
    got = fields(api.post("/api/v1/contracts", json=body, headers=user.headers))
    assert got["buyers"] == "应为数组"
    assert got["terms.price_fen"] == "应为整数"
    assert got["terms.deposit_fen"] == "应为整数"
    assert got["terms.funds_custody"] == "应为true或false"
    assert got["terms.payment_method"].startswith("可选：full")


def test_over_long_face_verification_ids(api: httpx.Client, user: s.Person):
    for resp in (api.get(f"/api/v1/face-verifications/{LONG_ID}", headers=user.headers),
                 api.post(f"/api/v1/face-verifications/{LONG_ID}/complete",
                          headers=user.headers)):
        assert fields(resp) == {"verification_id": "长度不能超过32个字符"}


def test_over_long_filing_numbers_on_every_registry_route(api: httpx.Client,
                                                          registry: s.RegistryClient):
    base = f"/registry/v1/contracts/{LONG_ID}"
    for resp in (api.get(base, headers=registry.headers),
                 api.get(base + "/document.pdf", headers=registry.headers),
                 api.post(base + "/acceptance", json={"case_no": "A1"},
                          headers=registry.headers),
                 api.post(base + "/completion", headers=registry.headers)):
        assert "filing_no" in fields(resp)


def test_feed_cursor_and_limit(api: httpx.Client, registry: s.RegistryClient):
    for query in ({"cursor": str(2**63)}, {"cursor": "²"}, {"limit": "²"}, {"cursor": "-1"},
                  {"limit": "0"}, {"limit": "201"}, {"cursor": "1_0"}, {"cursor": " 5"},
                  {"cursor": "9" * 40}):
        resp = api.get("/registry/v1/contracts", params=query, headers=registry.headers)
        assert set(fields(resp)) == set(query), query
    ok = api.get("/registry/v1/contracts", params={"cursor": str(2**63 - 1), "limit": "200"},
                 headers=registry.headers)
    assert ok.status_code == 200 and ok.json()["items"] == []


def test_if_match_must_be_a_version(api: httpx.Client, filed: s.Sale):
    who = filed.sellers[0]
    for value in ("²", "1.0", "abc", "9" * 30, "\u0661"):
        resp = api.patch(f"/api/v1/contracts/{filed.contract_id}", json={"terms": s.terms()},
                         headers={**who.headers, "If-Match": value.encode()})
        assert envelope(resp, 400)["error"]["code"] in ("invalid_input", "invalid_if_match")


def test_a_share_of_nan_or_infinity(api: httpx.Client, user: s.Person,
                                    registry: s.RegistryClient):
    _, cert = s.register_house(api, registry, [user])
    buyer = s.Person("李秀英", s.flows.make_id_number(), "")
    for share in ("NaN", "Infinity", "-Infinity", "1e400", "-5"):
        body = {"kind": "resale", "certificate_no": cert, "initiator_role": "seller",
                "sellers": [user.party()], "buyers": [buyer.party(share)],  # type: ignore[arg-type]
                "terms": s.terms()}
        got = fields(api.post("/api/v1/contracts", json=body, headers=user.headers))
        assert "buyers[0].share" in got, (share, got)


def test_nul_characters_never_reach_the_database(api: httpx.Client, user: s.Person,
                                                 registry: s.RegistryClient):
    got = fields(api.post("/api/v1/properties/check", json={"certificate_no": "鄂\x00号"},
                          headers=user.headers))
    assert got == {"certificate_no": "不能包含控制字符"}
    got = fields(api.post("/api/v1/face-verifications", headers=user.headers, json={
        "purpose": "sign", "consent": True, "contract_id": "ab\x00cd"}))
    assert got == {"contract_id": "只能包含字母、数字、下划线和连字符"}
    # The token endpoint answers RFC 6749 §5.2 bodies, the field's reason in the description.
    token = api.post("/registry/v1/token", json={"client_id": "rc\x00x", "client_secret": "s"})
    form = api.post("/registry/v1/token", data={"client_id": "rc\x00x", "client_secret": "s"})
    for answer in (token, form):
        assert answer.status_code == 400, answer.text
        assert answer.json() == {"error": "invalid_request",
                                 "error_description": "输入有误：client_id 不能包含控制字符"}
    # The public verification answers the same 404 as for any unknown code.
    envelope(api.get("/api/v1/verify/ab%00cd", params={"t": "x\x00"}), 404, "not_found")


def test_registry_units_report_structure_and_rules_together(api: httpx.Client,
                                                            registry: s.RegistryClient,
                                                            user: s.Person):
    payload = s.unit_payload([user])
    payload["structure"] = "3"
    payload["inner_area"] = "500"
    got = fields(api.put(f"/registry/v1/units/{s.new_unit_no()}", json=payload,
                         headers=registry.headers))
    assert got == {"structure": "可选：1, 2, 3, 4, 5, 6", "inner_area": "套内面积不能大于建筑面积"}
