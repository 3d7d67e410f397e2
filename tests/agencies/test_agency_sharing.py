"""Sharing filed contracts with other agencies by contract number (seeds 000, 002): OAuth2
client credentials of their own, only the data items of their kind (PIPL minimum
necessary), region-scoped, every read on the parties' timeline, and filings pushed to
the region's tax clients through the webhook outbox."""

from __future__ import annotations

import base64
import json
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from authlib.integrations.httpx_client import OAuth2Client
from standardwebhooks import Webhook

from server.domain.sharing import KIND_ITEMS, answer_fields
from tests import sale as s
from tests.agencies import support as a

KINDS = tuple(KIND_ITEMS)


class _Hooks(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        return None


@pytest.fixture(scope="module")
def hooks():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Hooks)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/tax-hook"
    httpd.shutdown()


@pytest.fixture(scope="module")
def world(live_server, hooks):
    """A region with a client of every kind (the tax one with a webhook), another region's
    tax client, and a sale filed after the clients exist."""
    region, other = a.new_region(), a.new_region()
    with httpx.Client(base_url=live_server.base_url, timeout=60) as api:
        clients = {kind: a.agency(live_server, api, kind, region,
                                  webhook_url=hooks if kind == "tax" else None)
                   for kind in KINDS}
        stranger = a.agency(live_server, api, "tax", other)
        registry = s.registry_client(live_server, api, region=region)
        sale = s.filed_sale(live_server, api, client=registry, sellers=2)
        view = s.expect(api.get(f"/api/v1/contracts/{sale.contract_id}",
                                headers=sale.sellers[0].headers), 200)
    return {"region": region, "clients": clients, "stranger": stranger, "sale": sale,
            "contract_no": view["contract_no"], "filing_no": view["filing_no"],
            "registry": registry}


def _read(api: httpx.Client, client: a.Agency, contract_no: str) -> httpx.Response:
    return api.get(f"/agency/v1/contracts/{contract_no}", headers=client.headers)


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_reads_exactly_its_items(api, world, kind):
    sale = world["sale"]
    body = s.expect(_read(api, world["clients"][kind], world["contract_no"]), 200)
    items = KIND_ITEMS[kind]
    assert body["items"] == list(items) and body["agency_kind"] == kind
    assert set(body) == answer_fields(items), set(body) ^ answer_fields(items)
    assert body["contract_no"] == world["contract_no"] and body["status"] == "filed"
    assert body["filing_no"] == world["filing_no"]
    people = [*body.get("sellers", []), *body.get("buyers", [])]
    for person in people:
        assert ("id_number" in person) == ("id_numbers" in items)
        assert ("address" in person) == ("addresses" in items)
        assert "phone" not in person
    ids = {p["id_number"] for p in people if "id_number" in p}
    if kind == "provident_fund":
        assert "sellers" not in body
        assert ids == {b.id_number for b in sale.buyers}  # in full: it identifies the buyer
    else:
        assert len(body["sellers"]) == 2 and len(body["buyers"]) == 1
        assert ids == {p.id_number for p in sale.people}
    if kind == "public_security":
        assert "price_fen" not in body and "payment" not in body
    if kind == "tax":
        assert body["price_fen"] == s.terms()["price_fen"]
        assert body["areas"]["building_area"] == 98.56 and body["areas"]["inner_area"] == 82.1
    if kind == "bank":
        assert body["mortgage"]["custody_bank"] == "中国建设银行咸宁分行"
        assert "areas" not in body and "taxes_borne_by" not in body


def test_the_parties_timeline_lists_every_agency_read(api, world, live_server):
    sale = world["sale"]
    bank = world["clients"]["bank"]
    before = time.time()
    s.expect(_read(api, bank, world["contract_no"]), 200)
    for who in sale.people:  # every party sees it, the buyer as well as the sellers
        events = s.expect(api.get(f"/api/v1/contracts/{sale.contract_id}/timeline",
                                  headers=who.headers), 200)["events"]
        reads = [e for e in events if e["kind"] == "agency_accessed"]
        assert reads, events
        last = reads[-1]
        assert last["actor"] == f"agency:{bank.client_id}"
        assert last["data"]["agency_kind"] == "bank" and last["data"]["agency_kind_label"] == "银行"
        assert last["data"]["agency_name"] == f"bank-{world['region']}"
        assert last["data"]["items"] == list(KIND_ITEMS["bank"])
        assert len(last["data"]["item_labels"]) == len(KIND_ITEMS["bank"])
        assert datetime.fromisoformat(last["at"]).timestamp() >= before - 2
        # never a full ID number on the timeline
        assert not any(p.id_number in json.dumps(events, ensure_ascii=False)
                       for p in sale.people)
    # and the chain still verifies with the reads in it
    out = a.cli(live_server, "verify-chains", "--contract", sale.contract_id)
    assert out.returncode == 0, out.stdout + out.stderr


