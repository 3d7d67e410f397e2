"""Validating a contract PDF: every signature, in plain, JSON-ready terms.

Signatures are checked with pyHanko's AdES (ETSI EN 319 102-1) validation:
long-term (LTA) once a document timestamp covers them — the timestamps act
as the evidence record, so a party's 30-minute certificate that expired
long ago still validates through the OCSP response taken when it signed —
and "with time" (its own signature timestamp) before filing. Nothing is
fetched over the network: trust is exactly the roots passed in, revocation
data is what the document carries plus what the caller supplies (the
platform's worker passes current responses from its own PKI; see
:mod:`signing.worker`).

SM2 signatures (``SIGNING_SUITE=sm2``) are beyond pyHanko: for those the
cryptographic checks — signature, timestamp, certificate path, OCSP and CRL
signatures — are :mod:`signing.gm.verify`'s (OpenSSL 3 through
:mod:`signing.gm.sm2`), while the PDF checks (byte-range coverage, changes
after signing, the certification's permissions) stay pyHanko's. Every
signature's report names its algorithm and who checked it (``checked_by``).

A plain, blocking function (a few hundred milliseconds per contract, mostly
pyHanko's incremental-update analysis); the app runs it in the process pool.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib.metadata import version
from io import BytesIO
from typing import Any

from asn1crypto import cms, pem, x509
from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from pyhanko.pdf_utils.decode_limits import DecodePurpose
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESPassed
from pyhanko.sign.diff_analysis import DiffPolicy, ModificationLevel
from pyhanko.sign.validation import (
    DocumentSecurityStore,
    EmbeddedPdfSignature,
    async_validate_pdf_timestamp,
)
from pyhanko.sign.validation.ades import ades_lta_validation, ades_with_time_validation
from pyhanko.sign.validation.errors import NoDSSFoundError
from pyhanko.sign.validation.policy_decl import (
    LocalKnowledge,
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko.sign.validation.status import PdfSignatureStatus
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.ltv.types import ValidationTimingInfo
from pyhanko_certvalidator.policy_decl import REQUIRE_REVINFO, CertRevTrustPolicy
from pyhanko_certvalidator.registry import SimpleTrustManager
from pyhanko_certvalidator.revinfo.archival import CRLContainer, OCSPContainer

from signing import electronic_seal
from signing.diff_memo import MemoisedDiffPolicy
from signing.document import CERTIFICATION_FIELD_NAME, SEAL_FIELD_NAME
from signing.gm import ses
from signing.gm import verify as gm_verify

__all__ = [
    "SignatureReport",
    "SignerSummary",
    "ValidationReport",
    "document_sha256",
    "signature_algorithm",
    "validate_document",
]

log = logging.getLogger(__name__)

KIND_CERTIFICATION = "certification"
KIND_PARTY = "party"
KIND_SEAL = "seal"
KIND_DOCUMENT_TIMESTAMP = "document_timestamp"

# subject attributes that may appear in a report: never serial_number (the ID hash)
_MASKED_ID_ATTRIBUTES = ("organizational_unit_name", "pseudonym")


def document_sha256(pdf: bytes) -> str:
    """Hex SHA-256 of the exact file bytes (what the verification page compares)."""
    return hashlib.sha256(pdf).hexdigest()


@dataclass(frozen=True)
class SignerSummary:
    """Who signed, as far as a public report may say: name and masked ID only."""

    common_name: str | None
    masked_id: str | None


@dataclass(frozen=True)
class SignatureReport:
    # Plain values only (str(), not pyHanko's str subclasses): a TextStringObject holds a
    # reference into the PDF reader, and asdict()'s deep copy — or pickling the report
    # out of the pool — then copies the whole parsed file (seconds of CPU per report).
    field_name: str
    kind: str  # certification | party | seal | document_timestamp
    signer: SignerSummary | None
    signing_time: str | None  # claimed by the signer (ISO 8601)
    timestamp_time: str | None  # proven by a TSA (ISO 8601)
    intact: bool  # the signed bytes are unchanged
    valid: bool  # the cryptographic signature checks out
    trusted: bool  # the certificate chains to a trusted root
    revocation: str  # good | revoked | unknown
    modification_level: str | None  # what changed after this signature
    docmdp_ok: bool | None  # those changes are allowed by the certification
    coverage: str | None  # entire_file | entire_revision | contiguous_blocks_only
    archived: bool  # covered by a document timestamp (PAdES B-LTA)
    indication: str  # AdES indication, e.g. PASSED/OK, INDETERMINATE/NO_POE
    ok: bool  # this signature's overall verdict
    message: str | None = None
    algorithm: str = ""  # e.g. ECDSA/SHA-256, SM2/SM3
    checked_by: str = ""  # which implementation checked what


@dataclass(frozen=True)
class ValidationReport:
    document_sha256: str
    valid: bool
    certified: bool
    filed: bool
    signatures: list[SignatureReport] = field(default_factory=list)
    checked_by: list[str] = field(default_factory=list)  # every signature's, once each

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- inputs --------------------------------------------------------------------------------------


def _load_roots(trust: bytes | Sequence[x509.Certificate]) -> list[x509.Certificate]:
    if isinstance(trust, (bytes, bytearray)):
        data = bytes(trust)
        if pem.detect(data):
            return [x509.Certificate.load(der) for _, _, der in pem.unarmor(data, multiple=True)]
        return [x509.Certificate.load(data)]
    return list(trust)


def _local_knowledge(revocation_data: Iterable[bytes]) -> LocalKnowledge:
    """Caller-supplied DER OCSP responses and CRLs, told apart by their structure."""
    ocsps: list[OCSPContainer] = []
    crls: list[CRLContainer] = []
    for item in revocation_data:
        try:
            response = asn1_ocsp.OCSPResponse.load(item)
            if response["response_status"].native == "successful":
                ocsps.extend(OCSPContainer.load_multi(response))
                continue
        except ValueError:
            pass
        crls.append(CRLContainer(asn1_crl.CertificateList.load(item)))
    return LocalKnowledge(known_ocsps=ocsps, known_crls=crls)


# -- per signature -------------------------------------------------------------------------------


def _kind(sig: EmbeddedPdfSignature) -> str:
    if sig.sig_object_type == "/DocTimeStamp":
        return KIND_DOCUMENT_TIMESTAMP
    if sig.field_name == CERTIFICATION_FIELD_NAME or sig.docmdp_level is not None:
        return KIND_CERTIFICATION
    if sig.field_name == SEAL_FIELD_NAME:
        return KIND_SEAL
    return KIND_PARTY


def _signer(cert: x509.Certificate | None, kind: str) -> SignerSummary | None:
    if cert is None:
        return None
    subject = cert.subject.native
    masked = None
    if kind == KIND_PARTY:
        masked = next((subject[a] for a in _MASKED_ID_ATTRIBUTES if a in subject), None)
    return SignerSummary(common_name=subject.get("common_name"), masked_id=masked)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _name(value: Any) -> str | None:
    return None if value is None else str(getattr(value, "name", value)).lower()


def _indication(subindic: Any) -> str:
    kind = type(subindic).__name__.replace("AdES", "").upper()
    return f"{kind}/{subindic.name}"


_SIGNATURE_NAMES = {"ecdsa": "ECDSA", "rsa": "RSA", "rsassa_pss": "RSA-PSS"}


def signature_algorithm(signed_data: cms.SignedData) -> str:
    """``SM2/SM3``, ``ECDSA/SHA-256``: the signer's signature and digest algorithms."""
    info = signed_data["signer_infos"][0]
    if gm_verify.is_sm2_signed(signed_data):
        return "SM2/SM3"
    digest = str(info["digest_algorithm"]["algorithm"].native).upper().replace("SHA", "SHA-")
    try:
        signature = info["signature_algorithm"].signature_algo
    except ValueError:
        signature = info["signature_algorithm"]["algorithm"].native
    return f"{_SIGNATURE_NAMES.get(signature, str(signature).upper())}/{digest}"


