"""The signing flow end to end, checked by poppler's pdfsig (NSS) and by pyHanko.

prepare (fields + certification) → two sellers and one buyer sign (PAdES
B-T + OCSP) → filed (seal, validation data, document timestamp: B-LTA).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image
from pyhanko.pdf_utils.reader import PdfFileReader

from signing import worker
from signing.appearance import CHINA_TZ
from signing.document import CERTIFICATION_FIELD_NAME, SEAL_FIELD_NAME
from signing.pades import (
    ARCHIVE_TIMESTAMP_PREFIX,
    Evidence,
    SignerRequest,
    document_certificates,
    file_document,
    prepare_for_signing,
    sign_party,
)
from signing.pki import Pki, PkiSettings
from signing.signature_image import InvalidSignatureImage
from signing.validation import validate_document
from tests import pdfsig
from tests.signing.conftest import (
    AUTHORITY,
    FILING_NO,
    PARTIES,
    PASSPHRASE,
    Contract,
    SignedContract,
    handwriting,
)

pytestmark = pytest.mark.filterwarnings("ignore")


def _signatures(pdf: bytes) -> dict[str, object]:
    reader = PdfFileReader(BytesIO(pdf))
    return {s.field_name: s for s in reader.embedded_signatures}


# -- the acceptance checks ---------------------------------------------------------------------


def test_pdfsig_trusts_every_signature(
    signed: SignedContract, contract: Contract, nss_db: str, write_pdf, pki_server
) -> None:
    results = pdfsig.run_pdfsig(write_pdf(signed.filed), nss_db)
    expected = {*contract.party_fields, CERTIFICATION_FIELD_NAME, SEAL_FIELD_NAME}
    assert expected <= set(results)
    for name in expected:
        result = results[name]
        assert result.signature_valid, (name, result)
        assert result.certificate_trusted, (name, result)
        assert result.signature_type == "ETSI.CAdES.detached"
    # pdfsig cannot check document timestamps, but it sees one covering everything
    archive = [r for n, r in results.items() if n.startswith(ARCHIVE_TIMESTAMP_PREFIX)]
    assert len(archive) == 1 and archive[0].total_document_signed
    # NSS did ask our responder (its online OCSP check is what makes it trust)
    assert any(path.startswith("/pki/ocsp") for _, path in pki_server.requests)


def test_pdfsig_names_the_parties(signed: SignedContract, contract: Contract, nss_db, write_pdf):
    results = pdfsig.run_pdfsig(write_pdf(signed.filed), nss_db)
    names = [results[f].signer for f in contract.party_fields]
    assert names == [name for name, _ in PARTIES]


def test_pyhanko_validates_the_filed_contract(signed: SignedContract, pki: Pki) -> None:
    report = validate_document(signed.filed, pki.roots_pem())
    assert report.valid, report.to_dict()
    assert report.certified and report.filed
    by_field = {s.field_name: s for s in report.signatures}
    certification = by_field[CERTIFICATION_FIELD_NAME]
    assert certification.kind == "certification"
    # DocMDP level 2 survived three party signatures and the seal
    assert certification.docmdp_ok is True
    assert certification.modification_level == "form_filling"
    seal = by_field[SEAL_FIELD_NAME]
    assert seal.kind == "seal" and seal.signer and seal.signer.common_name == "网签备案专用章"
    for sig in report.signatures:
        assert sig.intact and sig.valid and sig.trusted and sig.ok, sig
        assert sig.revocation == "good"
        assert sig.archived  # every signature is under the document timestamp: B-LTA
    kinds = sorted(s.kind for s in report.signatures)
    assert kinds == ["certification", "document_timestamp", "party", "party", "party", "seal"]


@pytest.mark.parametrize("years", [0, 1, 5])
def test_filed_contract_validates_offline_from_what_it_carries(
    signed: SignedContract, pki: Pki, years: int
) -> None:
    """pyHanko's own AdES validation (tests.ades: nothing fetched, nothing of ours) with the
    registry offices' trust configuration (our root, our TSA trusted directly): every
    signature passes at filing, a year and five years on (the seal and platform
    certificates expire after five years: the archive timestamp proves they were valid)."""
    from signing.pki.certs import certificates_pem
    from tests.ades import load_pem, validate_offline

    trust = load_pem(pki.roots_pem(), certificates_pem(pki.tsa_certs()))
    at = datetime.now(UTC) + timedelta(days=365 * years + (1 if years else 0))
    verdicts = validate_offline(signed.filed, trust, at)
    assert len(verdicts) == 5
    assert all(v.passed for v in verdicts), [v for v in verdicts if not v.passed]


def test_archive_timestamp_expiry_is_its_tsa_certificate_expiry(
    signed: SignedContract, pki: Pki
) -> None:
    from signing.pades import archive_timestamp_expiry

    assert archive_timestamp_expiry(signed.filed) == pki.tsa_cert.not_valid_after
    assert archive_timestamp_expiry(signed.revisions[-1]) is None  # not filed yet


def test_report_is_json_and_shows_only_masked_ids(signed: SignedContract, pki: Pki) -> None:
    report = validate_document(signed.filed, pki.roots_pem())
    text = json.dumps(report.to_dict(), ensure_ascii=False)
    parties = [s for s in report.signatures if s.kind == "party"]
    assert [p.signer.common_name for p in parties] == [name for name, _ in PARTIES]
    for (_, id_number), party in zip(PARTIES, parties, strict=True):
        assert party.signer.masked_id == id_number[:4] + "*" * 10 + id_number[-4:]
        assert id_number not in text
        assert party.timestamp_time is not None
    assert report.document_sha256 in text


def test_report_holds_plain_values_only(signed: SignedContract, pki: Pki) -> None:
    """The report crosses the pool's process boundary: a pyHanko string (which refers to
    the parsed file) in it would drag a copy of the whole file along, seconds of CPU."""
    import pickle

    report = validate_document(signed.filed, pki.roots_pem())
    for sig in report.signatures:
        for value in (sig.field_name, sig.kind, sig.indication, sig.message, sig.coverage):
            assert value is None or type(value) is str, (type(value), value)
    assert len(pickle.dumps(report.to_dict())) < 20_000


def test_remembered_diff_analysis_gives_the_same_report(signed: SignedContract, pki: Pki,
                                                        monkeypatch) -> None:
    """signing.diff_memo answers repeated file reviews from memory: same report as pyHanko's
    own policy, on the filed file and on one changed after filing."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY

    from signing import diff_memo, validation

    writer = IncrementalPdfFileWriter(BytesIO(signed.filed), strict=False)
    writer.root["/Lang"] = generic.TextStringObject("en")
    writer.update_root()
    out = BytesIO()
    writer.write(out)
    at = datetime.now(UTC)
    policies: list[diff_memo.MemoisedDiffPolicy] = []

    def counting() -> diff_memo.MemoisedDiffPolicy:
        policies.append(diff_memo.MemoisedDiffPolicy())
        return policies[-1]

    for pdf in (signed.filed, out.getvalue()):
        monkeypatch.setattr(validation, "MemoisedDiffPolicy", counting)
        remembered = validate_document(pdf, pki.roots_pem(), at=at).to_dict()
        monkeypatch.setattr(validation, "MemoisedDiffPolicy", lambda: DEFAULT_DIFF_POLICY)
        assert validate_document(pdf, pki.roots_pem(), at=at).to_dict() == remembered
        assert policies[-1].reused > policies[-1].computed > 0


