"""The signing flow on the contract PDF: prepare, party signatures, filing.

Pure functions on bytes, one incremental update each, run in a process pool:

1. :func:`prepare_for_signing` (contract frozen): create every signature
   field — one per party, the filing seal — in the still unsigned document,
   then certify it with the platform key (DocMDP level 2, "fill in forms and
   sign"). Fields must exist before certifying: adding a field later would
   count as a modification and break the certification.
2. :func:`sign_party` (each party, any order, possibly days apart): a
   one-signature certificate, PAdES B-T (``/ETSI.CAdES.detached`` +
   signature timestamp) into the party's existing field, shown as the
   party's handwriting with name and time. The OCSP responses for its
   certificate chain go into the same revision: the certificate expires in
   30 minutes, and status data from after that would prove nothing.
3. :func:`file_document` (last party signed): the authority's seal as an
   approval signature (B-T), its appearance printing the filing number and
   date, then validation material for everything (B-LT: certificates, OCSP
   responses and the root's CRL, all produced by our own PKI, nothing
   fetched) and a document timestamp over it all (B-LTA), renewed later by
   :func:`renew_archive_timestamp`.

Speed comes from not doing work twice: keys stay loaded in the :class:`Pki`,
the CMS space is reserved from known certificate sizes (no dry-run
signature), and appearances are pre-rendered images (no font subsetting).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from io import BytesIO
from typing import Any, TypeVar

from asn1crypto import cms, crl, ocsp, x509
from pyhanko.pdf_utils.form_tools import annot_width_height, get_single_field_annot
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import (
    InvisSigSettings,
    MDPPerm,
    SigFieldSpec,
    SigSeedSubFilter,
    append_signature_field,
)
from pyhanko.sign.general import SigningError
from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner, PdfTimeStamper, Signer
from pyhanko.sign.validation import DocumentSecurityStore
from pyhanko.stamp import BaseStampStyle

from signing import electronic_seal
from signing.appearance import CHINA_TZ, EncodedImage, ImageStampStyle, party_appearance
from signing.document import CERTIFICATION_FIELD_NAME, SEAL_FIELD_NAME, SignatureSlot
from signing.filing_stamp import TEXT_BAND, FilingStampStyle
from signing.pdfa import PdfA2Writer
from signing.pki import Pki
from signing.pki.cms import KeySigner
from signing.seal import seal_image, seal_signer
from signing.signature_image import signature_ink
from signing.timestamps import LocalTimeStamper

__all__ = [
    "ARCHIVE_TIMESTAMP_PREFIX",
    "Evidence",
    "PartyField",
    "SignerRequest",
    "add_archive_timestamp",
    "archive_timestamp_expiry",
    "document_certificates",
    "file_document",
    "prepare_for_signing",
    "renew_archive_timestamp",
    "sign_party",
    "sign_party_documents",
]

ARCHIVE_TIMESTAMP_PREFIX = "archive-timestamp-"
_T = TypeVar("_T")


@dataclass(frozen=True)
class SignerRequest:
    """One party's signature: who, their handwriting, when they confirmed.

    ``signature_png`` may be the raw upload or the normalised image; it is
    checked again here (:class:`~signing.signature_image.InvalidSignatureImage`).
    """

    name: str
    id_number: str = field(repr=False)
    signature_png: bytes = field(repr=False)
    signed_at: datetime


# -- running pyHanko's coroutines ------------------------------------------------------------

_loops = threading.local()


def _run(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run a pyHanko coroutine on this thread's own, reused event loop.

    ``asyncio.run`` (what pyHanko's sync wrappers use) builds and tears down
    a loop per call; a worker process signs thousands of times.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        coro.close()
        raise RuntimeError(
            "signing functions are CPU-bound and blocking: call them in a process pool "
            "(loop.run_in_executor), not on the event loop"
        )
    loop = getattr(_loops, "loop", None)
    if loop is None or loop.is_closed():
        loop = _loops.loop = asyncio.new_event_loop()
    return loop.run_until_complete(coro)


# -- validation material -----------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    """Certificates, OCSP responses and the root's CRL for the document security store (DSS).

    Every certificate of ours gets its own OCSP response (signed by the CA's
    delegated responder, whose certificate comes along), and a party's
    30-minute certificate gets it at signing time, while it is valid, with
    nextUpdate inside its validity. The root CA's CRL (an authority
    revocation list: the root issues only CA and service certificates) comes
    along too. Both matter for offline long-term validation (ETSI EN 319
    102-1, as pyHanko implements it):

    * once the embedded status data is stale (a day after filing), the
      "current time" check of a path must end as *stale* (TRY_LATER), not as
      a general chain failure, or past validation is never tried. pyHanko
      counts an OCSP response about a sibling certificate of the same CA as
      a real failure, so OCSP alone (the root answers for the issuing CA,
      the platform and the TSA) never ends as merely stale; the root's CRL,
      covering all of them, does.
    * past validation slides its control time back to where the freshest
      status data of each certificate stops being fresh. So no CRL from the
      issuing CA: one issued at filing, after a party's certificate expired,
      would be the freshest data about it and pin the control time after
      expiry.

    The root goes in too: pyHanko wants proof of existence for every
    certificate of a path, the anchor included.
    """

    certs: tuple[x509.Certificate, ...]
    ocsps: tuple[ocsp.OCSPResponse, ...]
    crls: tuple[crl.CertificateList, ...] = ()

    @classmethod
    def collect(cls, pki: Pki, certs: Iterable[x509.Certificate]) -> Evidence:
        """The chains, a current OCSP response for each unexpired certificate of
        ours and the root's current CRL."""
        root_der = pki.root_cert.dump()
        responder_certs = pki.responder_certs()
        unique = {c.dump(): c for c in (*certs, *responder_certs, pki.root_cert)}
        now = pki.clock()
        # expired certificates (earlier parties' one-signature certificates) got
        # their response at signing time; one made after expiry proves nothing.
        # Responders are exempt (id-pkix-ocsp-nocheck).
        responders = {c.dump() for c in responder_certs}
        ocsps = tuple(
            pki.ocsp_for(c, now=now)
            for der, c in unique.items()
            if der != root_der
            and der not in responders
            and pki.issuer_of(c.serial_number) is not None
            and c.not_valid_after > now
        )
        return cls(tuple(unique.values()), ocsps, (pki.crl("root"),))

    def write_dss(self, writer: IncrementalPdfFileWriter) -> None:
        DocumentSecurityStore.supply_dss_in_writer(
            writer, sig_contents=None, certs=self.certs, ocsps=self.ocsps, crls=self.crls
        )


