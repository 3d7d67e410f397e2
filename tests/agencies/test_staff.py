"""Agent-assisted signing at a service point (代理签约, seed 003): staff accounts with a
one-time password, a draft made at the counter, invitation QR codes; the parties join,
confirm and sign on their own phones with their own face verification; staff can never
act for a party; every staff action is on the timeline; staff see only their region."""

from __future__ import annotations

import re
from urllib.parse import unquote

import httpx
import pytest
import zxingcpp
from PIL import Image, ImageDraw

from tests import flows
from tests import sale as s
from tests.agencies import support as a


@pytest.fixture(scope="module")
def region() -> str:
    return a.new_region()


@pytest.fixture(scope="module")
def counter(live_server, region):
    with httpx.Client(base_url=live_server.base_url, timeout=60) as api:
        registry = s.registry_client(live_server, api, region=region)
        clerk = a.staff(live_server, api, region)
        colleague = a.staff(live_server, api, region, service_point="赤壁市政务服务中心",
                            name="窗口李娜")
        stranger = a.staff(live_server, api, a.new_region())
    return {"registry": registry, "clerk": clerk, "colleague": colleague,
            "stranger": stranger}


def _draft(api: httpx.Client, clerk: a.Staff, cert: str, sellers: list[s.Person],
           buyers: list[s.Person], **over) -> httpx.Response:
    body = {"kind": "resale", "certificate_no": cert,
            "sellers": [p.party() for p in sellers], "buyers": [b.party() for b in buyers],
            "terms": s.terms(), **over}
    return api.post("/api/v1/staff/contracts", json=body, headers=clerk.headers)


def test_the_one_time_password_only_sets_ones_own(api, live_server, region):
    member = a.staff_account(live_server, region)
    assert len(member.password) >= 12 and member.staff_id.startswith(f"st_{region}_")
    first = api.post("/api/v1/staff/login", json={"staff_id": member.staff_id,
                                                   "password": member.password})
    assert first.status_code == 403
    assert first.json()["error"]["code"] == "password_change_required"
    weak = api.post("/api/v1/staff/password", json={
        "staff_id": member.staff_id, "password": member.password, "new_password": "short"})
    assert weak.status_code == 400
    assert "new_password" in weak.json()["error"]["details"]["fields"]
    new = "Counter-2026-tx"
    session = s.expect(api.post("/api/v1/staff/password", json={
        "staff_id": member.staff_id, "password": member.password, "new_password": new}), 200)
    assert session["staff"] == {"staff_id": member.staff_id, "name": member.name,
                                "service_point": member.service_point, "region_code": region}
    assert session["token_type"] == "Bearer" and session["expires_in"] == 4 * 3600
    # the one-time password is used up
    again = api.post("/api/v1/staff/password", json={
        "staff_id": member.staff_id, "password": member.password, "new_password": new + "2"})
    assert again.status_code == 401 and again.json()["error"]["code"] == "invalid_credentials"
    stale = api.post("/api/v1/staff/login", json={"staff_id": member.staff_id,
                                                   "password": member.password})
    assert stale.status_code == 401
    ok = s.expect(api.post("/api/v1/staff/login", json={"staff_id": member.staff_id,
                                                          "password": new}), 200)
    assert ok["access_token"]
    # an unknown staff id answers exactly like a wrong password
    unknown = api.post("/api/v1/staff/login", json={"staff_id": "st_000000_00000000",
                                                     "password": new})
    assert unknown.status_code == 401 and unknown.json()["error"]["code"] == "invalid_credentials"
    # a reset ends every login and gives a one-time password again
    reset = a.last_json(a.cli(live_server, "staff", "reset-password", member.staff_id))
    got = api.get("/api/v1/staff/contracts", headers=flows.auth(ok["access_token"]))
    assert got.status_code == 401
    assert api.post("/api/v1/staff/login", json={
        "staff_id": member.staff_id, "password": reset["one_time_password"]}).status_code == 403


