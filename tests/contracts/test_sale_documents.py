"""Several documents, one verification (seed 001): a sale carries the contract, the
funds-custody agreement (with funds custody) and the transaction notice; one passed
``sign`` face verification signs all of a party's documents; filing seals every one.

Each filed document is checked by pyHanko and poppler's pdfsig, its QR code decoded
with zxing-cpp, its text read with pdftotext."""

from __future__ import annotations

import hashlib
import io
import subprocess
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import zxingcpp
from PIL import Image

from tests import pdfsig
from tests import sale as s
from tests.verify.conftest import code_and_token

THREE = ["contract", "funds_custody_agreement", "transaction_notice"]
TITLES = {"contract": "存量房买卖合同", "funds_custody_agreement": "存量房交易资金监管协议",
          "transaction_notice": "存量房交易告知书及承诺书"}


@dataclass
class FiledSale:
    sale: s.Sale
    view: dict
    shared: dict
    pdfs: dict[str, bytes]  # kind -> the filed PDF the registry serves
    prepared: dict[str, bytes]  # kind -> the PDF before any signature


def _view(api: httpx.Client, sale: s.Sale) -> dict:
    return s.expect(api.get(f"/api/v1/contracts/{sale.contract_id}",
                            headers=sale.sellers[0].headers), 200)


def _pdftotext(pdf: bytes, tmp: Path, name: str) -> str:
    path = tmp / f"{name}.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                         capture_output=True, text=True).stdout
    return "".join(out.split())


def _events(api: httpx.Client, sale: s.Sale) -> list[dict]:
    return s.expect(api.get(f"/api/v1/contracts/{sale.contract_id}/timeline",
                            headers=sale.sellers[0].headers), 200)["events"]


@pytest.fixture(scope="module")
def filed(live_server) -> FiledSale:
    """Funds custody (the default terms): two sellers and a buyer sign three documents."""
    with httpx.Client(base_url=live_server.base_url, timeout=120) as api:
        sale = s.sale_in_signing(live_server, api, sellers=2, buyers=1)
        view = _view(api, sale)
        prepared = {d["kind"]: s.expect_pdf(api.get(d["url"], headers=sale.sellers[0].headers))
                    for d in view["documents"]}
        for who in sale.people:
            s.expect(s.sign(api, sale.contract_id, who), 201)
        view = _view(api, sale)
        assert view["status"] == "filed" and view["filing_state"] == "done", view
        shared = s.expect(api.get(f"/registry/v1/contracts/{view['filing_no']}",
                                  headers=sale.client.headers), 200)
        pdfs = {d["kind"]: s.expect_pdf(api.get(d["url"], headers=sale.client.headers))
                for d in shared["documents"]}
        return FiledSale(sale, view, shared, pdfs, prepared)


def test_a_custody_sale_has_three_documents_everywhere(filed: FiledSale) -> None:
    for listing in (filed.view["documents"], filed.shared["documents"]):
        assert [d["kind"] for d in listing] == THREE
        assert [d["title"] for d in listing] == [TITLES[k] for k in THREE]
    for d in filed.shared["documents"]:
        assert d["sha256"] == hashlib.sha256(filed.pdfs[d["kind"]]).hexdigest()
    # the party and the registry see the same current versions
    assert [d["sha256"] for d in filed.view["documents"]] == \
        [d["sha256"] for d in filed.shared["documents"]]
    assert filed.view["document_sha256"] == filed.view["documents"][0]["sha256"]
    assert filed.shared["document_sha256"] == filed.shared["documents"][0]["sha256"]
    # the three are different documents
    assert len({d["sha256"] for d in filed.shared["documents"]}) == 3