def test_signatures_carry_no_plain_id_numbers(signed: SignedContract, contract: Contract) -> None:
    """The contract text itself names the parties in full; the signatures must not:
    they are what validators, banks and archives extract and display."""
    signatures = _signatures(signed.filed)
    for field_name, (_, id_number) in zip(contract.party_fields, PARTIES, strict=True):
        cms = signatures[field_name].pkcs7_content
        assert id_number.encode() not in cms
        assert id_number[:17].encode() not in cms
        assert id_number.encode("utf-16-be") not in cms


def test_flipping_one_signed_byte_breaks_both_validators(
    signed: SignedContract, pki: Pki, nss_db: str, write_pdf
) -> None:
    pdf = bytearray(signed.filed)
    # a byte in the middle of the original contract: covered by every signature
    offset = len(signed.prepared) // 3
    pdf[offset] ^= 0x01
    tampered = bytes(pdf)

    results = pdfsig.run_pdfsig(write_pdf(tampered, "tampered.pdf"), nss_db)
    signatures = {n: r for n, r in results.items() if not n.startswith(ARCHIVE_TIMESTAMP_PREFIX)}
    assert signatures and not any(r.signature_valid for r in signatures.values())

    report = validate_document(tampered, pki.roots_pem())
    assert not report.valid
    assert not any(s.intact for s in report.signatures)