def test_login_failures_are_throttled_per_staff_id(api, live_server, region):
    member = a.staff_account(live_server, region)
    codes = [api.post("/api/v1/staff/login", json={"staff_id": member.staff_id,
                                                    "password": f"wrong-{i}"}).status_code
             for i in range(6)]
    assert codes == [401] * 5 + [429]
    # even the right one, until the window ends
    late = api.post("/api/v1/staff/password", json={
        "staff_id": member.staff_id, "password": member.password,
        "new_password": "Counter-2026-ok"})
    assert late.status_code == 429 and late.json()["error"]["code"] == "rate_limited"
    assert int(late.headers["retry-after"]) > 0


def test_a_counter_sale_from_draft_to_filing(api, live_server, counter, region):
    clerk = counter["clerk"]
    seller, buyer = s.person(api), s.person(api)
    _, cert = s.register_house(api, counter["registry"], [seller])
    created = s.expect(_draft(api, clerk, cert, [seller], [buyer]), 201)
    cid = created["id"]
    assert created["initiator_role"] == "staff" and created["status"] == "draft"
    assert created["service_point"] == clerk.service_point and created["house"]
    assert created["my_party_id"] is None
    assert not any(p["joined"] or p["confirmed"] for p in created["parties"])
    # the QR code at the counter carries the invitation link for the party's own phone
    for who in (seller, buyer):
        inv = s.expect(api.post(f"/api/v1/staff/contracts/{cid}/invitations",
                                json={"party_id": s.party_id_of(created, who)},
                                headers=clerk.headers), 201)
        assert inv["invitation_url"] == f"{live_server.base_url}/app/#/invite/{inv['token']}"
        qr = api.get(inv["qr_svg_url"])
        assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg")
        decoded = _decode_svg_qr(qr.content)
        assert decoded == inv["invitation_url"]
        assert unquote(inv["qr_svg_url"].split("u=", 1)[1]) == inv["invitation_url"]
        s.expect(api.post(f"/api/v1/invitations/{inv['token']}/accept", headers=who.headers),
                 200)
    view = s.confirm_all(api, cid, [seller, buyer])
    assert view["status"] == "signing"
    for who in (seller, buyer):
        s.expect(s.sign(api, cid, who), 201)
    filed = s.expect(api.get(f"/api/v1/staff/contracts/{cid}", headers=clerk.headers), 200)
    assert filed["status"] == "filed" and filed["filing_no"]
    # the parties' timeline names the staff member and the service point of every step
    events = s.expect(api.get(f"/api/v1/contracts/{cid}/timeline", headers=buyer.headers),
                      200)["events"]
    staff_events = [e for e in events if e["actor"] == f"staff:{clerk.staff_id}"]
    assert [e["kind"] for e in staff_events] == ["created", "invited", "invited"]
    for e in staff_events:
        assert e["data"]["staff"] == {"staff_id": clerk.staff_id, "name": clerk.name,
                                      "service_point": clerk.service_point}
    checks = [e for e in events if e["kind"] == "house_checked"]
    assert checks[0]["data"]["staff"]["staff_id"] == clerk.staff_id
    # the parties confirmed and signed themselves
    assert {e["actor"] for e in events if e["kind"] in ("joined", "confirmed", "signed")} \
        == {p["party_id"] for p in filed["parties"]}
    # a colleague of the region sees it; staff of another region do not
    assert api.get(f"/api/v1/staff/contracts/{cid}",
                   headers=counter["colleague"].headers).status_code == 200
    listed = s.expect(api.get("/api/v1/staff/contracts?limit=5",
                              headers=counter["colleague"].headers), 200)["items"]
    assert cid in [c["id"] for c in listed]
    assert api.get(f"/api/v1/staff/contracts/{cid}",
                   headers=counter["stranger"].headers).status_code == 404
    assert cid not in [c["id"] for c in s.expect(api.get(
        "/api/v1/staff/contracts", headers=counter["stranger"].headers), 200)["items"]]


