"""The authority's seal under the SM2 suite: a GB/T 38540 SES_Signature in the PDF.

What the filed PDF carries is checked from the outside (the signature dictionary as
pyHanko reads it, SM3 by ``openssl dgst``); the independent verification of both SM2
signatures of the seal is :class:`tests.gm_independent.Sm2DocumentCheck`'s (openssl and
gmssl), run on the same document in ``test_sm2_suite``.
"""

from __future__ import annotations

import io
import subprocess
from io import BytesIO

import pytest
from PIL import Image
from pyhanko.pdf_utils.reader import PdfFileReader

from signing import electronic_seal
from signing.document import SEAL_FIELD_NAME
from signing.evidence_report import signatures_in
from signing.gm import ses
from signing.pki import Pki
from signing.validation import validate_document
from tests.gm_independent import ses_fields
from tests.signing.conftest import AUTHORITY, PASSPHRASE, Filed

pytestmark = pytest.mark.filterwarnings("ignore")


def _seal(pdf: bytes) -> electronic_seal.EmbeddedSeal:
    [seal] = electronic_seal.embedded_seals(PdfFileReader(BytesIO(pdf)), pdf)
    return seal


def test_the_seal_field_holds_an_ses_signature_under_its_own_subfilter(filed: Filed):
    reader = PdfFileReader(BytesIO(filed.pdf))
    [(name, sig_obj)] = ses_fields(reader)
    assert name == SEAL_FIELD_NAME
    assert (sig_obj["/Type"], sig_obj["/Filter"], sig_obj["/SubFilter"]) == (
        "/Sig", "/Adobe.PPKLite", "/GB.T38540.SES")
    # pyHanko lists every other signature and skips the seal instead of failing on it
    assert SEAL_FIELD_NAME not in [s.field_name for s in reader.embedded_signatures]
    assert len(reader.embedded_signatures) == 5

    seal = _seal(filed.pdf)
    sm3 = subprocess.run(["openssl", "dgst", "-sm3", "-binary"], input=seal.signed_bytes,
                         capture_output=True, check=True).stdout
    doc = ses.parse_signature(seal.contents)
    assert doc.data_hash == sm3
    pki = filed.pki
    assert doc.signer_cert.dump() == pki.seal_cert.dump()
    assert doc.holder_certs == (pki.seal_cert.dump(),)
    assert doc.maker_cert.dump() == pki.platform_cert.dump()
    assert (doc.seal_name, doc.picture_type, doc.picture_size_mm) == ("网签备案专用章", "PNG",
                                                                      (42, 42))
    assert (doc.valid_start, doc.valid_end) == (pki.seal_cert.not_valid_before,
                                                pki.seal_cert.not_valid_after)
    picture = Image.open(io.BytesIO(doc.picture))
    assert picture.format == "PNG" and picture.size == (320, 320)
    assert SEAL_FIELD_NAME in doc.property_info
    assert doc.timestamp_token is not None


def test_our_validation_reports_the_seal_and_its_maker(filed: Filed):
    report = validate_document(filed.pdf, filed.pki.validation_roots())
    [seal] = [s for s in report.signatures if s.kind == "seal"]
    assert seal.ok and seal.field_name == SEAL_FIELD_NAME, seal
    assert (seal.intact, seal.valid, seal.trusted, seal.revocation) == (True, True, True,
                                                                         "good")
    assert seal.archived and seal.coverage == "entire_revision"
    assert seal.signer is not None and seal.signer.common_name == "网签备案专用章"
    assert seal.timestamp_time is not None and report.filed
    # signing order: the seal after the parties, before the archive timestamp
    kinds = [s.kind for s in report.signatures]
    assert kinds.index("seal") == len(kinds) - 2 and kinds[-1] == "document_timestamp"


def test_the_evidence_report_lists_the_seal(filed: Filed):
    entries = signatures_in(filed.pdf, ())
    [seal] = [e for e in entries if e.kind == "seal"]
    assert "GB/T 38540" in seal.signer and seal.algorithm == "SM2/SM3"
    assert seal.timestamp_authority and seal.timestamp_time is not None
    assert [e.kind for e in entries][-2:] == ["seal", "archive_timestamp"]


def test_a_broken_seal_is_a_failed_seal_not_a_broken_report(filed: Filed):
    seal = _seal(filed.pdf)
    hex_at = int(seal.pdf_view.byte_range[1]) + 1  # after "<": the first hex digit
    assert filed.pdf[hex_at - 1:hex_at + 2] == b"<30"
    broken = bytearray(filed.pdf)
    broken[hex_at:hex_at + 2] = b"31"  # no longer a SEQUENCE
    report = validate_document(bytes(broken), filed.pki.validation_roots())
    [bad] = [s for s in report.signatures if s.kind == "seal"]
    assert not bad.ok and bad.indication == "FAILED/FORMAT_FAILURE"
    assert all(s.ok for s in report.signatures if s.kind in ("party", "certification"))
    assert not report.valid and not report.filed


def test_every_filing_carries_the_same_seal(filed: Filed, tmp_path):
    pki = filed.pki
    first = ses.parse_signature(_seal(filed.pdf).contents).signature["toSign"]["eseal"].dump()
    path = next(pki.data_dir.glob("ses-seal-*.der"))
    assert path.read_bytes() == first
    # another process (an empty cache) reads the seal made before, and seals with it
    electronic_seal._seals.clear()
    again = Pki.load_or_create(pki.data_dir.parent, PASSPHRASE, "http://127.0.0.1:9",
                               suite="sm2")
    assert electronic_seal.authority_seal(again) == first
    # a PKI of its own makes a seal of its own
    other = Pki.load_or_create(tmp_path, PASSPHRASE, "http://127.0.0.1:9", suite="sm2")
    assert electronic_seal.authority_seal(other) != first
    assert AUTHORITY in str(other.seal_cert.subject.native)


def test_the_default_suite_keeps_its_pades_seal(signed):
    reader = PdfFileReader(BytesIO(signed.filed))
    seal = next(s for s in reader.embedded_signatures if s.field_name == SEAL_FIELD_NAME)
    assert seal.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    assert not ses_fields(reader)