def test_each_party_signature_is_valid_before_filing(signed: SignedContract, pki: Pki) -> None:
    report = worker_free_validate(signed.revisions[-1], pki)
    assert report.valid, report.to_dict()
    assert not report.filed
    assert {s.kind for s in report.signatures} == {"certification", "party"}
    assert not any(s.archived for s in report.signatures)


def worker_free_validate(pdf: bytes, pki: Pki, at: datetime | None = None):
    """What :func:`signing.worker.validate` does, with this process's PKI."""
    evidence = Evidence.collect(pki, document_certificates(PdfFileReader(BytesIO(pdf))))
    return validate_document(
        pdf, pki.roots_pem(), revocation_data=[o.dump() for o in evidence.ocsps], at=at
    )


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) missing")
def test_visible_appearances_are_drawn(
    signed: SignedContract, contract: Contract, tmp_path: Path
) -> None:
    """Render the signature page: the seal box is red, the party boxes have ink."""
    slots = {s.field_name: s for s in contract.slots}
    seal = slots[SEAL_FIELD_NAME]
    path = tmp_path / "filed.pdf"
    path.write_bytes(signed.filed)
    dpi = 72
    prefix = tmp_path / "page"
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-f", str(seal.page), "-l", str(seal.page), "-png",
         "-singlefile", str(path), str(prefix)],
        check=True,
    )  # fmt: skip
    page = Image.open(f"{prefix}.png").convert("RGB")

    def box_pixels(slot) -> list[tuple[int, int, int]]:
        top = page.height - (slot.y + slot.height)
        return list(page.crop((slot.x, top, slot.x + slot.width, top + slot.height)).getdata())

    red = [p for p in box_pixels(seal) if p[0] > 180 and p[1] < 90 and p[2] < 90]
    assert len(red) > 0.05 * seal.width * seal.height
    for name in contract.party_fields:
        ink = [p for p in box_pixels(slots[name]) if max(p) < 100]
        assert len(ink) > 0.01 * slots[name].width * slots[name].height, name


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) missing")
def test_the_printed_contract_shows_the_filing(signed: SignedContract, write_pdf) -> None:
    """The filing number and date are text on the filed PDF's seal, for pdftotext and print."""
    path = write_pdf(signed.filed, "filed.pdf")
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout
    today = datetime.now(UTC).astimezone(CHINA_TZ).date()
    assert f"备案编号：{FILING_NO}" in text.replace(" ", "")
    assert f"备案日期：{today.year}年{today.month:02d}月{today.day:02d}日" in text.replace(" ", "")
    before = subprocess.run(["pdftotext", str(write_pdf(signed.revisions[-1], "signed.pdf")),
                             "-"], check=True, capture_output=True, text=True).stdout
    assert FILING_NO not in before.replace(" ", "")  # it comes with the seal


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) missing")
def test_no_placeholder_shows_through_the_seal(
    signed: SignedContract, contract: Contract, tmp_path: Path
) -> None:
    """The template's grey "备案印章区" hint is painted over: inside the seal's box only
    red, white and near-white remain (no mid-grey text pixels)."""
    seal = {s.field_name: s for s in contract.slots}[SEAL_FIELD_NAME]

    def seal_box(pdf: bytes, name: str) -> list[tuple[int, int, int]]:
        path = tmp_path / f"{name}.pdf"
        path.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-r", "144", "-f", str(seal.page), "-l", str(seal.page),
                        "-png", "-singlefile", str(path), str(tmp_path / name)], check=True)
        page = Image.open(tmp_path / f"{name}.png").convert("RGB")
        k = 2  # 144 dpi
        top = page.height - k * (seal.y + seal.height)
        inner = (k * seal.x + 8, top + 8, k * (seal.x + seal.width) - 8,
                 top + k * seal.height - 8)
        return list(page.crop(inner).getdata())

    def grey(pixels: list[tuple[int, int, int]]) -> int:
        return sum(1 for r, g, b in pixels if max(r, g, b) - min(r, g, b) < 20 and 60 < r < 225)

    assert grey(seal_box(signed.revisions[-1], "before")) > 20  # the hint is there before
    assert grey(seal_box(signed.filed, "after")) == 0


