"""The OpenAPI document at /docs/openapi.json: valid 3.1 (openapi-spec-validator), generated
from the same models that validate requests, and saying what an integrator needs."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator, validate

from tests.live import LiveServer

_LIST_OR_DICT_METHODS = {"append", "extend", "pop", "fromkeys", "keys", "items", "copy"}


@pytest.fixture(scope="module")
def spec(live_server: LiveServer) -> dict[str, Any]:
    resp = httpx.get(live_server.base_url + "/docs/openapi.json", timeout=30)
    assert resp.status_code == 200
    return resp.json()


def _schema(spec: dict[str, Any], name: str) -> dict[str, Any]:
    return spec["components"]["schemas"][name]


def _resolve(spec: dict[str, Any], ref_holder: dict[str, Any]) -> dict[str, Any]:
    ref = ref_holder["$ref"]
    return _schema(spec, ref.rsplit("/", 1)[-1])


def _enum(schema: dict[str, Any]) -> list[Any]:
    if "enum" in schema:
        return schema["enum"]
    for option in schema.get("anyOf", []):
        if "enum" in option:
            return option["enum"]
    raise AssertionError(f"no enum in {schema}")


def test_the_validator_accepts_it(spec):
    assert spec["openapi"].startswith("3.1")
    validate(spec, cls=OpenAPIV31SpecValidator)  # raises on the first error
    errors = list(OpenAPIV31SpecValidator(spec).iter_errors())
    assert errors == []


def test_every_operation_documents_its_answers_and_errors(spec):
    operations = [(path, method, op) for path, item in spec["paths"].items()
                  for method, op in item.items()]
    assert len(operations) >= 40
    for path, method, op in operations:
        assert "default" not in op["responses"], (path, method)
        assert any(code.startswith("2") or code == "304" for code in op["responses"])
        for code, answer in op["responses"].items():
            if int(code) >= 400:
                assert "错误码" in answer["description"], (path, method, code)
                assert answer["content"]["application/json"]["schema"]["$ref"].endswith(
                    "/ErrorEnvelope")
        if "{" in path:
            assert "404" in op["responses"] and "400" in op["responses"], (path, method)


def test_the_contract_body_lists_real_fields_and_allowed_values(spec):
    create = spec["paths"]["/api/v1/contracts"]["post"]
    body = _resolve(spec, create["requestBody"]["content"]["application/json"]["schema"])
    assert set(body["required"]) >= {"certificate_no", "initiator_role", "sellers", "buyers",
                                      "terms"}
    for group in ("sellers", "buyers"):
        items = _resolve(spec, body["properties"][group]["items"])
        assert set(items["properties"]) == {"name", "id_number", "phone", "address", "share"}
        assert not _LIST_OR_DICT_METHODS & set(items["properties"])
    terms = _resolve(spec, body["properties"]["terms"])
    assert not _LIST_OR_DICT_METHODS & set(terms["properties"])
    assert set(terms["required"]) == {"price_fen", "payment_method", "payment_schedule",
                                      "delivery_date", "dispute_resolution"}
    assert _enum(terms["properties"]["payment_method"]) == [
        "full", "commercial_loan", "provident_fund_loan", "combined"]
    dispute = _resolve(spec, terms["properties"]["dispute_resolution"])
    assert _enum(dispute["properties"]["method"]) == ["arbitration", "court"]
    assert terms["properties"]["price_fen"]["type"] == "integer"
    assert terms["properties"]["price_fen"]["minimum"] == 1
    assert terms["properties"]["delivery_date"]["format"] == "date"
    assert "custody_bank" in terms["properties"]
    assert _enum(body["properties"]["initiator_role"]) == ["seller", "buyer"]


def test_enums_of_roles_statuses_and_restrictions(spec):
    party = _schema(spec, "PartyView")
    assert _enum(party["properties"]["role"]) == ["seller", "buyer", "agent"]
    contract = _schema(spec, "ContractView")
    assert set(_enum(contract["properties"]["status"])) == {
        "draft", "signing", "filed", "registration_accepted", "registered", "revoked",
        "cancelled"}
    restriction = _schema(spec, "RestrictionBody")
    assert _enum(restriction["properties"]["kind"]) == [
        "seizure", "mortgage", "objection", "advance_notice"]


def test_property_check_has_a_schema_not_an_example(spec):
    op = spec["paths"]["/api/v1/properties/check"]["post"]
    body = _resolve(spec, op["requestBody"]["content"]["application/json"]["schema"])
    assert body["type"] == "object" and body["required"] == ["certificate_no"]
    assert body["properties"]["certificate_no"]["maxLength"] == 64
    answer = _resolve(spec, op["responses"]["200"]["content"]["application/json"]["schema"])
    assert {"check_id", "eligible", "reasons", "unit"} <= set(answer["required"])


def test_limits_and_formats_of_path_and_query_parameters(spec):
    face = spec["paths"]["/api/v1/face-verifications/{verification_id}"]["get"]
    (param,) = face["parameters"]
    assert param["schema"]["maxLength"] == 32 and param["schema"]["pattern"]
    feed = spec["paths"]["/registry/v1/contracts"]["get"]
    names = {p["name"]: p for p in feed["parameters"]}
    assert set(names) == {"cursor", "limit"}
    patch = spec["paths"]["/api/v1/contracts/{contract_id}"]["patch"]
    headers = [p for p in patch["parameters"] if p["in"] == "header"]
    assert headers[0]["name"] == "If-Match" and headers[0]["required"] is True
    assert "412" in patch["responses"] and "428" in patch["responses"]


def test_security_schemes(spec):
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearer"] == {**schemes["bearer"], "type": "http", "scheme": "bearer"}
    flow = schemes["registry"]["flows"]["clientCredentials"]
    assert schemes["registry"]["type"] == "oauth2"
    assert flow["tokenUrl"] == "/registry/v1/token" and "contracts:read" in flow["scopes"]
    assert spec["paths"]["/api/v1/me"]["get"]["security"] == [{"bearer": []}]
    assert spec["paths"]["/registry/v1/contracts"]["get"]["security"] == [
        {"registry": ["contracts:read"]}]
    assert "security" not in spec["paths"]["/api/v1/verify/{code}"]["get"]
    assert "security" not in spec["paths"]["/registry/v1/token"]["post"]


def test_the_document_is_the_models(spec):
    """Generated from server.schemas: what validates requests is what is documented."""
    from server.schemas.miniapp import ContractCreateBody

    local = ContractCreateBody.model_json_schema(ref_template="#/components/schemas/{model}")
    assert local["properties"] == _schema(spec, "ContractCreateBody")["properties"]


def test_answers_match_their_documented_models(api: httpx.Client, filed, registry):
    """The response models are what the service says, checked on a real filed sale."""
    from urllib.parse import urlsplit

    from server.schemas import miniapp as m
    from server.schemas import registry as r
    from server.schemas import verify as v

    seller = filed.sellers[0]

    def ok(resp: httpx.Response) -> Any:
        assert resp.status_code in (200, 201), resp.text
        return resp.json()

    contract = m.ContractView.model_validate(
        ok(api.get(f"/api/v1/contracts/{filed.contract_id}", headers=seller.headers)))
    m.ContractList.model_validate(ok(api.get("/api/v1/contracts", headers=seller.headers)))
    m.UserView.model_validate(ok(api.get("/api/v1/me", headers=seller.headers)))
    m.Timeline.model_validate(ok(api.get(f"/api/v1/contracts/{filed.contract_id}/timeline",
                                         headers=seller.headers)))
    m.OwnedHouses.model_validate(ok(api.get("/api/v1/properties/mine",
                                            headers=seller.headers)))
    m.PropertyCheck.model_validate(ok(api.post(
        "/api/v1/properties/check", json={"certificate_no": filed.certificate_no},
        headers=seller.headers)))
    r.Feed.model_validate(ok(api.get("/registry/v1/contracts", headers=registry.headers)))
    r.SharedData.model_validate(ok(api.get(f"/registry/v1/contracts/{contract.filing_no}",
                                           headers=registry.headers)))
    m.UnitView.model_validate(ok(api.get(f"/registry/v1/units/{filed.unit_no}",
                                         headers=registry.headers)))
    url = urlsplit(contract.verification_url or "")
    code, token = url.path.rsplit("/", 1)[-1], url.query.removeprefix("t=")
    v.VerificationFacts.model_validate(ok(api.get(f"/api/v1/verify/{code}",
                                                  params={"t": token})))


def test_statistics_agency_staff_and_rating_operations(spec):
    stats = spec["paths"]["/registry/v1/statistics"]["get"]
    assert set(stats["responses"]["200"]["content"]) == {"application/json", "text/csv"}
    params = {p["name"]: p for p in stats["parameters"]}
    assert set(params) == {"from", "to", "group_by"}
    assert params["from"]["required"] and params["to"]["required"]
    assert params["from"]["schema"]["format"] == "date"
    assert _enum(params["group_by"]["schema"]) == ["district", "month"]
    row = _schema(spec, "StatisticsRow")
    assert set(row["required"]) >= {"key", "filed", "revoked", "avg_price_per_m2_fen",
                                    "median_hours_draft_to_filing"}
    schemes = spec["components"]["securitySchemes"]
    assert schemes["agency"]["flows"]["clientCredentials"]["tokenUrl"] == "/agency/v1/token"
    assert schemes["staff"]["scheme"] == "bearer"
    shared = spec["paths"]["/agency/v1/contracts/{contract_no}"]["get"]
    assert shared["security"] == [{"agency": ["contracts:read"]}]
    assert shared["parameters"][0]["schema"]["maxLength"] == 32
    answer = _resolve(spec, shared["responses"]["200"]["content"]["application/json"]["schema"])
    assert set(_enum(answer["properties"]["agency_kind"])) == {
        "tax", "bank", "public_security", "provident_fund"}
    draft = spec["paths"]["/api/v1/staff/contracts"]["post"]
    assert draft["security"] == [{"staff": []}]
    body = _resolve(spec, draft["requestBody"]["content"]["application/json"]["schema"])
    assert "initiator_role" not in body["properties"]
    assert set(body["required"]) >= {"certificate_no", "sellers", "buyers", "terms"}
    rating = spec["paths"]["/api/v1/contracts/{contract_id}/rating"]["post"]
    body = _resolve(spec, rating["requestBody"]["content"]["application/json"]["schema"])
    assert body["properties"]["score"]["minimum"] == 1
    assert body["properties"]["score"]["maximum"] == 5
    assert "409" in rating["responses"] and "already_rated" in rating["responses"]["409"][
        "description"]