# -- sizes -------------------------------------------------------------------------------------


def _reserve(
    signer_certs: Iterable[x509.Certificate],
    timestamper: Any,
    *,
    signer: Signer | None = None,
    document_timestamp: bool = False,
) -> int:
    """Hex characters to reserve for a CMS blob, from the sizes of what goes in.

    Replaces pyHanko's dry-run estimate (a whole extra signature) with
    arithmetic: the certificates are known, everything else is small and of
    near-constant size (measured: ~640 bytes of signer info and attributes,
    ~800 bytes of token besides the TSA certificate). Unused space is zero
    padding that every later reader has to parse, so the margin is small;
    :func:`_sign` retries once with double the space if it was not enough.
    """
    size = sum(len(c.dump()) for c in signer_certs) + 128
    if isinstance(timestamper, LocalTimeStamper):
        size += len(timestamper.tsa_cert.dump()) + 800
    else:
        size += 8192  # an external TSA's token: its certificates are unknown in advance
    if not document_timestamp:
        size += 640
        if not isinstance(signer, KeySigner):
            size += 2048  # pyHanko's own CMS layout (e.g. PKCS#11 signers): less predictable
    return 2 * size


class _PreparedDocumentSigner(PdfSigner):
    """PdfSigner for documents made by :func:`prepare_for_signing`.

    pyHanko checks before every signature that the certification allows
    more changes, by loading the certification signature — parsing its
    ``/Contents`` hex string a character at a time, ≈ 5 ms per signature.
    Our documents are certified at FILL_FORMS, which permits signing, so it
    is enough to check that the certification is there.
    """

    def _enforce_certification_constraints(self, reader: PdfFileReader) -> None:
        if self.signature_meta.certify:
            super()._enforce_certification_constraints(reader)
            return
        perms = reader.root.get("/Perms")
        if perms is None or "/DocMDP" not in perms:
            raise SigningError("the document was not prepared (certified) for signing")