def test_one_face_verification_per_party_signed_every_document(live_server, filed: FiledSale
                                                               ) -> None:
    from pyhanko.pdf_utils.reader import PdfFileReader

    with httpx.Client(base_url=live_server.base_url, timeout=60) as api:
        events = _events(api, filed.sale)
    signed = [e for e in events if e["kind"] == "signed"]
    assert len(signed) == len(filed.sale.people)
    assert len({e["data"]["face_verification_id"] for e in signed}) == len(signed)
    for event in signed:  # (a JSON object: PostgreSQL's jsonb keeps no key order)
        assert sorted(event["data"]["documents"]) == sorted(THREE)
    party_fields = {f"party-{p['party_id']}" for p in filed.view["parties"]}
    for kind, pdf in filed.pdfs.items():
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        names = {sig.field_name for sig in reader.embedded_signatures}
        assert party_fields <= names, kind
        assert {"platform-certification", "filing-seal"} <= names, kind
    # one certificate per party for all its documents (one verification, one key)
    serials: dict[str, set[int]] = {}
    for pdf in filed.pdfs.values():
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        for sig in reader.embedded_signatures:
            if sig.field_name.startswith("party-"):
                serials.setdefault(sig.field_name, set()).add(sig.signer_cert.serial_number)
    assert all(len(v) == 1 for v in serials.values()), serials


def test_every_filed_document_passes_pyhanko(live_server, filed: FiledSale) -> None:
    from signing.validation import validate_document

    with httpx.Client(base_url=live_server.base_url, timeout=60) as api:
        roots = api.get("/pki/roots.pem").content
    for kind, pdf in filed.pdfs.items():
        report = validate_document(pdf, roots)
        assert report.valid, (kind, report.to_dict())
        assert report.certified and report.filed, kind
        kinds = [sig.kind for sig in report.signatures]
        assert kinds.count("party") == 3 and kinds.count("seal") == 1, kind


def test_every_filed_document_passes_pdfsig(live_server, filed: FiledSale, tmp_path) -> None:
    if not pdfsig.available():
        pytest.skip("poppler-utils / libnss3-tools are not installed")
    with httpx.Client(base_url=live_server.base_url, timeout=60) as api:
        roots = api.get("/pki/roots.pem").content
    nss = pdfsig.make_nss_db(tmp_path / "nss", roots)
    for kind, pdf in filed.pdfs.items():
        path = tmp_path / f"{kind}.pdf"
        path.write_bytes(pdf)
        results = pdfsig.run_pdfsig(path, nss)
        assert len([n for n in results if n.startswith("party-")]) == 3, kind
        for name, result in results.items():
            if name.startswith("archive-timestamp"):
                continue  # pdfsig cannot check document timestamps (pyHanko does)
            assert result.signature_valid and result.certificate_trusted, (kind, name, result)


def test_each_document_prints_its_content_and_the_filing(filed: FiledSale, tmp_path) -> None:
    texts = {kind: _pdftotext(pdf, tmp_path, kind) for kind, pdf in filed.pdfs.items()}
    for kind, text in texts.items():
        assert TITLES[kind] in text, kind
        assert filed.view["contract_no"] in text, kind
        assert f"备案编号：{filed.view['filing_no']}" in text, kind  # under the seal
    assert "中国建设银行咸宁分行" in texts["funds_custody_agreement"]
    assert "丙方（监管银行）" in texts["funds_custody_agreement"]
    assert "出卖人承诺" in texts["transaction_notice"]
    assert "买受人承诺" in texts["transaction_notice"]
    for who in filed.sale.people:
        assert who.name in texts["transaction_notice"]


def test_each_qr_code_leads_to_its_own_verification(live_server, filed: FiledSale) -> None:
    from signing.preview import render_page_png

    urls = {d["kind"]: d["verification_url"] for d in filed.view["documents"]}
    assert urls["contract"] == filed.view["verification_url"]
    assert len(set(urls.values())) == 3
    with httpx.Client(base_url=live_server.base_url, timeout=120) as api:
        for kind, pdf in filed.pdfs.items():
            png = render_page_png(pdf, 1, 1000)
            found = [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]
            assert found == [urls[kind]], kind
            code, token = code_and_token(found[0])
            query = "" if kind == "contract" else f"&d={kind}"
            facts = s.expect(api.get(f"/api/v1/verify/{code}?t={token}{query}"), 200)
            assert facts["document"]["kind"] == kind
            assert facts["document"]["sha256"] == hashlib.sha256(pdf).hexdigest()
            assert [d["kind"] for d in facts["documents"]] == THREE
            page = api.get(f"/v/{code}?t={token}{query}")
            assert page.status_code == 200 and TITLES[kind] in page.text
            check = s.expect(api.post(f"/api/v1/verify/{code}/document?t={token}{query}",
                                      content=pdf,
                                      headers={"Content-Type": "application/pdf"}), 200)
            assert check["identical"] is True and check["signatures_valid"] is True, check
            assert check["document_kind"] == kind and check["conclusion"]["level"] == "ok"
            assert TITLES[kind] in check["conclusion"]["text"]