def test_another_region_and_unfiled_or_unknown_contracts_are_404(api, world, live_server):
    stranger = world["stranger"]
    got = _read(api, stranger, world["contract_no"])
    assert got.status_code == 404 and got.json()["error"]["code"] == "not_found"
    # a contract in signing (it has a number, but is not filed) is not shared either
    signing = s.sale_in_signing(live_server, api, client=world["registry"])
    number = s.expect(api.get(f"/api/v1/contracts/{signing.contract_id}",
                              headers=signing.sellers[0].headers), 200)["contract_no"]
    assert number
    assert _read(api, world["clients"]["tax"], number).status_code == 404
    assert _read(api, world["clients"]["tax"], "WQ" + world["region"] + "20990101"
                 "00001").status_code == 404
    # the stranger's read left nothing on the timeline
    events = s.expect(api.get(f"/api/v1/contracts/{world['sale'].contract_id}/timeline",
                              headers=world["sale"].buyers[0].headers), 200)["events"]
    assert not any(e["actor"] == f"agency:{stranger.client_id}" for e in events)


def test_malformed_contract_numbers_are_400_naming_the_field(api, world):
    tax = world["clients"]["tax"]
    for bad in ("WQ-1", "x" * 33, "编号1"):
        got = api.get(f"/agency/v1/contracts/{bad}", headers=tax.headers)
        assert got.status_code == 400, got.text
        assert "contract_no" in got.json()["error"]["details"]["fields"]


def test_tokens_are_not_interchangeable_with_the_registrys(api, world):
    sale, tax, registry = world["sale"], world["clients"]["tax"], world["registry"]
    got = api.get(f"/agency/v1/contracts/{world['contract_no']}", headers=registry.headers)
    assert got.status_code == 401 and got.json()["error"]["code"] == "invalid_token"
    assert "agency" in got.headers["www-authenticate"]
    got = api.get(f"/registry/v1/contracts/{world['filing_no']}", headers=tax.headers)
    assert got.status_code == 401
    got = api.get(f"/agency/v1/contracts/{world['contract_no']}",
                  headers=sale.sellers[0].headers)
    assert got.status_code == 401
    # registry credentials do not get an agency token, nor the other way round
    got = api.post("/agency/v1/token", json={"client_id": registry.client_id,
                                             "client_secret": registry.client_secret})
    assert got.status_code == 401 and got.json()["error"] == "invalid_client"
    got = api.post("/registry/v1/token", json={"client_id": tax.client_id,
                                               "client_secret": tax.client_secret})
    assert got.status_code == 401


def test_the_token_endpoint_speaks_rfc_6749_to_an_oauth2_library(api, world, live_server):
    tax = world["clients"]["bank"]
    with OAuth2Client(tax.client_id, tax.client_secret,
                      token_endpoint_auth_method="client_secret_basic") as oauth:
        token = oauth.fetch_token(live_server.base_url + "/agency/v1/token",
                                  grant_type="client_credentials")
        assert token["token_type"] == "Bearer" and token["scope"] == "contracts:read"
        got = oauth.get(live_server.base_url + f"/agency/v1/contracts/{world['contract_no']}")
        assert got.status_code == 200 and got.json()["agency_kind"] == "bank"
    wrong = api.post("/agency/v1/token", auth=(tax.client_id, "not-the-secret"))
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    assert wrong.headers["www-authenticate"].startswith("Basic")
    scope = api.post("/agency/v1/token", json={"client_id": tax.client_id,
                                               "client_secret": tax.client_secret,
                                               "scope": "contracts:write"})
    assert scope.status_code == 400 and scope.json()["error"] == "invalid_scope"
    grant = api.post("/agency/v1/token", data={"grant_type": "password"})
    assert grant.status_code == 400 and grant.json()["error"] == "unsupported_grant_type"
    empty = api.post("/agency/v1/token", json={})
    assert empty.status_code == 400 and empty.json()["error"] == "invalid_request"
    assert "client_id" in empty.json()["error_description"]
    assert empty.headers["cache-control"] == "no-store"