def _signature_fields(handler: Any) -> dict[str, Any]:
    """Top-level signature fields by name, read without loading any signature
    dictionary (see :class:`_PreparedDocumentSigner`)."""
    try:
        fields = handler.root["/AcroForm"]["/Fields"]
    except KeyError:
        return {}
    found = {}
    for ref in fields:
        sig_field = ref.get_object()
        if sig_field.get("/FT") == "/Sig":
            found[str(sig_field.get("/T"))] = sig_field
    return found


def _field(writer: IncrementalPdfFileWriter, field_name: str) -> tuple[float, float]:
    """(width, height) of an empty, visible signature field."""
    sig_field = _signature_fields(writer).get(field_name)
    if sig_field is None:
        raise ValueError(f"no signature field {field_name!r} (prepare the document first)")
    if "/V" in sig_field:
        raise ValueError(f"signature field {field_name!r} is already signed")
    width, height = annot_width_height(get_single_field_annot(sig_field))
    if not (width and height):
        raise ValueError(f"signature field {field_name!r} is not visible")
    return float(width), float(height)


async def _sign(
    pdf: bytes,
    meta: PdfSignatureMetadata,
    signer: Signer,
    *,
    timestamper: Any,
    reserve: int,
    stamp_style: Callable[[IncrementalPdfFileWriter], BaseStampStyle] | None = None,
    evidence: Evidence | None = None,
) -> bytes:
    """One signature as one incremental update (with ``evidence`` in the same revision)."""
    for attempt in range(2):
        writer = PdfA2Writer(BytesIO(pdf), keep_metadata=True)
        style = stamp_style(writer) if stamp_style is not None else None
        if evidence is not None:
            evidence.write_dss(writer)
        pdf_signer = _PreparedDocumentSigner(
            meta, signer, timestamper=timestamper, stamp_style=style
        )
        try:
            out = await pdf_signer.async_sign_pdf(
                writer, existing_fields_only=True, bytes_reserved=reserve
            )
        except SigningError as e:
            # more than budgeted (an external TSA's token, a token's own CMS layout):
            # retry once with room
            if attempt == 0 and "larger than expected" in str(e):
                reserve *= 2
                continue
            raise
        return out.getvalue()
    raise AssertionError("unreachable")


# -- 1. prepare -----------------------------------------------------------------------------


def prepare_for_signing(
    pdf: bytes,
    slots: Sequence[SignatureSlot],
    *,
    pki: Pki,
    reason: str = "平台生成合同文本，仅允许签署",
) -> bytes:
    """Add all signature fields, then certify the document (DocMDP: form filling allowed).

    ``slots`` are the renderer's boxes: one per party and one for the seal
    (:data:`~signing.document.SEAL_FIELD_NAME`).
    """
    names = [slot.field_name for slot in slots]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate signature field names: {names}")
    if CERTIFICATION_FIELD_NAME in names:
        raise ValueError(f"{CERTIFICATION_FIELD_NAME} is reserved for the certification")
    if SEAL_FIELD_NAME not in names:
        raise ValueError(f"no slot for the filing seal ({SEAL_FIELD_NAME})")
    reader = PdfFileReader(BytesIO(pdf))
    if reader.embedded_signatures:
        raise ValueError("the document is already signed")
    page_count = int(reader.root["/Pages"]["/Count"])
    writer = PdfA2Writer(BytesIO(pdf))
    for slot in slots:
        if not 1 <= slot.page <= page_count:
            raise ValueError(f"{slot.field_name}: page {slot.page} not in 1..{page_count}")
        box = (slot.x, slot.y, slot.x + slot.width, slot.y + slot.height)
        append_signature_field(
            writer,
            SigFieldSpec(
                sig_field_name=slot.field_name,
                on_page=slot.page - 1,
                box=box,  # type: ignore[arg-type]
            ),
        )
    return _certify(writer, pki=pki, permissions=MDPPerm.FILL_FORMS, reason=reason)