@cache
def _pyhanko_checked_by() -> str:
    return f"pyHanko {version('pyHanko')} AdES validation (ETSI EN 319 102-1)"


def _revocation(status: Any, passed: bool) -> str:
    if status is not None and status.revocation_details is not None:
        return "revoked"
    return "good" if passed else "unknown"


def _spec(roots: list[x509.Certificate], knowledge: LocalKnowledge,
          diff_policy: DiffPolicy) -> PdfSignatureValidationSpec:
    return PdfSignatureValidationSpec(
        SignatureValidationSpec(
            cert_validation_policy=CertValidationPolicySpec(
                trust_manager=SimpleTrustManager.build(trust_roots=roots),
                revinfo_policy=CertRevTrustPolicy(REQUIRE_REVINFO),
            ),
            revinfo_gathering_policy=RevocationInfoGatheringSpec(
                online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY
            ),
            local_knowledge=knowledge,
        ),
        diff_policy=diff_policy,
    )


def _with_dss(spec: PdfSignatureValidationSpec, reader: PdfFileReader) -> SignatureValidationSpec:
    """The signature spec plus the document's DSS contents (for validation without LTA)."""
    base = spec.signature_validation_spec
    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except NoDSSFoundError:
        return base
    known = base.local_knowledge
    ocsps = [c for resp in dss.ocsps for c in OCSPContainer.load_multi(_ocsp(resp))]
    crls = [CRLContainer(_crl(ref)) for ref in dss.crls]
    return dataclasses.replace(
        base,
        local_knowledge=LocalKnowledge(
            known_ocsps=[*known.known_ocsps, *ocsps],
            known_crls=[*known.known_crls, *crls],
            known_certs=[*known.known_certs, *dss.load_certs()],
        ),
    )