def test_a_disabled_client_is_locked_out_at_once(api, live_server, world):
    client = a.agency(live_server, api, "bank", world["region"])
    assert _read(api, client, world["contract_no"]).status_code == 200
    out = a.cli(live_server, "agency-client", "disable", client.client_id)
    assert out.returncode == 0, out.stdout
    got = _read(api, client, world["contract_no"])
    assert got.status_code == 401 and got.json()["error"]["code"] == "invalid_token"


def test_filing_is_pushed_to_the_regions_tax_client_only(api, world):
    tax = world["clients"]["tax"]
    deadline = time.monotonic() + 30
    mine = []
    while time.monotonic() < deadline:
        mine = [(h, b) for h, b in _Hooks.received
                if json.loads(b)["data"].get("contract_no") == world["contract_no"]]
        if mine:
            break
        time.sleep(0.2)
    assert len(mine) == 1, _Hooks.received
    headers, body = mine[0]
    payload = Webhook(tax.webhook["secret"]).verify(body, headers)
    assert payload["type"] == "contract.filed"
    # identifiers only: the data is read through the API, where the read is recorded
    assert payload["data"] == {"contract_no": world["contract_no"],
                               "filing_no": world["filing_no"],
                               "region_code": world["region"], "status": "filed"}
    assert base64.b64decode(tax.webhook["secret"].removeprefix("whsec_"))


def test_a_revoked_contract_answers_with_its_status_alone(api, live_server, world):
    from tests import flows

    sale = s.filed_sale(live_server, api, client=world["registry"])
    view = s.expect(api.get(f"/api/v1/contracts/{sale.contract_id}",
                            headers=sale.sellers[0].headers), 200)
    s.expect(api.post(f"/api/v1/contracts/{sale.contract_id}/revocation",
                      json={"reason": "协商解除"}, headers=sale.sellers[0].headers), 202)
    for who in sale.people:
        fv = flows.passed_verification(api, who.token, "revoke", sale.contract_id)
        s.expect(api.post(f"/api/v1/contracts/{sale.contract_id}/revocation/confirm",
                          json={"face_verification_id": fv}, headers=who.headers), 200)
    body = s.expect(_read(api, world["clients"]["tax"], view["contract_no"]), 200)
    assert body["status"] == "revoked" and body["items"] == []
    assert set(body) == answer_fields(())
    # and the revocation was pushed to the tax client as well
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        kinds = [json.loads(b)["type"] for _, b in _Hooks.received
                 if json.loads(b)["data"].get("contract_no") == view["contract_no"]]
        if "contract.revoked" in kinds:
            break
        time.sleep(0.2)
    assert kinds == ["contract.filed", "contract.revoked"], kinds


def test_reads_per_client_are_limited(fresh_env, tmp_path):
    from tests.live import LiveServer

    with LiveServer({**fresh_env, "AGENCY_READS_PER_MINUTE": "2"}).serving() as server, \
            httpx.Client(base_url=server.base_url, timeout=30) as api:
        client = a.agency(server, api, "tax", "421202")
        codes = [_read(api, client, "WQ42120220990101" + f"{i:05d}").status_code
                 for i in range(3)]
        assert codes == [404, 404, 429]


def test_the_cli_refuses_bad_options_naming_them(live_server):
    bad = a.cli(live_server, "agency-client", "create", "--name", "x", "--kind", "bank",
                "--region", "12", "--webhook-url", "https://example.invalid/")
    assert bad.returncode == 1
    assert "--region" in bad.stderr and "--webhook-url" in bad.stderr
    kind = a.cli(live_server, "agency-client", "create", "--name", "x", "--kind", "police",
                 "--region", "421202")
    assert kind.returncode == 2 and "--kind" in kind.stderr
    url = a.cli(live_server, "agency-client", "create", "--name", "x", "--kind", "tax",
                "--region", "421202", "--webhook-url", "ftp://x")
    assert url.returncode == 1 and "--webhook-url" in url.stderr
    listed = a.cli(live_server, "agency-client", "list")
    assert listed.returncode == 0 and "client_secret" not in listed.stdout
