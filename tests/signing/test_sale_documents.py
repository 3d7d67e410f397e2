"""The documents of a sale besides the contract (the funds-custody agreement, the
transaction notice): rendered like the contract (PDF/A-2b, their own QR code, a box for
every party and the seal), and one party's signature in all of them with one key."""

from __future__ import annotations

import dataclasses
import io
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from pyhanko.pdf_utils.reader import PdfFileReader

from server.domain.documents import in_order, kinds_for
from signing.document import DOCUMENT_TITLES, SEAL_FIELD_NAME
from signing.pades import PartyField, SignerRequest, prepare_for_signing, sign_party_documents
from signing.pki import Pki
from signing.preview import render_page_png
from signing.render import RenderedContract, render_document
from signing.validation import validate_document
from tests.samples import sample_contract_document
from tests.signing.conftest import PARTIES, handwriting

KINDS = ("contract", "funds_custody_agreement", "transaction_notice")


def _url(kind: str) -> str:
    return f"https://wq.example.cn/v/ABCDEFGHJK?t=tok&d={kind}"


@pytest.fixture(scope="module")
def rendered() -> dict[str, RenderedContract]:
    base = sample_contract_document()
    return {kind: render_document(kind, dataclasses.replace(base, verification_url=_url(kind)))
            for kind in KINDS[1:]}


def _text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True,
                         text=True).stdout
    return "".join(out.split())


def test_which_documents_a_sale_carries() -> None:
    assert kinds_for({"funds_custody": True}) == KINDS
    assert kinds_for({"funds_custody": False}) == ("contract", "transaction_notice")
    assert in_order(["transaction_notice", "contract", "contract"]) == [
        "contract", "transaction_notice"]


def test_each_document_has_a_box_for_every_party_and_the_seal(rendered) -> None:
    parties = [f"party-{p.party_id}" for p in sample_contract_document().parties]
    for kind, doc in rendered.items():
        names = [slot.field_name for slot in doc.slots]
        assert sorted(names) == sorted([*parties, SEAL_FIELD_NAME]), kind
        assert all(1 <= slot.page <= doc.page_count for slot in doc.slots)


def test_each_document_is_pdfa_with_its_own_qr_code(rendered) -> None:
    for kind, doc in rendered.items():
        assert b"pdfaid:part" in doc.pdf and b"pdfaid:conformance" in doc.pdf, kind
        for page in range(1, doc.page_count + 1):
            png = render_page_png(doc.pdf, page, 1000)
            found = [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]
            assert found == [_url(kind)], (kind, page)


def test_what_each_document_says(rendered, tmp_path) -> None:
    doc = sample_contract_document()
    custody = _text(rendered["funds_custody_agreement"].pdf, tmp_path)
    assert DOCUMENT_TITLES["funds_custody_agreement"] in custody
    assert doc.terms.custody_bank in custody and doc.contract_no in custody
    assert "1,234,567.00" in custody
    notice = _text(rendered["transaction_notice"].pdf, tmp_path)
    assert DOCUMENT_TITLES["transaction_notice"] in notice
    assert "一、交易告知" in notice and "二、出卖人承诺" in notice and "三、买受人承诺" in notice
    assert "各方已选择交易资金监管" in notice
    for party in doc.parties:
        assert party.name in custody and party.name in notice


def test_no_custody_agreement_without_custody() -> None:
    base = sample_contract_document()
    without = dataclasses.replace(base, terms=dataclasses.replace(
        base.terms, funds_custody=False, custody_bank=None))
    with pytest.raises(ValueError, match="funds custody"):
        render_document("funds_custody_agreement", without)
    with pytest.raises(ValueError, match="unknown document kind"):
        render_document("lease", base)


def test_drafts_are_marked_and_have_no_qr_code(tmp_path) -> None:
    draft = render_document("transaction_notice", sample_contract_document(draft=True))
    assert "草稿" in _text(draft.pdf, tmp_path)
    assert zxingcpp.read_barcodes(Image.open(io.BytesIO(render_page_png(draft.pdf, 1)))) == []