def _ocsp(ref: Any) -> asn1_ocsp.OCSPResponse:
    return asn1_ocsp.OCSPResponse.load(ref.get_object().read_data(DecodePurpose.OCSP_RESPONSE))


def _crl(ref: Any) -> asn1_crl.CertificateList:
    return asn1_crl.CertificateList.load(ref.get_object().read_data(DecodePurpose.CRL))


async def _signature_report(
    sig: EmbeddedPdfSignature,
    spec: PdfSignatureValidationSpec,
    timing: ValidationTimingInfo | None,
    archived: bool,
) -> SignatureReport:
    """AdES validation: long-term (LTA) once a document timestamp covers the
    signature, "with time" (its own signature timestamp) before that.

    LTA validation without any document timestamp has no proof of existence
    for the embedded revocation data and fails for certificates that have
    expired since — which every party certificate does after 30 minutes.
    """
    if archived:
        result: Any = await ades_lta_validation(sig, spec, timing_info=timing)
    else:
        sig.compute_integrity_info(diff_policy=spec.diff_policy)
        result = await ades_with_time_validation(
            sig.signed_data,
            _with_dss(spec, sig.reader),
            timing_info=timing,
            raw_digest=sig.compute_digest(),
            extra_status_kwargs=sig.summarise_integrity_info(),
            status_cls=PdfSignatureStatus,
        )
    status: PdfSignatureStatus | None = result.api_status
    kind = _kind(sig)
    passed = result.ades_subindic == AdESPassed.OK
    ts_status = status.timestamp_validity if status is not None else None
    return SignatureReport(
        field_name=str(sig.field_name),
        kind=kind,
        signer=_signer(sig.signer_cert, kind),
        signing_time=_iso(sig.self_reported_timestamp),
        timestamp_time=_iso(ts_status.timestamp if ts_status is not None else None),
        intact=bool(status and status.intact),
        valid=bool(status and status.valid),
        trusted=bool(status and status.trusted),
        revocation=_revocation(status, passed),
        modification_level=_name(status.modification_level) if status else None,
        docmdp_ok=status.docmdp_ok if status else None,
        coverage=_name(status.coverage) if status else None,
        archived=archived,
        indication=_indication(result.ades_subindic),
        ok=passed and bool(status and status.bottom_line),
        message=None if passed else result.failure_msg,
        algorithm=signature_algorithm(sig.signed_data),
        checked_by=_pyhanko_checked_by(),
    )