def test_staff_can_never_act_for_a_party(api, live_server, counter):
    """Staff tokens are refused by every step a party takes, and user tokens by the staff API."""
    clerk = counter["clerk"]
    seller, buyer = s.person(api), s.person(api)
    _, cert = s.register_house(api, counter["registry"], [seller])
    created = s.expect(_draft(api, clerk, cert, [seller], [buyer]), 201)
    cid = created["id"]
    inv = s.expect(api.post(f"/api/v1/staff/contracts/{cid}/invitations",
                            json={"party_id": s.party_id_of(created, buyer)},
                            headers=clerk.headers), 201)
    as_staff = clerk.headers
    attempts = {
        "accept": api.post(f"/api/v1/invitations/{inv['token']}/accept", headers=as_staff),
        "confirm": api.post(f"/api/v1/contracts/{cid}/confirm", json={"version": 1},
                            headers=as_staff),
        "sign": api.post(f"/api/v1/contracts/{cid}/signatures",
                         json={"face_verification_id": "fv_x", "signature_image": "x"},
                         headers=as_staff),
        "face": api.post("/api/v1/face-verifications",
                         json={"purpose": "sign", "consent": True, "contract_id": cid},
                         headers=as_staff),
        "edit": api.patch(f"/api/v1/contracts/{cid}", json={"terms": s.terms()},
                          headers={**as_staff, "If-Match": '"1"'}),
        "read": api.get(f"/api/v1/contracts/{cid}", headers=as_staff),
        "me": api.get("/api/v1/me", headers=as_staff),
    }
    assert {k: r.status_code for k, r in attempts.items()} == dict.fromkeys(attempts, 401)
    # the invitation is still there for the party: the staff's try used nothing up
    s.expect(api.post(f"/api/v1/invitations/{inv['token']}/accept", headers=buyer.headers), 200)
    # and the parties' tokens do not open the staff API
    for path in ("/api/v1/staff/contracts", f"/api/v1/staff/contracts/{cid}"):
        assert api.get(path, headers=buyer.headers).status_code == 401
    view = s.expect(api.get(f"/api/v1/staff/contracts/{cid}", headers=clerk.headers), 200)
    assert [p["confirmed"] for p in view["parties"]] == [False, False]


def test_the_region_the_house_and_the_input_are_checked(api, live_server, counter):
    clerk, stranger = counter["clerk"], counter["stranger"]
    seller, buyer = s.person(api), s.person(api)
    _, cert = s.register_house(api, counter["registry"], [seller])
    # a house of another region: refused before the house is checked
    far = _draft(api, stranger, cert, [seller], [buyer])
    assert far.status_code == 422 and far.json()["error"]["code"] == "house_outside_region"
    # sellers who are not the registered owners
    wrong = _draft(api, clerk, cert, [s.person(api)], [buyer])
    assert wrong.status_code == 422 and wrong.json()["error"]["code"] == "house_not_eligible"
    # structure and rules of every field at once, as for a party's draft
    bad = _draft(api, clerk, cert, [seller], [buyer], initiator_role="seller",
                 terms={**s.terms(), "price_fen": "1"})
    assert bad.status_code == 400
    fields = bad.json()["error"]["details"]["fields"]
    assert fields["terms.price_fen"] == "应为整数"
    bad = api.post("/api/v1/staff/contracts", json={"certificate_no": cert, "sellers": [],
                                                     "buyers": [{"name": "王"}]},
                   headers=clerk.headers)
    assert bad.status_code == 400
    fields = bad.json()["error"]["details"]["fields"]
    assert {"sellers", "terms", "buyers[0].id_number"} <= set(fields), fields
    for query in ("limit=0", "limit=abc", "limit=201"):
        got = api.get(f"/api/v1/staff/contracts?{query}", headers=clerk.headers)
        assert got.status_code == 400 and "limit" in got.json()["error"]["details"]["fields"]
    for body in ({}, {"staff_id": "x" * 33, "password": "p"}, {"staff_id": "a b",
                                                                "password": ""}):
        got = api.post("/api/v1/staff/login", json=body)
        assert got.status_code == 400 and got.json()["error"]["details"]["fields"], body
    created = s.expect(_draft(api, clerk, cert, [seller], [buyer]), 201)
    bad = api.post(f"/api/v1/staff/contracts/{created['id']}/invitations",
                   json={"party_id": "p_nobody"}, headers=clerk.headers)
    assert bad.status_code == 400 and "party_id" in bad.json()["error"]["details"]["fields"]
    # staff of another region cannot invite to it, nor cancel it
    pid = s.party_id_of(created, buyer)
    assert api.post(f"/api/v1/staff/contracts/{created['id']}/invitations",
                    json={"party_id": pid}, headers=stranger.headers).status_code == 404
    assert api.post(f"/api/v1/staff/contracts/{created['id']}/cancel",
                    headers=stranger.headers).status_code == 404
    # and a party's own draft is nobody's at the counter
    own = s.create_draft(api, seller, "seller", cert, [seller], [buyer])
    assert api.get(f"/api/v1/staff/contracts/{own['id']}",
                   headers=clerk.headers).status_code == 404


