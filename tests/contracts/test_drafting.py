"""Contracts in the mini-program: drafting by either side, invitations, versioned confirmation."""

from __future__ import annotations

import re

import pytest

from tests import flows
from tests import sale as s

FULL_ID = re.compile(r"(?<!\d)\d{17}[\dX](?!\d)")


@pytest.fixture(scope="module")
def client(live_server):
    import httpx

    with httpx.Client(base_url=live_server.base_url, timeout=30) as api:
        return s.registry_client(live_server, api)


def assert_no_full_ids(text: str) -> None:
    assert not FULL_ID.search(text), "a full ID number leaked into a response"


def test_seller_initiated_with_co_owners_to_signing(live_server, api, client):
    seller1, seller2 = s.person(api), s.person(api)
    buyer1, buyer2 = s.person(api), s.person(api)
    _, cert = s.register_house(api, client, [seller1, seller2])
    draft = s.create_draft(api, seller1, "seller", cert, [seller1, seller2], [buyer1, buyer2],
                           buyer_shares=[60, 40])
    assert draft["status"] == "draft" and draft["version"] == 1
    assert draft["house"]["certificate_no"] == cert
    assert draft["contract_no"] is None and draft["verification_url"] is None
    shares = sorted(p["share"] for p in draft["parties"] if p["role"] == "seller")
    assert shares == [50.0, 50.0]  # from the registry
    assert_no_full_ids(str(draft))

    for other in (seller2, buyer1, buyer2):
        draft = s.invite_and_accept(api, draft, seller1, other)
    # The buyer now sees the house too.
    seen = s.expect(api.get(f"/api/v1/contracts/{draft['id']}", headers=buyer2.headers), 200)
    assert seen["house"]["unit_no"]

    view = s.confirm_all(api, draft["id"], [seller1, seller2, buyer1, buyer2])
    assert view["status"] == "signing"
    assert view["contract_no"].startswith("WQ421202")
    assert view["verification_url"].startswith(live_server.base_url + "/v/")
    pdf = api.get(f"/api/v1/contracts/{draft['id']}/document.pdf", headers=buyer1.headers)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    kinds = [e["kind"] for e in s.expect(api.get(f"/api/v1/contracts/{draft['id']}/timeline",
                                                  headers=seller2.headers), 200)["events"]]
    assert kinds[0] == "created" and "house_checked" in kinds and kinds[-1] == "frozen"
    assert kinds.count("confirmed") == 4 and kinds.count("joined") == 3


def test_buyer_initiated_sees_no_house_until_a_seller_joins(live_server, api, client):
    seller, buyer = s.person(api), s.person(api)
    _, cert = s.register_house(api, client, [seller])
    draft = s.create_draft(api, buyer, "buyer", cert, [seller], [buyer])
    assert draft["house"] is None
    preview = api.get(f"/api/v1/contracts/{draft['id']}/document.pdf", headers=buyer.headers)
    assert preview.status_code == 404
    joined = s.invite_and_accept(api, draft, buyer, seller)
    assert joined["house"]["certificate_no"] == cert
    view = s.confirm_all(api, draft["id"], [seller, buyer])
    assert view["status"] == "signing"


def test_buyer_initiated_with_a_stranger_as_seller_cannot_start(live_server, api, client):
    owner, impostor, buyer = s.person(api), s.person(api), s.person(api)
    _, cert = s.register_house(api, client, [owner])
    draft = s.create_draft(api, buyer, "buyer", cert, [impostor], [buyer])
    pid = s.party_id_of(draft, impostor)
    inv = s.expect(api.post(f"/api/v1/contracts/{draft['id']}/invitations",
                            json={"party_id": pid}, headers=buyer.headers), 201)
    resp = api.post(f"/api/v1/invitations/{inv['token']}/accept", headers=impostor.headers)
    assert resp.status_code == 422
    assert resp.json()["error"]["code"] == "house_not_eligible"