def _certify(
    writer: IncrementalPdfFileWriter,
    *,
    pki: Pki,
    permissions: MDPPerm,
    reason: str,
    evidence: Evidence | None = None,
) -> bytes:
    """Add the (invisible) certification field and certify with the platform key."""
    append_signature_field(
        writer,
        SigFieldSpec(
            sig_field_name=CERTIFICATION_FIELD_NAME,
            on_page=0,
            invis_sig_settings=InvisSigSettings(set_print_flag=True),
        ),
    )
    out = BytesIO()
    writer.write(out)
    signer = pki.platform_signer()
    meta = PdfSignatureMetadata(
        field_name=CERTIFICATION_FIELD_NAME,
        certify=True,
        docmdp_permissions=permissions,
        subfilter=SigSeedSubFilter.PADES,
        md_algorithm=pki.config.digest_algorithm,
        reason=reason,
    )
    timestamper = pki.timestamper()
    return _run(
        _sign(
            out.getvalue(),
            meta,
            signer,
            timestamper=timestamper,
            reserve=_reserve([pki.platform_cert], timestamper, signer=signer),
            evidence=evidence,
        )
    )


# -- 2. parties ------------------------------------------------------------------------------


def sign_party(
    pdf: bytes,
    field_name: str,
    signer: SignerRequest,
    *,
    pki: Pki,
    reason: str = "签署存量房买卖合同",
) -> bytes:
    """Add one party's PAdES B-T signature in its prepared field.

    A fresh P-256 key and a certificate valid for minutes are made for this
    one signature; the key exists only in this call.
    """
    return sign_party_documents([PartyField(pdf, field_name, reason)], signer, pki=pki)[0]


@dataclass(frozen=True)
class PartyField:
    """One document a party signs in a step: the PDF, the party's field, the reason."""

    pdf: bytes = field(repr=False)
    field_name: str
    reason: str


def sign_party_documents(
    documents: Sequence[PartyField], signer: SignerRequest, *, pki: Pki
) -> list[bytes]:
    """The party's PAdES B-T signature in each document, all made with one key.

    One step of one party (one consumed face verification) gets one fresh key
    and one certificate valid for minutes, used for every document of the
    step and never again; the key exists only in this call. All or nothing:
    any failure (a field already signed, no timestamp) raises before anything
    is returned, so the caller stores every signed document or none.
    """
    if not documents:
        raise ValueError("nothing to sign")
    for doc in documents:
        if doc.field_name in (SEAL_FIELD_NAME, CERTIFICATION_FIELD_NAME):
            raise ValueError(f"{doc.field_name!r} is not a party's field")
    if signer.signed_at.tzinfo is None:
        raise ValueError("signed_at must be timezone-aware")
    handwriting = signature_ink(signer.signature_png)
    issued = pki.issue_signer(signer.name, signer.id_number)
    digest = pki.config.digest_algorithm
    cms_signer = KeySigner(issued.key, issued.certificate, [pki.issuing_cert], digest=digest)
    timestamper = pki.timestamper()
    # the certificate's status, taken once while it is valid, goes into every document
    evidence = Evidence.collect(
        pki, [issued.certificate, pki.issuing_cert, *_tsa_certs(timestamper)]
    )
    reserve = _reserve([issued.certificate, pki.issuing_cert], timestamper, signer=cms_signer)
    images: dict[tuple[float, float], EncodedImage] = {}

    def appearance_for(field_name: str) -> Callable[[IncrementalPdfFileWriter], BaseStampStyle]:
        def appearance(writer: IncrementalPdfFileWriter) -> BaseStampStyle:
            size = _field(writer, field_name)
            image = images.get(size)
            if image is None:
                drawn = party_appearance(handwriting, signer.name, signer.signed_at, *size)
                image = images[size] = EncodedImage.from_pil(drawn, level=1)
            return ImageStampStyle(image=image)

        return appearance

    signed = []
    for doc in documents:
        meta = PdfSignatureMetadata(
            field_name=doc.field_name,
            subfilter=SigSeedSubFilter.PADES,
            md_algorithm=digest,
            reason=doc.reason,
        )
        signed.append(
            _run(
                _sign(
                    doc.pdf,
                    meta,
                    cms_signer,
                    timestamper=timestamper,
                    stamp_style=appearance_for(doc.field_name),
                    reserve=reserve,
                    evidence=evidence,
                )
            )
        )
    return signed