async def _timestamp_report(
    sig: EmbeddedPdfSignature,
    roots: list[x509.Certificate],
    knowledge: LocalKnowledge,
    at: datetime | None,
    diff_policy: DiffPolicy,
) -> SignatureReport:
    kwargs: dict[str, Any] = {
        "trust_roots": roots,
        "allow_fetching": False,
        "revocation_mode": "hard-fail",
        "moment": at,
        "ocsps": [c.ocsp_response_data for c in knowledge.known_ocsps],
        "crls": [c.crl_data for c in knowledge.known_crls],
    }
    try:
        context = DocumentSecurityStore.read_dss(sig.reader).as_validation_context(kwargs)
    except NoDSSFoundError:
        context = ValidationContext(**kwargs)
    status = await async_validate_pdf_timestamp(sig, validation_context=context,
                                                 diff_policy=diff_policy)
    ok = bool(status.intact and status.valid and status.trusted)
    return SignatureReport(
        field_name=str(sig.field_name),
        kind=KIND_DOCUMENT_TIMESTAMP,
        signer=_signer(sig.signer_cert, KIND_DOCUMENT_TIMESTAMP),
        signing_time=None,
        timestamp_time=_iso(status.timestamp),
        intact=status.intact,
        valid=status.valid,
        trusted=status.trusted,
        revocation=_revocation(status, ok),
        modification_level=_name(status.modification_level),
        docmdp_ok=status.docmdp_ok,
        coverage=_name(status.coverage),
        archived=True,
        indication="PASSED/OK" if ok else "INDETERMINATE/TIMESTAMP",
        ok=ok,
        message=None if ok else "document timestamp could not be validated",
        algorithm=signature_algorithm(sig.signed_data),
        checked_by=_pyhanko_checked_by(),
    )


# -- SM2 signatures: pyHanko for the PDF, signing.gm.verify for the cryptography ------------------


def _sm2_material(
    reader: PdfFileReader, roots: list[x509.Certificate], revocation_data: Sequence[bytes]
) -> gm_verify.Material:
    material = gm_verify.Material.from_der(roots, revocation_data)
    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except NoDSSFoundError:
        return material
    for cert in dss.load_certs():
        material.add_cert(cert)
    for ref in dss.ocsps:
        material.add_ocsp(_ocsp(ref))
    for ref in dss.crls:
        material.add_crl(_crl(ref))
    return material


def _signed_bytes(pdf: bytes, sig: EmbeddedPdfSignature) -> bytes:
    ranges = [int(x) for x in sig.sig_object["/ByteRange"]]
    return b"".join(pdf[ranges[i] : ranges[i] + ranges[i + 1]] for i in range(0, len(ranges), 2))


def _pdf_integrity(sig: EmbeddedPdfSignature, diff_policy: DiffPolicy
                   ) -> tuple[Any, bool | None, str | None, bool]:
    """pyHanko's PDF checks of one signature: (modification level, DocMDP ok, coverage,
    all of it acceptable)."""
    sig.compute_integrity_info(diff_policy=diff_policy)
    integrity = sig.summarise_integrity_info()
    diff = integrity.get("diff_result")
    level = getattr(diff, "modification_level", ModificationLevel.OTHER) if diff else None
    docmdp_ok = integrity.get("docmdp_ok")
    coverage = _name(integrity.get("coverage"))
    return level, docmdp_ok, coverage, (
        docmdp_ok is not False and coverage in ("entire_file", "entire_revision"))


def _sm2_report(
    sig: EmbeddedPdfSignature,
    pdf: bytes,
    material: gm_verify.Material,
    *,
    validation_time: datetime,
    archived: bool,
    newest_timestamp: bool,
    diff_policy: DiffPolicy,
) -> SignatureReport:
    """An SM2 signature or document timestamp: the cryptography checked by
    :mod:`signing.gm.verify`, the PDF (coverage, modifications, DocMDP) by pyHanko."""
    kind = _kind(sig)
    signed = _signed_bytes(pdf, sig)
    if kind == KIND_DOCUMENT_TIMESTAMP:
        check = material.check_token(
            sig.signed_data, signed, current_at=validation_time if newest_timestamp else None)
    else:
        check = material.check_signature(
            sig.signed_data, signed, validation_time=validation_time, archived=archived)
    level, docmdp_ok, coverage, pdf_ok = _pdf_integrity(sig, diff_policy)
    ok = check.ok and pdf_ok
    indication = check.indication
    message = check.message
    if check.ok and not pdf_ok:
        indication = "FAILED/FORMAT_FAILURE"
        message = "the document was changed after this signature in a way it does not allow"
    return SignatureReport(
        field_name=str(sig.field_name),
        kind=kind,
        signer=_signer(check.signer, kind),
        signing_time=None if kind == KIND_DOCUMENT_TIMESTAMP else _iso(
            sig.self_reported_timestamp),
        timestamp_time=_iso(check.timestamp_time),
        intact=check.intact,
        valid=check.valid,
        trusted=check.path.trusted,
        revocation=check.path.revocation,
        modification_level=_name(level),
        docmdp_ok=docmdp_ok,
        coverage=coverage,
        archived=archived or kind == KIND_DOCUMENT_TIMESTAMP,
        indication=indication,
        ok=ok,
        message=message,
        algorithm=signature_algorithm(sig.signed_data),
        checked_by=gm_verify.checked_by(),
    )


