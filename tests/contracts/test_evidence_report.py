"""The evidence report (证据报告): its contents (read back with pdftotext), its own
signatures (pyHanko and poppler's pdfsig), and who may have it (parties and the office
of the contract's region; everyone else 404)."""

from __future__ import annotations

import hashlib
import re
import subprocess
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

import httpx
import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from tests import pdfsig
from tests import sale as s
from tests.db import with_db


@dataclass
class Evidence:
    sale: s.Sale
    view: dict[str, Any]
    events: list[dict[str, Any]]
    filed_pdf: bytes
    report: bytes
    etag: str
    text: str  # pdftotext -layout of the report, whitespace removed
    roots: bytes
    work: Path


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _pdftotext(pdf: bytes, work: Path, name: str) -> str:
    path = work / f"{name}.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True,
                         text=True, check=True)
    return out.stdout


@pytest.fixture(scope="module")
def evidence(live_server, tmp_path_factory) -> Evidence:
    work = tmp_path_factory.mktemp("evidence")
    with httpx.Client(base_url=live_server.base_url, timeout=120) as api:
        sale = s.filed_sale(live_server, api, sellers=2, buyers=1)
        seller = sale.sellers[0]
        view = s.expect(api.get(f"/api/v1/contracts/{sale.contract_id}",
                                headers=seller.headers), 200)
        events = s.expect(api.get(f"/api/v1/contracts/{sale.contract_id}/timeline",
                                  headers=seller.headers), 200)["events"]
        filed = api.get(f"/api/v1/contracts/{sale.contract_id}/document.pdf",
                        headers=seller.headers).content
        resp = api.get(f"/api/v1/contracts/{sale.contract_id}/evidence.pdf",
                       headers=seller.headers)
        assert resp.status_code == 200, resp.text
        assert resp.headers["content-type"] == "application/pdf"
        roots = api.get("/pki/roots.pem").content
    return Evidence(sale, view, events, filed, resp.content, resp.headers["etag"],
                    _squash(_pdftotext(resp.content, work, "report")), roots, work)


def test_report_names_the_contract_and_the_chain_check(evidence: Evidence) -> None:
    text = evidence.text
    assert "电子签约证据报告" in text
    assert evidence.view["contract_no"] in text
    assert evidence.view["filing_no"] in text
    assert f"校验通过：共{len(evidence.events)}个事件" in text


def test_report_lists_every_event_with_its_hash(evidence: Evidence) -> None:
    for event in evidence.events:
        assert event["hash"] in evidence.text, event
    assert "当事人签署" in evidence.text and "网签备案" in evidence.text


def test_report_lists_house_checks_with_inputs_outcome_and_data_version(live_server,
                                                                        evidence) -> None:
    checks = [e["data"] for e in evidence.events if e["kind"] == "house_checked"]
    assert checks  # at least the freeze and the filing re-check
    for check in checks:
        assert check["check_id"] in evidence.text
        assert check["data_version"] in evidence.text
    assert evidence.sale.certificate_no.replace(" ", "") in evidence.text
    assert "可以交易" in evidence.text and "登记数据版本" in evidence.text


async def _faces(contract_id: str, user_ids: list[str]) -> list[tuple[str, str | None]]:
    from server.models import FaceVerification, Party

    parties = await Party.filter(contract_id=contract_id)
    users = [p.user_id for p in parties]  # type: ignore[attr-defined]
    rows = await FaceVerification.filter(contract_id=contract_id)
    rows += await FaceVerification.filter(user_id__in=users, purpose="bind_identity",
                                          status="passed")
    return [(r.id, r.answer_sha256) for r in rows]


def test_report_lists_face_verification_evidence_never_images(live_server, evidence) -> None:
    faces = with_db(live_server.env, lambda: _faces(evidence.sale.contract_id, []))
    assert len(faces) >= 6  # three parties: identity binding and signing each
    for fv_id, answer in faces:
        assert fv_id in evidence.text
        assert answer and answer in evidence.text
    assert "不含任何人脸图像" in evidence.text
    # no image at all in the report (a face image would be an XObject /Image)
    assert b"/Subtype /Image" not in evidence.report and b"/Subtype/Image" not in evidence.report


def test_report_masks_identities(evidence: Evidence) -> None:
    for who in evidence.sale.people:
        assert who.id_number not in evidence.text
        masked = who.id_number[:4] + "*" * 10 + who.id_number[-4:]
        assert masked in evidence.text
        assert who.phone not in evidence.text
        if len(who.name) >= 3:
            assert who.name not in evidence.text


def _signature_facts(pdf: bytes) -> list[tuple[str, str]]:
    reader = PdfFileReader(BytesIO(pdf), strict=False)
    return [(sig.field_name, f"{sig.signer_cert.serial_number:X}")
            for sig in reader.embedded_signatures]