def test_draft_preview_is_marked(live_server, api, client):
    seller, buyer = s.person(api), s.person(api)
    _, cert = s.register_house(api, client, [seller])
    draft = s.create_draft(api, seller, "seller", cert, [seller], [buyer])
    pdf = api.get(f"/api/v1/contracts/{draft['id']}/document.pdf",
                                   headers=seller.headers)
    assert pdf.status_code == 200
    import subprocess
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".pdf") as fh:
        fh.write(pdf.content)
        fh.flush()
        text = subprocess.run(["pdftotext", fh.name, "-"], capture_output=True,
                              text=True).stdout
        info = subprocess.run(["pdfinfo", fh.name], capture_output=True, text=True).stdout
    assert "草稿" in text
    pages = int(next(line.split()[-1] for line in info.splitlines()
                     if line.startswith("Pages:")))
    png = api.get(f"/api/v1/contracts/{draft['id']}/pages/1.png", headers=seller.headers)
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    # A phone learns how many pages to ask for from the first one (poppler counts them too).
    assert png.headers["x-page-count"] == str(pages)
    last = api.get(f"/api/v1/contracts/{draft['id']}/pages/{pages}.png", headers=seller.headers)
    assert last.status_code == 200 and last.headers["x-page-count"] == str(pages)
    assert api.get(f"/api/v1/contracts/{draft['id']}/pages/{pages + 1}.png",
                   headers=seller.headers).status_code == 404


def test_edits_need_if_match_bump_the_version_and_clear_confirmations(live_server, api,
                                                                     client):
    seller, buyer = s.person(api), s.person(api)
    _, cert = s.register_house(api, client, [seller])
    draft = s.create_draft(api, seller, "seller", cert, [seller], [buyer])
    draft = s.invite_and_accept(api, draft, seller, buyer)
    cid = draft["id"]
    s.expect(api.post(f"/api/v1/contracts/{cid}/confirm", json={"version": 1},
                      headers=buyer.headers), 200)
    new_terms = s.terms(price_fen=150_000_000)
    missing = api.patch(f"/api/v1/contracts/{cid}", json={"terms": new_terms},
                        headers=seller.headers)
    assert missing.status_code == 428
    assert missing.json()["error"]["code"] == "if_match_required"
    stale = api.patch(f"/api/v1/contracts/{cid}", json={"terms": new_terms},
                      headers={**seller.headers, "If-Match": "0"})
    assert stale.status_code == 412
    assert stale.json()["error"]["details"]["current_version"] == 1
    edited = s.expect(api.patch(f"/api/v1/contracts/{cid}", json={"terms": new_terms},
                                headers={**seller.headers, "If-Match": '"1"'}), 200)
    assert edited["version"] == 2 and edited["terms"]["price_fen"] == 150_000_000
    assert not any(p["confirmed"] for p in edited["parties"])
    old = api.post(f"/api/v1/contracts/{cid}/confirm", json={"version": 1},
                   headers=buyer.headers)
    assert old.status_code == 412
    view = s.confirm_all(api, cid, [seller, buyer])
    assert view["status"] == "signing" and view["version"] == 2
    frozen = api.patch(f"/api/v1/contracts/{cid}", json={"terms": new_terms},
                       headers={**seller.headers, "If-Match": "2"})
    assert frozen.status_code == 409 and frozen.json()["error"]["code"] == "invalid_state"


def test_strangers_see_nothing(live_server, api, client):
    seller, buyer, stranger = s.person(api), s.person(api), s.person(api)
    _, cert = s.register_house(api, client, [seller])
    draft = s.create_draft(api, seller, "seller", cert, [seller], [buyer])
    cid = draft["id"]
    for method, path in [("GET", f"/api/v1/contracts/{cid}"),
                         ("GET", f"/api/v1/contracts/{cid}/timeline"),
                         ("GET", f"/api/v1/contracts/{cid}/document.pdf"),
                         ("POST", f"/api/v1/contracts/{cid}/confirm"),
                         ("POST", f"/api/v1/contracts/{cid}/invitations")]:
        resp = api.request(method, path, json={"version": 1, "party_id": "x"},
                           headers=stranger.headers)
        assert resp.status_code == 404, (path, resp.text)
    # An invited-but-not-joined buyer cannot see it either.
    assert api.get(f"/api/v1/contracts/{cid}", headers=buyer.headers).status_code == 404
    assert s.expect(api.get("/api/v1/contracts", headers=stranger.headers), 200)["items"] == []