@cache
def _ses_checked_by() -> str:
    return ("GB/T 38540 electronic seal (SES_Signature) decoded and both its SM2 "
            "signatures, its SM3 data hash and its validity checked by signing.gm.ses; "
            + gm_verify.checked_by())


def _ses_report(
    seal: electronic_seal.EmbeddedSeal,
    material: gm_verify.Material,
    *,
    validation_time: datetime,
    archived: bool,
    diff_policy: DiffPolicy,
) -> SignatureReport:
    """A GB/T 38540 seal (SM2 suite): the SES structures and their two signatures by
    :mod:`signing.gm.ses`; the signer's and the seal maker's certificate paths and the
    timestamp token by :mod:`signing.gm.verify`, at the time the timestamp proves; the
    PDF (coverage, changes after it) by pyHanko."""
    view = seal.pdf_view
    checked = ses.verify_signature(seal.contents, seal.signed_bytes)
    doc = checked.document
    if doc is None:
        raise ValueError("; ".join(checked.problems))
    material.add_cert(doc.signer_cert)
    material.add_cert(doc.maker_cert)
    ts = None
    if doc.timestamp_token is not None:
        token = cms.ContentInfo.load(doc.timestamp_token)["content"]
        ts = material.check_token(token, ses.signature_value(seal.contents),
                                  current_at=None if archived else validation_time)
    at = ts.time if ts is not None and ts.ok and ts.time is not None else validation_time
    paths = {"signer": material.check_path(doc.signer_cert, at),
             "seal maker": material.check_path(doc.maker_cert, at)}
    level, docmdp_ok, coverage, pdf_ok = _pdf_integrity(view, diff_policy)
    crypto_ok = checked.signature_ok and checked.seal_signature_ok and checked.signer_is_holder
    in_time = checked.seal_valid_at_signing and checked.certificates_valid_at_signing
    failed_path = next(((who, p) for who, p in paths.items() if not p.ok), None)
    indication, message = "PASSED/OK", None
    if not checked.data_hash_ok:
        indication, message = "FAILED/HASH_FAILURE", "; ".join(checked.problems)
    elif not crypto_ok:
        indication, message = "FAILED/SIG_CRYPTO_FAILURE", "; ".join(checked.problems)
    elif not in_time:
        indication, message = "FAILED/SIG_CONSTRAINTS_FAILURE", "; ".join(checked.problems)
    elif failed_path is not None:
        who, path = failed_path
        indication, message = path.indication, f"{who}: {path.message}"
    elif ts is not None and not ts.ok:
        indication, message = ts.indication, f"signature timestamp: {ts.message}"
    elif not pdf_ok:
        indication = "FAILED/FORMAT_FAILURE"
        message = "the document was changed after this signature in a way it does not allow"
    states = {p.revocation for p in paths.values()}
    return SignatureReport(
        field_name=str(seal.field_name),
        kind=_kind(view),
        signer=_signer(doc.signer_cert, KIND_SEAL),
        signing_time=_iso(doc.signed_at),
        timestamp_time=_iso(ts.time if ts is not None else None),
        intact=checked.data_hash_ok,
        valid=crypto_ok and in_time,
        trusted=all(p.trusted for p in paths.values()),
        revocation="revoked" if "revoked" in states else "good" if states == {"good"}
        else "unknown",
        modification_level=_name(level),
        docmdp_ok=docmdp_ok,
        coverage=coverage,
        archived=archived,
        indication=indication,
        ok=indication == "PASSED/OK",
        message=message,
        algorithm="SM2/SM3",
        checked_by=_ses_checked_by(),
    )