def _tsa_certs(timestamper: Any) -> list[x509.Certificate]:
    return [timestamper.tsa_cert] if isinstance(timestamper, LocalTimeStamper) else []


# -- 3. filing ------------------------------------------------------------------------------

_seal_cache: dict[tuple[str, int], EncodedImage] = {}
_seal_lock = threading.Lock()


def _seal_appearance(authority_name: str, side: float) -> EncodedImage:
    """The round seal, ``side`` points across, encoded once per authority and size."""
    key = (authority_name, round(side))
    with _seal_lock:
        cached = _seal_cache.get(key)
        if cached is None:
            seal = seal_image(authority_name, size=round(side * 3))
            cached = _seal_cache[key] = EncodedImage.from_pil(seal, level=9)
    return cached


def document_certificates(reader: PdfFileReader) -> list[x509.Certificate]:
    """Every certificate in every signature and signature timestamp of the document."""
    seen: dict[bytes, x509.Certificate] = {}

    def collect(signed_data: cms.SignedData) -> None:
        for choice in signed_data["certificates"] or ():
            if choice.name == "certificate":
                cert = choice.chosen
                seen.setdefault(cert.dump(), cert)

    for sig in reader.embedded_signatures:
        collect(sig.signed_data)
        for attr in sig.signer_info["unsigned_attrs"] or ():
            if attr["type"].native == "signature_time_stamp_token":
                for token in attr["values"]:
                    collect(token["content"])
    return list(seen.values())


def archive_timestamp_expiry(pdf: bytes) -> datetime | None:
    """When the TSA certificate of the newest document timestamp expires (None: there is none).

    Until then the archive timestamp can be validated, and with it every
    signature under it; before then it must be renewed. Reads only that one
    timestamp (fields are named ``archive-timestamp-N``), not every signature.
    """
    fields = _signature_fields(PdfFileReader(BytesIO(pdf)))
    numbered = [
        (int(name[len(ARCHIVE_TIMESTAMP_PREFIX) :]), sig_field)
        for name, sig_field in fields.items()
        if name.startswith(ARCHIVE_TIMESTAMP_PREFIX)
        and name[len(ARCHIVE_TIMESTAMP_PREFIX) :].isdigit()
        and "/V" in sig_field
    ]
    if not numbered:
        return None
    _, newest = max(numbered, key=lambda item: item[0])
    token = cms.ContentInfo.load(newest["/V"]["/Contents"].original_bytes)
    signed_data = token["content"]
    sid = signed_data["signer_infos"][0]["sid"]
    for choice in signed_data["certificates"] or ():
        cert = choice.chosen
        if choice.name == "certificate" and (
            sid.name == "issuer_and_serial_number"
            and cert.issuer_serial == _issuer_serial(sid.chosen)
            or sid.name == "subject_key_identifier"
            and cert.key_identifier == sid.chosen.native
        ):
            return cert.not_valid_after
    raise ValueError("the newest archive timestamp does not carry its TSA certificate")


def _issuer_serial(sid: cms.IssuerAndSerialNumber) -> bytes:
    # the same form as asn1crypto's Certificate.issuer_serial
    return sid["issuer"].sha256 + b":" + str(sid["serial_number"].native).encode("ascii")


def renew_archive_timestamp(pdf: bytes, *, pki: Pki) -> bytes:
    """A fresh document timestamp over a filed PDF, with validation data for the previous one.

    The previous timestamps' TSA certificates (and every other certificate in
    the document still valid) get current status data in the same revision,
    so the new timestamp proves that data existed while they were valid.
    """
    reader = PdfFileReader(BytesIO(pdf))
    if not any(s.sig_object_type == "/DocTimeStamp" for s in reader.embedded_signatures):
        raise ValueError("the document has no archive timestamp to renew (file it first)")
    return add_archive_timestamp(pdf, pki=pki, extra_certs=document_certificates(reader))


