"""``GET /v/{code}`` and ``GET /api/v1/verify/{code}``: statuses, the token gate, masking."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets

import httpx
import pytest

from tests import flows
from tests import sale as s
from tests.live import LiveServer
from tests.verify.conftest import FiledContract, code_and_token, contract_view

# An ID number or a mobile number as a token of its own (a contract number such as
# WQ4212022026112300001 contains 18 digits in a row, but glued to letters).
ID_PATTERN = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dX](?![0-9A-Za-z])")
PHONE_PATTERN = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")


def page(api: httpx.Client, code: str, token: str | None) -> httpx.Response:
    return api.get(f"/v/{code}", params={} if token is None else {"t": token})


def facts(api: httpx.Client, code: str, token: str | None) -> httpx.Response:
    return api.get(f"/api/v1/verify/{code}", params={} if token is None else {"t": token})


def visible_text(html: str) -> str:
    body = re.sub(r"<(style|script)>.*?</\1>", "", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


def assert_status(api: httpx.Client, fc_code: str, token: str, status: str, label: str) -> dict:
    data = s.expect(facts(api, fc_code, token), 200)
    assert (data["status"], data["status_label"]) == (status, label)
    html = page(api, fc_code, token)
    assert html.status_code == 200
    assert re.search(rf'id="status">{label}<', html.text), visible_text(html.text)[:400]
    return data


# -- what a filed contract shows ---------------------------------------------------------------


def test_filed_contract_facts(vapi, filed: FiledContract):
    data = assert_status(vapi, filed.code, filed.token, "filed", "已备案")
    view = filed.view
    assert data["filing_no"] == view["filing_no"]
    assert data["contract_no"] == view["contract_no"]
    assert data["filed_at"] and data["times"]["filed_at"] == data["filed_at"]
    assert data["times"]["revoked_at"] is None
    assert data["sealing"] is False and data["note"] is None
    assert data["house"]["location_masked"] == "咸宁市咸安区温泉花园3栋 2单元 ****室"
    # The filed document's hash is the hash of the PDF the parties download.
    assert data["document"]["sha256"] == hashlib.sha256(filed.filed_pdf).hexdigest()
    assert data["document"]["sha256"] == view["document_sha256"]
    roles = [(p["role"], p["name_masked"]) for p in data["parties"]]
    expected = [("seller", p.name[0] + "*" + p.name[-1]) for p in filed.sale.sellers] + \
               [("buyer", p.name[0] + "*" + p.name[-1]) for p in filed.sale.buyers]
    assert sorted(roles) == sorted(expected)
    kinds = [sig["kind"] for sig in data["signatures"]]
    assert kinds.count("party") == 3 and kinds[-1] == "seal"
    assert all(sig["signed_at"] for sig in data["signatures"])
    assert "不能证明" in data["notice"] and "购房款" in data["notice"]

    html = page(vapi, filed.code, filed.token).text
    text = visible_text(html)
    for needle in (view["filing_no"], view["contract_no"], "咸宁市咸安区温泉花园3栋 2单元 ****室",
                   data["document"]["sha256"], "出卖人", "买受人", "本页面不能证明",
                   "产权已经转移"):
        assert needle in text, needle
    for _, masked in expected:
        assert masked in text


def test_security_headers_and_self_contained_html(vapi, filed: FiledContract):
    resp = page(vapi, filed.code, filed.token)
    h = resp.headers
    assert h["content-type"].startswith("text/html")
    assert h["x-content-type-options"] == "nosniff"
    assert h["referrer-policy"] == "no-referrer"
    assert "private" in h["cache-control"]
    csp = h["content-security-policy"]
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp
    # The only style and script are the inline ones the policy names by hash.
    style = re.search(r"<style>(.*?)</style>", resp.text, re.S).group(1)
    script = re.search(r"<script>(.*?)</script>", resp.text, re.S).group(1)
    for body, directive in ((style, "style-src"), (script, "script-src")):
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"{directive} 'sha256-{digest}'" in csp
    assert len(re.findall(r"<style|<script", resp.text)) == 2
    # No external asset of any kind.
    assert not re.search(r"""\b(src|href)\s*=""", resp.text)
    assert "http://" not in resp.text and "https://" not in resp.text
    j = facts(vapi, filed.code, filed.token).headers
    assert j["x-content-type-options"] == "nosniff" and "private" in j["cache-control"]


# -- the token gate ------------------------------------------------------------------------------


def test_token_gate(vapi, verify_server, filed: FiledContract):
    assert page(vapi, filed.code, filed.token).status_code == 200
    wrong = secrets.token_urlsafe(24)
    variants = [
        (filed.code, None),  # missing token
        (filed.code, ""),  # empty token
        (filed.code, wrong),  # wrong token of the right length
        (filed.code, filed.token[:-1]),  # truncated
        (filed.code, filed.token + "x"),  # longer
        ("ZZZZZZZZZZ", filed.token),  # unknown code, a real token
        ("ZZZZZZZZZZ", None),
        (filed.code.lower(), filed.token),
        ("x" * 300, "y"),
    ]
    html_bodies = set()
    json_bodies = set()
    for code, token in variants:
        r = page(vapi, code, token)
        assert r.status_code == 404, (code, token)
        assert r.headers["content-type"].startswith("text/html")
        assert "content-security-policy" in r.headers
        html_bodies.add(r.text)
        j = facts(vapi, code, token)
        assert j.status_code == 404
        body = j.json()
        assert body["error"]["code"] == "not_found" and body["request_id"]
        json_bodies.add((body["error"]["code"], body["error"]["message"],
                         str(body["error"]["details"])))
        d = vapi.post(f"/api/v1/verify/{code}/document", params={"t": token or ""},
                      content=filed.filed_pdf, headers={"Content-Type": "application/pdf"})
        assert d.status_code == 404 and d.json()["error"]["code"] == "not_found"
    # One body for every way of being wrong: nothing tells them apart.
    assert len(html_bodies) == 1 and len(json_bodies) == 1
    assert "未找到" in html_bodies.pop()


def test_contract_not_yet_filed_is_not_verifiable(vapi, verify_server):
    sale = s.sale_in_signing(verify_server, vapi, sellers=1, buyers=1)
    view = contract_view(vapi, sale)
    assert view["status"] == "signing" and view["verification_url"]
    code, token = code_and_token(view["verification_url"])
    unknown = page(vapi, "ZZZZZZZZZZ", token)
    r = page(vapi, code, token)
    assert r.status_code == 404 and r.text == unknown.text
    j = facts(vapi, code, token)
    assert j.status_code == 404 and j.json()["error"]["code"] == "not_found"


# -- masking -------------------------------------------------------------------------------------


def test_no_full_identity_anywhere(vapi, filed: FiledContract):
    texts = [page(vapi, filed.code, filed.token).text,
             facts(vapi, filed.code, filed.token).text]
    for pdf in (filed.filed_pdf, filed.prepared_pdf):
        texts.append(vapi.post(filed.document_path, content=pdf,
                               headers={"Content-Type": "application/pdf"}).text)
    for text in texts:
        assert not ID_PATTERN.search(text), ID_PATTERN.search(text)
        assert not PHONE_PATTERN.search(text), PHONE_PATTERN.search(text)
        for person in filed.sale.people:
            assert person.id_number not in text
            assert person.phone not in text
            assert person.name not in text  # only the masked form
        assert "1202室" not in text  # the room number


# -- every status, and the cache following each change -----------------------------------------


def test_registration_lifecycle_shows_each_status_at_once(vapi, verify_server):
    sale = s.filed_sale(verify_server, vapi, sellers=1, buyers=1)
    code, token = code_and_token(contract_view(vapi, sale)["verification_url"])
    filing_no = contract_view(vapi, sale)["filing_no"]
    # Twice: the second answer comes from the cache, which the change below must drop.
    assert_status(vapi, code, token, "filed", "已备案")
    assert_status(vapi, code, token, "filed", "已备案")

    s.expect(vapi.post(f"/registry/v1/contracts/{filing_no}/acceptance",
                       json={"case_no": "XN-2026-000123"}, headers=sale.client.headers), 200)
    data = assert_status(vapi, code, token, "registration_accepted", "已受理登记")
    assert data["times"]["registration_accepted_at"]
    html = page(vapi, code, token).text
    assert "受理登记时间" in html and "合同不能再注销" in html

    s.expect(vapi.post(f"/registry/v1/contracts/{filing_no}/completion",
                       headers=sale.client.headers), 200)
    data = assert_status(vapi, code, token, "registered", "已登记")
    assert data["times"]["registered_at"] and data["times"]["registration_accepted_at"]
    assert "登记完成时间" in page(vapi, code, token).text


def _revoke(api: httpx.Client, sale: s.Sale) -> None:
    cid = sale.contract_id
    s.expect(api.post(f"/api/v1/contracts/{cid}/revocation", json={"reason": "双方协商解除"},
                      headers=sale.sellers[0].headers), 200, 201, 202, 204)
    for who in sale.people:
        fv = flows.passed_verification(api, who.token, "revoke", cid)
        s.expect(api.post(f"/api/v1/contracts/{cid}/revocation/confirm",
                          json={"face_verification_id": fv}, headers=who.headers),
                 200, 201, 202, 204)


def _on_fresh_connections(base_url: str, code: str, token: str, status: str, label: str,
                          times: int = 12) -> None:
    """``assert_status`` on new connections, which the workers of a server take in turn
    (the kernel spreads them): with two workers, each answers some of them."""
    for _ in range(times):
        with httpx.Client(base_url=base_url, timeout=60) as api:
            assert_status(api, code, token, status, label)


def test_revoked_contract(vapi, verify_server, filed: FiledContract):
    sale = s.filed_sale(verify_server, vapi, sellers=1, buyers=1)
    code, token = code_and_token(contract_view(vapi, sale)["verification_url"])
    # Every worker has the answer ready (the second request of each comes from it)...
    _on_fresh_connections(verify_server.base_url, code, token, "filed", "已备案")
    _revoke(vapi, sale)
    # ...and none serves it after the revocation, from the very next request on.
    _on_fresh_connections(verify_server.base_url, code, token, "revoked", "已注销")
    cid = sale.contract_id
    data = assert_status(vapi, code, token, "revoked", "已注销")
    assert data["times"]["revoked_at"] and data["times"]["filed_at"]
    html = page(vapi, code, token).text
    assert "注销时间" in html and "不能再作为办理业务的依据" in html

    # A revoked contract's PDF is still a validly signed PDF, but not the one filed
    # under another code.
    filed_b = vapi.get(f"/api/v1/contracts/{cid}/document.pdf", headers=sale.sellers[0].headers)
    report = s.expect(vapi.post(filed.document_path, content=filed_b.content,
                                headers={"Content-Type": "application/pdf"}), 200)
    assert report["identical"] is False and report["matches_stage"] is None
    assert report["signatures_valid"] is True
    assert report["conclusion"]["level"] == "bad"


@pytest.mark.backend("services")
def test_a_revocation_shows_at_once_on_another_host(vapi, verify_server):
    """A second host on the same PostgreSQL and Redis keeps ready answers of its own;
    a revocation through the first host drops them too."""
    other = LiveServer(dict(verify_server.env), workers=1)
    other.start()
    try:
        sale = s.filed_sale(verify_server, vapi, sellers=1, buyers=1)
        code, token = code_and_token(contract_view(vapi, sale)["verification_url"])
        with httpx.Client(base_url=other.base_url, timeout=60) as b:
            for api in (vapi, b, vapi, b):
                assert_status(api, code, token, "filed", "已备案")
            _revoke(vapi, sale)
            assert_status(b, code, token, "revoked", "已注销")
            assert_status(vapi, code, token, "revoked", "已注销")
    finally:
        other.stop()