async def _validate(
    pdf: bytes,
    roots: list[x509.Certificate],
    knowledge: LocalKnowledge,
    at: datetime | None,
    revocation_data: Sequence[bytes] = (),
) -> ValidationReport:
    reader = PdfFileReader(BytesIO(pdf), strict=False)
    # one per validation: the same revisions' diff analysis is asked for once per
    # signature and once per document timestamp (see signing.diff_memo)
    diff_policy = MemoisedDiffPolicy()
    spec = _spec(roots, knowledge, diff_policy)
    sm2_material: gm_verify.Material | None = None
    timing = None
    if at is not None:
        timing = ValidationTimingInfo(
            validation_time=at, best_signature_time=at, point_in_time_validation=True
        )
    reports: list[tuple[int, SignatureReport]] = []
    signatures = reader.embedded_signatures
    timestamped = [s.signed_revision for s in signatures if s.sig_object_type == "/DocTimeStamp"]
    # pyHanko skips GB/T 38540 seals (a SubFilter it does not know): found here instead
    for seal in electronic_seal.embedded_seals(reader, pdf):
        if sm2_material is None:
            sm2_material = _sm2_material(reader, roots, revocation_data)
        try:
            reports.append((seal.signed_revision, _ses_report(
                seal, sm2_material, validation_time=at or datetime.now(UTC),
                archived=any(revision > seal.signed_revision for revision in timestamped),
                diff_policy=diff_policy)))
        except Exception as e:  # noqa: BLE001 - a malformed seal is a failed seal
            log.info("seal %s could not be validated: %s", seal.field_name, e)
            reports.append((seal.signed_revision, _broken(seal.pdf_view, e)))
    for sig in signatures:
        archived = any(revision > sig.signed_revision for revision in timestamped)
        try:
            if gm_verify.is_sm2_signed(sig.signed_data):
                if sm2_material is None:
                    sm2_material = _sm2_material(reader, roots, revocation_data)
                report = _sm2_report(
                    sig, pdf, sm2_material, validation_time=at or datetime.now(UTC),
                    archived=archived,
                    newest_timestamp=sig.sig_object_type == "/DocTimeStamp"
                    and sig.signed_revision == max(timestamped), diff_policy=diff_policy)
            elif sig.sig_object_type == "/DocTimeStamp":
                report = await _timestamp_report(sig, roots, knowledge, at, diff_policy)
            else:
                report = await _signature_report(sig, spec, timing, archived)
        except Exception as e:  # noqa: BLE001 - a malformed signature is a failed signature
            log.info("signature %s could not be validated: %s", sig.field_name, e)
            report = _broken(sig, e)
        reports.append((sig.signed_revision, report))
    ordered = [r for _, r in sorted(reports, key=lambda item: item[0])]
    certified = any(r.kind == KIND_CERTIFICATION and r.ok for r in ordered)
    filed = any(r.kind == KIND_SEAL and r.ok for r in ordered)
    return ValidationReport(
        document_sha256=document_sha256(pdf),
        valid=bool(ordered) and all(r.ok for r in ordered),
        certified=certified,
        filed=filed,
        signatures=ordered,
        checked_by=list(dict.fromkeys(r.checked_by for r in ordered if r.checked_by)),
    )


def _broken(sig: EmbeddedPdfSignature, error: Exception) -> SignatureReport:
    return SignatureReport(
        field_name=str(sig.field_name),
        kind=_kind(sig),
        signer=None,
        signing_time=None,
        timestamp_time=None,
        intact=False,
        valid=False,
        trusted=False,
        revocation="unknown",
        modification_level=None,
        docmdp_ok=None,
        coverage=None,
        archived=False,
        indication="FAILED/FORMAT_FAILURE",
        ok=False,
        message=f"{type(error).__name__}: {error}",
    )


def validate_document(
    pdf: bytes,
    trust: bytes | Sequence[x509.Certificate],
    *,
    revocation_data: Sequence[bytes] = (),
    at: datetime | None = None,
) -> ValidationReport:
    """Validate every signature and document timestamp in ``pdf``.

    :param trust: PEM (one or more) or DER root certificate(s), e.g. ``Pki.roots_pem()``.
    :param revocation_data: extra DER OCSP responses / CRLs to use besides the
        document's own (for signatures not yet filed, and for the newest
        document timestamp, whose TSA needs current status).
    :param at: validate as of this time instead of now (audits, tests).
    """
    roots = _load_roots(trust)
    knowledge = _local_knowledge(revocation_data)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_validate(pdf, roots, knowledge, at, revocation_data))
    raise RuntimeError("validate_document blocks: run it in a process pool, not on the event loop")