def test_staff_cancel_and_logout(api, live_server, counter, region):
    clerk = a.staff(live_server, api, region)
    seller, buyer = s.person(api), s.person(api)
    _, cert = s.register_house(api, counter["registry"], [seller])
    created = s.expect(_draft(api, clerk, cert, [seller], [buyer]), 201)
    cancelled = s.expect(api.post(f"/api/v1/staff/contracts/{created['id']}/cancel",
                                  headers={**clerk.headers, "Idempotency-Key": "c-1"}), 200)
    assert cancelled["status"] == "cancelled"
    replay = api.post(f"/api/v1/staff/contracts/{created['id']}/cancel",
                      headers={**clerk.headers, "Idempotency-Key": "c-1"})
    assert replay.status_code == 200 and replay.headers["idempotent-replayed"] == "true"
    again = api.post(f"/api/v1/staff/contracts/{created['id']}/cancel", headers=clerk.headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "invalid_state"
    s.expect(api.post("/api/v1/staff/logout", headers=clerk.headers), 204)
    assert api.get("/api/v1/staff/contracts", headers=clerk.headers).status_code == 401


def test_the_cli_refuses_bad_options_naming_them(live_server):
    bad = a.cli(live_server, "staff", "create", "--name", "", "--service-point", "x",
                "--region", "999999")
    assert bad.returncode == 1 and "--name" in bad.stderr and "--region" in bad.stderr
    assert a.cli(live_server, "staff", "disable", "st_000000_00000000").returncode == 1
    listed = a.cli(live_server, "staff", "list")
    assert listed.returncode == 0 and "password" not in listed.stdout.replace(
        "must_change_password", "")


def _decode_svg_qr(svg: bytes) -> str:
    """Rasterise the SVG's module runs (``M x y h w v1 …z``) and let zxing-cpp read it."""
    size = int(re.search(r'viewBox="0 0 (\d+) \d+"', svg.decode()).group(1))
    scale = 8
    img = Image.new("L", (size * scale, size * scale), 255)
    draw = ImageDraw.Draw(img)
    for x, y, w in re.findall(r"M(\d+) (\d+)h(\d+)v1", svg.decode()):
        x0, y0 = int(x) * scale, int(y) * scale
        draw.rectangle([x0, y0, x0 + int(w) * scale - 1, y0 + scale - 1], fill=0)
    found = zxingcpp.read_barcodes(img)
    assert found, "no QR code in the SVG"
    return found[0].text