def test_another_document_of_the_sale_is_named_not_passed_off(live_server, filed: FiledSale
                                                             ) -> None:
    code, token = code_and_token(filed.view["verification_url"])
    with httpx.Client(base_url=live_server.base_url, timeout=120) as api:
        # the contract uploaded at the notice's QR code
        check = s.expect(api.post(
            f"/api/v1/verify/{code}/document?t={token}&d=transaction_notice",
            content=filed.pdfs["contract"], headers={"Content-Type": "application/pdf"}), 200)
        assert check["identical"] is False
        assert check["matched_revision"]["kind"] == "contract"
        assert check["conclusion"]["level"] == "warn"
        assert "存量房买卖合同" in check["conclusion"]["text"]
        # the custody agreement before anyone signed it: its prepared version
        check = s.expect(api.post(
            f"/api/v1/verify/{code}/document?t={token}&d=funds_custody_agreement",
            content=filed.prepared["funds_custody_agreement"],
            headers={"Content-Type": "application/pdf"}), 200)
        assert check["identical"] is False and check["matches_stage"] == "prepared"
        assert check["matched_revision"]["kind"] == "funds_custody_agreement"
        # a kind that does not exist: the same 404 as a wrong token
        for path in (f"/api/v1/verify/{code}?t={token}&d=bogus", f"/v/{code}?t={token}&d=x"):
            assert api.get(path).status_code == 404


def test_the_registry_feed_lists_every_document(live_server, filed: FiledSale) -> None:
    with httpx.Client(base_url=live_server.base_url, timeout=60) as api:
        items, cursor = [], ""
        while True:
            page = s.expect(api.get(f"/registry/v1/contracts?cursor={cursor}&limit=200",
                                    headers=filed.sale.client.headers), 200)
            items += page["items"]
            if not page["items"]:
                break
            cursor = page["next_cursor"]
    mine = [i for i in items if i["filing_no"] == filed.view["filing_no"]]
    assert [i["event"] for i in mine] == ["filed"]
    assert [d["kind"] for d in mine[0]["documents"]] == THREE
    assert [d["url"] for d in mine[0]["documents"]] == \
        [d["url"] for d in filed.shared["documents"]]


def test_the_evidence_report_covers_every_document(live_server, filed: FiledSale, tmp_path
                                                   ) -> None:
    with httpx.Client(base_url=live_server.base_url, timeout=120) as api:
        report = s.expect_pdf(api.get(f"/api/v1/contracts/{filed.sale.contract_id}/evidence.pdf",
                                      headers=filed.sale.buyers[0].headers))
    text = _pdftotext(report, tmp_path, "evidence")
    for kind, pdf in filed.pdfs.items():
        assert hashlib.sha256(pdf).hexdigest() in text, kind
        assert hashlib.sha256(filed.prepared[kind]).hexdigest() in text, kind
        assert TITLES[kind] in text
    # every signature of every document: certification, three parties, seal, archive
    assert text.count("证书序列号") == 3 * 6