@pytest.fixture(scope="module")
def prepared(pki: Pki) -> dict[str, bytes]:
    base = sample_contract_document()
    out = {}
    for kind in KINDS:
        doc = render_document(kind, dataclasses.replace(base, verification_url=_url(kind)))
        out[kind] = prepare_for_signing(doc.pdf, doc.slots, pki=pki)
    return out


def _party_fields() -> list[str]:
    return [f"party-{p.party_id}" for p in sample_contract_document().parties]


def test_one_key_signs_all_of_a_partys_documents(prepared, pki: Pki) -> None:
    field = _party_fields()[0]
    name, id_number = PARTIES[0]
    request = SignerRequest(name, id_number, handwriting(1), datetime.now(UTC))
    signed = sign_party_documents(
        [PartyField(prepared[k], field, f"签署{DOCUMENT_TITLES[k]}") for k in KINDS],
        request, pki=pki)
    serials = set()
    for kind, pdf in zip(KINDS, signed, strict=True):
        assert pdf.startswith(prepared[kind])  # an incremental update of that document
        sig = next(s for s in PdfFileReader(io.BytesIO(pdf)).embedded_signatures
                   if s.field_name == field)
        assert sig.sig_object["/Reason"] == f"签署{DOCUMENT_TITLES[kind]}"
        serials.add(sig.signer_cert.serial_number)
        report = validate_document(pdf, pki.roots_pem())
        party = [r for r in report.signatures if r.field_name == field]
        assert party and party[0].intact and party[0].valid, (kind, report.to_dict())
    assert len(serials) == 1


def test_all_or_nothing_when_one_document_cannot_be_signed(prepared, pki: Pki) -> None:
    field = _party_fields()[0]
    name, id_number = PARTIES[0]
    request = SignerRequest(name, id_number, handwriting(1), datetime.now(UTC))
    # the notice is already signed in this field: the whole step fails, nothing comes back
    notice = sign_party_documents([PartyField(prepared["transaction_notice"], field, "x")],
                                  request, pki=pki)[0]
    with pytest.raises(ValueError, match="already signed"):
        sign_party_documents([PartyField(prepared["contract"], field, "a"),
                              PartyField(notice, field, "b")], request, pki=pki)
    with pytest.raises(ValueError, match="not a party"):
        sign_party_documents([PartyField(prepared["contract"], SEAL_FIELD_NAME, "a")],
                             request, pki=pki)
    with pytest.raises(ValueError, match="nothing to sign"):
        sign_party_documents([], request, pki=pki)


def test_a_whole_step_runs_as_one_pool_job(pki: Pki) -> None:
    """freeze (render and prepare every document), one party's step, the filing: each one
    job in a worker process with its own PKI, as the service runs them."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from signing import worker
    from signing.freeze import render_and_prepare_all
    from signing.pki import PkiSettings
    from tests.signing.conftest import AUTHORITY, FILING_NO, PASSPHRASE

    base = sample_contract_document()
    docs = [(k, dataclasses.replace(base, verification_url=_url(k))) for k in KINDS]
    settings = PkiSettings(pki.data_dir, PASSPHRASE, pki.public_base_url)
    # forkserver, as the app's pool: typst already ran in this process
    with ProcessPoolExecutor(max_workers=1, initializer=worker.init_worker, initargs=(settings,),
                             mp_context=multiprocessing.get_context("forkserver")) as pool:
        pdfs = pool.submit(render_and_prepare_all, docs, None).result()
        assert list(pdfs) == list(KINDS)
        current = [pdfs[k] for k in KINDS]
        for field, (name, id_number) in zip(_party_fields(), PARTIES, strict=True):
            request = SignerRequest(name, id_number, handwriting(2), datetime.now(UTC))
            current = pool.submit(worker.sign_all, [PartyField(pdf, field, "签署")
                                                    for pdf in current], request).result()
        filed = pool.submit(worker.file_all, current, AUTHORITY, FILING_NO).result()
        reports = [pool.submit(worker.validate, pdf).result() for pdf in filed]
    for kind, report in zip(KINDS, reports, strict=True):
        assert report.valid and report.certified and report.filed, (kind, report.to_dict())