def add_archive_timestamp(
    pdf: bytes, *, pki: Pki, extra_certs: Iterable[x509.Certificate] = ()
) -> bytes:
    """Validation material for everything signed so far, then a document timestamp.

    Turns the signatures into B-LT and covers them with an archive timestamp
    (B-LTA). Before the TSA certificate expires, :func:`renew_archive_timestamp`
    extends the archive's life: each round adds fresh status data and a new
    timestamp over the previous ones.

    Only the platform's long-lived certificates need status data here: every
    party signature already carries its own, taken while its certificate was
    valid. So the signatures are not even parsed (pyHanko reads a signature's
    hex ``/Contents`` a character at a time).
    """
    timestamper = pki.timestamper()
    evidence = Evidence.collect(
        pki, [*pki.long_lived_certs(), *_tsa_certs(timestamper), *extra_certs]
    )
    reader = PdfFileReader(BytesIO(pdf))
    existing = sum(
        1 for name in _signature_fields(reader) if name.startswith(ARCHIVE_TIMESTAMP_PREFIX)
    )
    writer = PdfA2Writer(BytesIO(pdf), keep_metadata=True)
    evidence.write_dss(writer)
    doc_timestamper = PdfTimeStamper(
        timestamper, field_name=f"{ARCHIVE_TIMESTAMP_PREFIX}{existing + 1}"
    )
    reserve = _reserve([], timestamper, document_timestamp=True)
    out = _run(
        doc_timestamper.async_timestamp_pdf(
            writer, pki.config.digest_algorithm, bytes_reserved=reserve
        )
    )
    return out.getvalue()


def file_document(
    pdf: bytes,
    authority_name: str,
    filing_no: str,
    *,
    pki: Pki,
    filed_on: date | None = None,
) -> bytes:
    """Seal the fully signed contract as filed, then make it long-term verifiable (B-LTA).

    The seal's appearance prints the filing number and ``filed_on`` (default:
    today in China) under the seal, as text (:mod:`signing.filing_stamp`).
    """
    filed_on = filed_on or pki.clock().astimezone(CHINA_TZ).date()
    unsigned = [
        name
        for name, sig_field in _signature_fields(PdfFileReader(BytesIO(pdf))).items()
        if "/V" not in sig_field and name != SEAL_FIELD_NAME
    ]
    if unsigned:
        raise ValueError(f"not every party has signed: {unsigned}")
    ses = pki.suite.is_sm2  # a GB/T 38540 seal: signing.electronic_seal
    meta = PdfSignatureMetadata(
        field_name=SEAL_FIELD_NAME,
        subfilter=electronic_seal.ses_subfilter() if ses else SigSeedSubFilter.PADES,
        md_algorithm=pki.config.digest_algorithm,
        reason=f"网签备案 备案编号 {filing_no}",
        location=authority_name,
    )

    def appearance(writer: IncrementalPdfFileWriter) -> BaseStampStyle:
        width, height = _field(writer, SEAL_FIELD_NAME)
        side = min(width, height * (1 - TEXT_BAND))
        return FilingStampStyle(
            seal=_seal_appearance(authority_name, side), filing_no=filing_no, filed_on=filed_on
        )

    timestamper = pki.timestamper()
    signer = seal_signer(pki)  # the seal's format is signing.seal's to decide
    sealed = _run(
        _sign(
            pdf,
            meta,
            signer,
            timestamper=timestamper,
            stamp_style=appearance,
            reserve=electronic_seal.ses_reserve(pki, timestamper) if ses
            else _reserve([pki.seal_cert, pki.issuing_cert], timestamper, signer=signer),
        )
    )
    return add_archive_timestamp(sealed, pki=pki)


# -- the evidence report ------------------------------------------------------------------------


def seal_report(pdf: bytes, *, pki: Pki, reason: str = "平台出具证据报告") -> bytes:
    """Certify a report the platform issues (no changes allowed), then make it B-LTA.

    The platform's certification signature (B-T, with the OCSP responses for
    its chain in the same revision), then validation data and a document
    timestamp over everything (:func:`add_archive_timestamp`): the report can
    be checked years later without this service, like a filed contract.
    """
    certified = _certify(
        IncrementalPdfFileWriter(BytesIO(pdf)),
        pki=pki,
        permissions=MDPPerm.NO_CHANGES,
        reason=reason,
        evidence=Evidence.collect(pki, [pki.platform_cert, *_tsa_certs(pki.timestamper())]),
    )
    return add_archive_timestamp(certified, pki=pki)