def test_report_lists_each_signature_with_serial_and_times(evidence: Evidence) -> None:
    facts = _signature_facts(evidence.filed_pdf)
    assert len(facts) == 6  # certification, three parties, the seal, the archive timestamp
    for field, serial in facts:
        assert field in evidence.text
        assert serial in evidence.text
    # the same six in each of the sale's three documents (the contract, the funds-custody
    # agreement, the transaction notice)
    assert evidence.text.count("证书序列号") == 3 * len(facts)
    # each party's signature time and timestamp time, in Beijing time, to the second
    reader = PdfFileReader(BytesIO(evidence.filed_pdf), strict=False)
    from datetime import timedelta, timezone

    cst = timezone(timedelta(hours=8))
    for sig in reader.embedded_signatures:
        if sig.field_name.startswith("party-"):
            claimed = sig.self_reported_timestamp.astimezone(cst)
            assert claimed.strftime("%Y-%m-%d%H:%M:%S") in evidence.text


def test_report_lists_every_document_version(live_server, evidence: Evidence) -> None:
    async def stored() -> list[str]:
        from server.models import StoredDocument

        return [d.sha256 for d in
                await StoredDocument.filter(contract_id=evidence.sale.contract_id)]

    versions = with_db(live_server.env, stored)
    assert len(versions) == 3 * 5  # prepared, three signatures, filed; of three documents
    for sha in versions:
        assert sha in evidence.text
    assert hashlib.sha256(evidence.filed_pdf).hexdigest() in evidence.text


def test_report_is_pdfa_and_sealed_b_lta_for_pyhanko(evidence: Evidence) -> None:
    from signing.validation import validate_document

    # PDF/A-2b as rendered (typst), declared in the XMP of every revision since
    assert re.search(rb'pdfaid:part(="2"|>2<)', evidence.report)
    assert re.search(rb'pdfaid:conformance(="B"|>B<)', evidence.report)
    report = validate_document(evidence.report, evidence.roots)
    assert report.valid, report.to_dict()
    assert report.certified
    kinds = {sig.kind for sig in report.signatures}
    assert kinds >= {"certification", "document_timestamp"}, report.to_dict()
    for sig in report.signatures:
        assert sig.ok, report.to_dict()
    reader = PdfFileReader(BytesIO(evidence.report), strict=False)
    assert "/DSS" in reader.root  # validation data travels with the report


def test_report_signature_is_valid_and_trusted_for_pdfsig(evidence: Evidence) -> None:
    path = evidence.work / "report-pdfsig.pdf"
    path.write_bytes(evidence.report)
    results = pdfsig.run_pdfsig(path, pdfsig.make_nss_db(evidence.work / "nss",
                                                         evidence.roots))
    assert "platform-certification" in results
    result = results["platform-certification"]
    assert result.signature_valid and result.certificate_trusted, result


def test_registry_office_of_the_region_gets_the_same_report(live_server, api,
                                                            evidence: Evidence) -> None:
    resp = api.get(f"/registry/v1/contracts/{evidence.view['filing_no']}/evidence.pdf",
                   headers=evidence.sale.client.headers)
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/pdf"
    # same facts, same report: kept by the hash of its content, not signed twice
    assert resp.headers["etag"] == evidence.etag
    assert resp.content == evidence.report


def test_everyone_else_gets_404(live_server, api, evidence: Evidence) -> None:
    contract_id, filing_no = evidence.sale.contract_id, evidence.view["filing_no"]
    stranger = s.person(api)
    resp = api.get(f"/api/v1/contracts/{contract_id}/evidence.pdf", headers=stranger.headers)
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "not_found"
    assert api.get(f"/api/v1/contracts/{contract_id}/evidence.pdf").status_code == 401
    other = s.registry_client(live_server, api, region="421281")
    resp = api.get(f"/registry/v1/contracts/{filing_no}/evidence.pdf", headers=other.headers)
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "not_found"
    resp = api.get("/registry/v1/contracts/421202209999999999/evidence.pdf",
                   headers=evidence.sale.client.headers)
    assert resp.status_code == 404
    assert api.get(f"/registry/v1/contracts/{filing_no}/evidence.pdf").status_code == 401


def test_a_broken_chain_is_reported_as_broken(live_server, api, tmp_path) -> None:
    sale = s.sale_in_signing(live_server, api)

    async def edit(forged: bool) -> None:
        from server.models import ContractEvent

        ev = await ContractEvent.get(contract_id=sale.contract_id, seq=2)
        ev.data = {**{k: v for k, v in ev.data.items() if k != "forged"},
                   **({"forged": True} if forged else {})}
        await ev.save(update_fields=["data"])

    with_db(live_server.env, lambda: edit(True))
    try:
        resp = api.get(f"/api/v1/contracts/{sale.contract_id}/evidence.pdf",
                       headers=sale.sellers[0].headers)
    finally:
        # the shared server's other tests check every chain (verify-chains): put it back
        with_db(live_server.env, lambda: edit(False))
    assert resp.status_code == 200
    text = _squash(_pdftotext(resp.content, tmp_path, "broken"))
    assert "校验未通过：自第2个事件起哈希链断裂（事件内容被修改）" in text