def test_without_funds_custody_two_documents(live_server, api, tmp_path) -> None:
    sale = s.sale_in_signing(live_server, api, terms_over={"funds_custody": False})
    view = _view(api, sale)
    assert [d["kind"] for d in view["documents"]] == ["contract", "transaction_notice"]
    cid = sale.contract_id
    missing = api.get(f"/api/v1/contracts/{cid}/document.pdf?kind=funds_custody_agreement",
                      headers=sale.sellers[0].headers)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "document_not_found"
    for who in sale.people:
        s.expect(s.sign(api, cid, who), 201)
    view = _view(api, sale)
    assert view["status"] == "filed" and view["filing_state"] == "done"
    shared = s.expect(api.get(f"/registry/v1/contracts/{view['filing_no']}",
                              headers=sale.client.headers), 200)
    assert [d["kind"] for d in shared["documents"]] == ["contract", "transaction_notice"]
    notice = s.expect_pdf(api.get(shared["documents"][1]["url"], headers=sale.client.headers))
    text = _pdftotext(notice, tmp_path, "notice")
    assert "各方未选择交易资金监管" in text
    resp = api.get(f"/registry/v1/contracts/{view['filing_no']}/document.pdf"
                   "?kind=funds_custody_agreement", headers=sale.client.headers)
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "document_not_found"
    code, token = code_and_token(view["verification_url"])
    assert api.get(f"/api/v1/verify/{code}?t={token}&d=funds_custody_agreement"
                   ).status_code == 404
    upload = api.post(f"/api/v1/verify/{code}/document?t={token}&d=funds_custody_agreement",
                      content=notice, headers={"Content-Type": "application/pdf"})
    assert upload.status_code == 404
    events = _events(api, sale)
    assert all(sorted(e["data"]["documents"]) == ["contract", "transaction_notice"]
               for e in events if e["kind"] in ("signed", "sealed"))


def test_drafts_preview_every_document_and_name_bad_kinds(live_server, api) -> None:
    client = s.registry_client(live_server, api)
    seller, buyer = s.person(api), s.person(api)
    _, cert = s.register_house(api, client, [seller])
    draft = s.create_draft(api, seller, "seller", cert, [seller], [buyer])
    assert [d["kind"] for d in draft["documents"]] == THREE
    assert all(d["sha256"] is None and d["verification_url"] is None
               for d in draft["documents"])
    for d in draft["documents"]:
        pdf = s.expect_pdf(api.get(d["url"], headers=seller.headers))
        assert pdf.startswith(b"%PDF-")
    page = api.get(f"/api/v1/contracts/{draft['id']}/pages/1.png?kind=transaction_notice",
                   headers=seller.headers)
    assert page.status_code == 200 and page.headers["x-page-count"] == "2"
    bad = api.get(f"/api/v1/contracts/{draft['id']}/document.pdf?kind=lease",
                  headers=seller.headers)
    assert bad.status_code == 400
    assert "kind" in bad.json()["error"]["details"]["fields"]
    # dropping funds custody in an edit drops the agreement
    edited = s.expect(api.patch(
        f"/api/v1/contracts/{draft['id']}",
        json={"terms": s.terms(funds_custody=False)},
        headers={**seller.headers, "If-Match": f'"{draft["version"]}"'}), 200)
    assert [d["kind"] for d in edited["documents"]] == ["contract", "transaction_notice"]


def test_bad_document_kind_for_the_registry_is_400(live_server, api, filed: FiledSale) -> None:
    resp = api.get(f"/registry/v1/contracts/{filed.view['filing_no']}/document.pdf?kind=%00",
                   headers=filed.sale.client.headers)
    assert resp.status_code == 400
    assert "kind" in resp.json()["error"]["details"]["fields"]


def test_a_party_reads_every_document_while_signing(live_server, api) -> None:
    sale = s.sale_in_signing(live_server, api)
    view = _view(api, sale)
    buyer = sale.buyers[0]
    for d in view["documents"]:
        pdf = s.expect_pdf(api.get(d["url"], headers=buyer.headers))
        assert hashlib.sha256(pdf).hexdigest() == d["sha256"]
    # a stranger gets the same 404 as for the contract
    stranger = s.person(api)
    resp = api.get(view["documents"][2]["url"], headers=stranger.headers)
    assert resp.status_code == 404