def test_wrong_invitee_and_used_invitation(live_server, api, client):
    seller, buyer, other = s.person(api), s.person(api), s.person(api)
    _, cert = s.register_house(api, client, [seller])
    draft = s.create_draft(api, seller, "seller", cert, [seller], [buyer])
    inv = s.expect(api.post(f"/api/v1/contracts/{draft['id']}/invitations",
                            json={"party_id": s.party_id_of(draft, buyer)},
                            headers=seller.headers), 201)
    wrong = api.post(f"/api/v1/invitations/{inv['token']}/accept", headers=other.headers)
    assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "invitee_mismatch"
    s.expect(api.post(f"/api/v1/invitations/{inv['token']}/accept", headers=buyer.headers), 200)
    again = api.post(f"/api/v1/invitations/{inv['token']}/accept", headers=buyer.headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "invitation_used"
    unknown = api.post("/api/v1/invitations/nonsense/accept", headers=buyer.headers)
    assert unknown.status_code == 404
    huge = api.post(f"/api/v1/contracts/{draft['id']}/invitations", json={"party_id": "1" * 500},
                    headers=seller.headers)
    assert huge.status_code == 400  # once a 500


def test_non_owner_seller_is_refused(live_server, api, client):
    owner, not_owner, buyer = s.person(api), s.person(api), s.person(api)
    _, cert = s.register_house(api, client, [owner])
    resp = api.post("/api/v1/contracts", json={
        "kind": "resale", "certificate_no": cert, "initiator_role": "seller",
        "sellers": [not_owner.party()], "buyers": [buyer.party()], "terms": s.terms()},
        headers=not_owner.headers)
    assert resp.status_code == 422
    body = resp.json()["error"]
    assert body["code"] == "house_not_eligible"
    assert [r["code"] for r in body["details"]["reasons"]] == ["not_owner"]


def test_every_registered_owner_must_be_a_seller(live_server, api, client):
    a, b, buyer = s.person(api), s.person(api), s.person(api)
    _, cert = s.register_house(api, client, [a, b])
    resp = api.post("/api/v1/contracts", json={
        "kind": "resale", "certificate_no": cert, "initiator_role": "seller",
        "sellers": [a.party()], "buyers": [buyer.party()], "terms": s.terms()},
        headers=a.headers)
    assert resp.status_code == 422
    assert resp.json()["error"]["code"] == "sellers_mismatch"


def test_field_level_validation(live_server, api, client):
    seller, b1, b2 = s.person(api), s.person(api), s.person(api)
    _, cert = s.register_house(api, client, [seller])
    resp = api.post("/api/v1/contracts", json={
        "kind": "resale", "certificate_no": cert, "initiator_role": "seller",
        "sellers": [seller.party()], "buyers": [b1.party(70), b2.party(20)],
        "terms": s.terms(price_fen=-5, payment_method="cash")}, headers=seller.headers)
    assert resp.status_code == 400
    fields = resp.json()["error"]["details"]["fields"]
    assert fields["buyers"] == "买受人份额之和应为100"
    assert "terms.price_fen" in fields and "terms.payment_method" in fields


def test_a_glyph_the_font_lacks_is_refused_at_input(live_server, api, client):
    seller, buyer = s.person(api), s.person(api)
    _, cert = s.register_house(api, client, [seller])
    body = {"kind": "resale", "certificate_no": cert, "initiator_role": "seller",
            "sellers": [seller.party()], "buyers": [buyer.party()],
            "terms": s.terms(supplementary_terms="附加条款\ue000")}
    resp = api.post("/api/v1/contracts", json=body, headers=seller.headers)
    assert resp.status_code == 400
    assert "terms.supplementary_terms" in resp.json()["error"]["details"]["fields"]


def test_identity_must_be_bound(live_server, api, client):
    token = flows.login(api, "unbound-" + s.secrets.token_hex(4))
    resp = api.post("/api/v1/contracts", json={"kind": "resale"}, headers=flows.auth(token))
    assert resp.status_code == 403
    assert resp.json()["error"]["code"] == "identity_not_bound"


def test_initiator_cancels_and_others_cannot(live_server, api, client):
    seller, buyer = s.person(api), s.person(api)
    _, cert = s.register_house(api, client, [seller])
    draft = s.create_draft(api, seller, "seller", cert, [seller], [buyer])
    draft = s.invite_and_accept(api, draft, seller, buyer)
    no = api.post(f"/api/v1/contracts/{draft['id']}/cancel", headers=buyer.headers)
    assert no.status_code == 403
    done = s.expect(api.post(f"/api/v1/contracts/{draft['id']}/cancel",
                             headers=seller.headers), 200)
    assert done["status"] == "cancelled"
    again = api.post(f"/api/v1/contracts/{draft['id']}/confirm", json={"version": 1},
                     headers=buyer.headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "invalid_state"


def test_a_draft_left_too_long_expires(live_server, api, client):
    from datetime import timedelta

    from server.domain import clock
    from server.models import Contract
    from tests.db import with_db

    seller, buyer = s.person(api), s.person(api)
    _, cert = s.register_house(api, client, [seller])
    draft = s.create_draft(api, seller, "seller", cert, [seller], [buyer])
    assert draft["expires_at"]

    async def age() -> None:
        await Contract.filter(id=draft["id"]).update(
            expires_at=clock.now() - timedelta(minutes=1))

    with_db(live_server.env, age)
    view = s.expect(api.get(f"/api/v1/contracts/{draft['id']}", headers=seller.headers), 200)
    assert view["status"] == "cancelled"
    kinds = [e["kind"] for e in s.expect(api.get(f"/api/v1/contracts/{draft['id']}/timeline",
                                                  headers=seller.headers), 200)["events"]]
    assert kinds[-1] == "expired"
    resp = api.post(f"/api/v1/contracts/{draft['id']}/confirm", json={"version": 1},
                    headers=seller.headers)
    assert resp.status_code == 409


def test_idempotent_creation_creates_one_contract(live_server, api, client):
    seller, buyer = s.person(api), s.person(api)
    _, cert = s.register_house(api, client, [seller])
    body = {"kind": "resale", "certificate_no": cert, "initiator_role": "seller",
            "sellers": [seller.party()], "buyers": [buyer.party()], "terms": s.terms()}
    headers = {**seller.headers, "Idempotency-Key": "create-" + s.secrets.token_hex(4)}
    first = s.expect(api.post("/api/v1/contracts", json=body, headers=headers), 201)
    again = s.expect(api.post("/api/v1/contracts", json=body, headers=headers), 201)
    assert first["id"] == again["id"]
    mine = s.expect(api.get("/api/v1/contracts", headers=seller.headers), 200)["items"]
    assert [c["id"] for c in mine].count(first["id"]) == 1 and len(mine) == 1


def test_stored_rows_hold_no_plain_id_or_phone(live_server, api, client):
    from server.models import Party
    from tests.db import with_db

    seller, buyer = s.person(api), s.person(api)
    _, cert = s.register_house(api, client, [seller])
    draft = s.create_draft(api, seller, "seller", cert, [seller], [buyer])

    async def rows() -> list[dict]:
        return await Party.filter(contract_id=draft["id"]).values()

    text = str(with_db(live_server.env, rows))
    for who in (seller, buyer):
        assert who.id_number not in text and who.phone not in text