def test_signatures_made_days_before_filing_stay_valid(
    contract: Contract, pki: Pki, prepared: bytes, tmp_path: Path
) -> None:
    """Party certificates live 30 minutes; the OCSP evidence taken at signing time
    keeps their signatures valid after filing, and a year later."""
    real_clock = pki.clock
    pdf = prepared
    try:
        for days_ago, field_name, (name, id_number) in zip(
            (2, 1, 0.05), contract.party_fields, PARTIES, strict=True
        ):
            when = datetime.now(UTC) - timedelta(days=days_ago)
            pki.clock = lambda when=when: when
            request = SignerRequest(name, id_number, handwriting(3), when)
            pdf = sign_party(pdf, field_name, request, pki=pki)
    finally:
        pki.clock = real_clock
    filed = file_document(pdf, AUTHORITY, FILING_NO, pki=pki)
    report = validate_document(filed, pki.roots_pem())
    assert report.valid, [(s.field_name, s.indication, s.message) for s in report.signatures]

    # a year on, with current status data (as the worker supplies it) from a copy
    # of the PKI whose clock is a year ahead (it renews its OCSP responders)
    later = datetime.now(UTC) + timedelta(days=365)
    future_dir = tmp_path / "pki-next-year"
    shutil.copytree(pki.data_dir, future_dir)
    future = Pki.load_or_create(future_dir, PASSPHRASE, pki.public_base_url, clock=lambda: later)
    current = Evidence.collect(future, document_certificates(PdfFileReader(BytesIO(filed))))
    report = validate_document(
        filed, pki.roots_pem(), revocation_data=[o.dump() for o in current.ocsps], at=later
    )
    assert report.valid, [(s.field_name, s.indication, s.message) for s in report.signatures]


# -- refusals ------------------------------------------------------------------------------------


def _request(png: bytes | None = None, signed_at: datetime | None = None) -> SignerRequest:
    return SignerRequest(
        "王建国", "421202197503123518", png or handwriting(), signed_at or datetime.now(UTC)
    )


def test_sign_party_refuses_wrong_fields(
    signed: SignedContract, contract: Contract, pki: Pki, prepared: bytes
) -> None:
    with pytest.raises(ValueError, match="no signature field"):
        sign_party(prepared, "party-nobody", _request(), pki=pki)
    with pytest.raises(ValueError, match="already signed"):
        sign_party(signed.revisions[0], contract.party_fields[0], _request(), pki=pki)
    with pytest.raises(ValueError, match="not a party"):
        sign_party(prepared, SEAL_FIELD_NAME, _request(), pki=pki)
    with pytest.raises(ValueError, match="timezone"):
        sign_party(prepared, contract.party_fields[0], _request(signed_at=datetime.now()), pki=pki)
    with pytest.raises(InvalidSignatureImage):
        sign_party(prepared, contract.party_fields[0], _request(png=b"GIF89a"), pki=pki)


