"""The process-pool side of signing: one loaded PKI per worker process.

Signing is CPU-bound Python (tens of milliseconds), so the app runs it in a
``ProcessPoolExecutor`` whose workers each open the PKI once — decrypting the
key files (or opening the PKCS#11 session) and loading fonts at start-up,
not per request::

    pool = ProcessPoolExecutor(
        max_workers=n, initializer=worker.init_worker, initargs=(settings,)
    )
    pdf = await loop.run_in_executor(pool, worker.sign, pdf, field, request)

Entry points are module-level functions with picklable arguments and
results (bytes, frozen dataclasses). The app process itself can call
:func:`init_worker` too, to serve ``/pki/`` (CRL, OCSP, TSA) from the same
PKI; with PKCS#11 keys, create the pool with the ``spawn`` or ``forkserver``
start method then, because a PKCS#11 module initialised in a parent must not
be used in a forked child.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from io import BytesIO
from typing import TYPE_CHECKING

from pyhanko.pdf_utils.reader import PdfFileReader

from signing import appearance, pades
from signing.document import SignatureSlot
from signing.pades import PartyField, SignerRequest
from signing.pki import Pki, PkiSettings
from signing.pki.revocation import RevocationList
from signing.validation import ValidationReport, validate_document

if TYPE_CHECKING:
    from signing.evidence_report import EvidenceReport

__all__ = [
    "PartyField",
    "SignerRequest",
    "archive_expiries",
    "archive_expiry",
    "crl_der",
    "current_pki",
    "evidence_report",
    "file",
    "file_all",
    "init_worker",
    "ocsp_response",
    "prepare",
    "renew_archive",
    "renew_archives",
    "revocation_data",
    "sign",
    "sign_all",
    "tsa_response",
    "validate",
]

_pki: Pki | None = None


def init_worker(settings: PkiSettings) -> None:
    """Pool initializer: open the PKI and warm the caches of this process."""
    global _pki
    _pki = Pki.from_settings(settings)
    appearance.warm_up()
    _pki.timestamper()
    _pki.seal_signer()
    _pki.responder_certs()


def use_revocations(revocations: RevocationList) -> None:
    """Context hook of the CPU pool: answer from the revocations the job brought."""
    if _pki is not None and revocations is not None:
        _pki.use_revocations(revocations)


def current_pki() -> Pki:
    if _pki is None:
        raise RuntimeError("signing worker not initialised: use init_worker as pool initializer")
    return _pki


def prepare(pdf: bytes, slots: Sequence[SignatureSlot]) -> bytes:
    """:func:`signing.pades.prepare_for_signing` with this process's PKI."""
    return pades.prepare_for_signing(pdf, slots, pki=current_pki())


def sign(pdf: bytes, field_name: str, signer: SignerRequest) -> bytes:
    """:func:`signing.pades.sign_party` with this process's PKI."""
    return pades.sign_party(pdf, field_name, signer, pki=current_pki())


def sign_all(documents: Sequence[PartyField], signer: SignerRequest) -> list[bytes]:
    """:func:`signing.pades.sign_party_documents` with this process's PKI: one party's
    signature in every document of its step, in one job, all or nothing."""
    return pades.sign_party_documents(documents, signer, pki=current_pki())


def file(pdf: bytes, authority_name: str, filing_no: str, filed_on: date | None = None) -> bytes:
    """:func:`signing.pades.file_document` with this process's PKI."""
    return pades.file_document(pdf, authority_name, filing_no, pki=current_pki(),
                               filed_on=filed_on)


def file_all(pdfs: Sequence[bytes], authority_name: str, filing_no: str,
             filed_on: date | None = None) -> list[bytes]:
    """Every document of a sale sealed as filed (B-LTA), in one job, all or nothing."""
    return [file(pdf, authority_name, filing_no, filed_on) for pdf in pdfs]


def archive_expiry(pdf: bytes) -> datetime | None:
    """:func:`signing.pades.archive_timestamp_expiry` (parsing: CPU-bound)."""
    return pades.archive_timestamp_expiry(pdf)


def archive_expiries(pdfs: Sequence[bytes]) -> list[datetime | None]:
    """:func:`archive_expiry` of each document, in one job."""
    return [pades.archive_timestamp_expiry(pdf) for pdf in pdfs]


def renew_archive(pdf: bytes) -> tuple[bytes, datetime | None]:
    """A renewed archive timestamp, and when its TSA certificate expires."""
    renewed = pades.renew_archive_timestamp(pdf, pki=current_pki())
    return renewed, pades.archive_timestamp_expiry(renewed)


def renew_archives(pdfs: Sequence[bytes]) -> list[tuple[bytes, datetime | None]]:
    """:func:`renew_archive` of each document of a sale, in one job, all or nothing."""
    return [renew_archive(pdf) for pdf in pdfs]


def evidence_report(report: EvidenceReport, pdfs: Sequence[tuple[str, bytes]] | None,
                    font_dirs: list[str] | None = None) -> bytes:
    """:func:`signing.evidence_report.build_report` with this process's PKI."""
    # imported on first use: it loads typst, which a worker that never renders need not
    from signing.evidence_report import build_report

    return build_report(report, pdfs, font_dirs, pki=current_pki())


def ocsp_response(request_der: bytes) -> bytes:
    """The ``/pki/ocsp`` answer, signed here: never on the event loop."""
    return current_pki().ocsp_response(request_der)


def crl_der(ca: str) -> bytes:
    """The ``/pki/crl/{ca}.crl`` CRL (KeyError: no such CA)."""
    return current_pki().crl_der(ca)


def tsa_response(request_der: bytes) -> bytes:
    """The ``/pki/tsa`` answer (RuntimeError when an external TSA is configured)."""
    return current_pki().tsa_response(request_der)


def revocation_data(pdf: bytes) -> list[bytes]:
    """Current OCSP responses (DER) for our unexpired certificates in ``pdf``.

    What an online validator would fetch from ``/pki/``, produced in-process:
    it lets :func:`validate` check documents not yet filed, and the newest
    document timestamp, without any network access.
    """
    pki = current_pki()
    reader = PdfFileReader(BytesIO(pdf), strict=False)
    evidence = pades.Evidence.collect(pki, pades.document_certificates(reader))
    return [response.dump() for response in evidence.ocsps]


def validate(pdf: bytes, at: datetime | None = None) -> ValidationReport:
    """Validate against our root, with current status data from our own PKI.

    ``at`` in the past (an audit "as of" a date) gets no current status data:
    data from after that moment would not be usable then.
    """
    pki = current_pki()
    current = at is None or at >= pki.clock()
    status = revocation_data(pdf) if current else []
    return validate_document(pdf, pki.validation_roots(), revocation_data=status, at=at)