def test_unprepared_document_cannot_be_signed(contract: Contract, pki: Pki) -> None:
    with pytest.raises(ValueError):
        sign_party(contract.pdf, contract.party_fields[0], _request(), pki=pki)


def test_prepare_refuses_signed_documents_and_bad_slots(
    contract: Contract, pki: Pki, prepared: bytes
) -> None:
    with pytest.raises(ValueError, match="already signed"):
        prepare_for_signing(prepared, contract.slots, pki=pki)
    without_seal = [s for s in contract.slots if s.field_name != SEAL_FIELD_NAME]
    with pytest.raises(ValueError, match="seal"):
        prepare_for_signing(contract.pdf, without_seal, pki=pki)


def test_filing_needs_every_party(signed: SignedContract, pki: Pki) -> None:
    with pytest.raises(ValueError, match="not every party"):
        file_document(signed.revisions[1], AUTHORITY, FILING_NO, pki=pki)


# -- the process pool ----------------------------------------------------------------------------


def test_worker_entry_points_run_in_a_process_pool(
    pki: Pki, prepared: bytes, contract: Contract
) -> None:
    settings = PkiSettings(pki.data_dir, PASSPHRASE, pki.public_base_url)
    with ProcessPoolExecutor(
        max_workers=1, initializer=worker.init_worker, initargs=(settings,)
    ) as pool:
        request = SignerRequest(*PARTIES[0], handwriting(), datetime.now(UTC))
        pdf = pool.submit(worker.sign, prepared, contract.party_fields[0], request).result()
        report = pool.submit(worker.validate, pdf).result()
    assert report.valid, report.to_dict()
    assert [s.kind for s in report.signatures] == ["certification", "party"]


def test_revoked_party_certificates(
    contract: Contract, pki: Pki, prepared: bytes, nss_db: str, write_pdf
) -> None:
    """pdfsig asks our OCSP responder and is told. The platform's validation weighs
    the revocation time against the signature timestamp, as AdES does."""
    field_name = contract.party_fields[2]

    def signed_then_revoked(revoked_at: datetime) -> tuple[bytes, datetime]:
        request = SignerRequest(*PARTIES[2], handwriting(5), datetime.now(UTC))
        pdf = sign_party(prepared, field_name, request, pki=pki)
        pki.revoke(_signatures(pdf)[field_name].signer_cert.serial_number, "key_compromise",
                   at=revoked_at)  # fmt: skip
        return pdf, revoked_at

    def validate_at(pdf: bytes, moment: datetime):
        real_clock = pki.clock
        pki.clock = lambda: moment  # status data from that moment
        try:
            report = worker_free_validate(pdf, pki, at=moment)
        finally:
            pki.clock = real_clock
        return next(s for s in report.signatures if s.kind == "party"), report

    # revoked after signing (a few seconds later, so the times cannot tie)
    later = datetime.now(UTC) + timedelta(seconds=2)
    pdf, _ = signed_then_revoked(later)
    result = pdfsig.run_pdfsig(write_pdf(pdf, "revoked.pdf"), nss_db)[field_name]
    assert result.signature_valid
    assert result.certificate_validation == "Certificate has been Revoked."
    party, report = validate_at(pdf, later)
    assert party.ok and report.valid  # the timestamp proves it was signed before

    # revoked before signing (a compromise found out afterwards, dated back)
    pdf, _ = signed_then_revoked(datetime.now(UTC) - timedelta(minutes=1))
    party, report = validate_at(pdf, later)
    assert party.revocation == "revoked"
    assert not party.ok and not report.valid
