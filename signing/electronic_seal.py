"""The filing authority's GB/T 38540 electronic seal in our PDFs (``SIGNING_SUITE=sm2``).

Under the SM2 suite the seal field's ``/Contents`` is not a CMS SignedData but an
``SES_Signature`` (:mod:`signing.gm.ses`): the seal key (网签备案专用章) signs the
document's SM3 byte-range hash, with the authority's ``SES_Seal`` inside and an RFC 3161
timestamp over the signature value.

**Who makes the seal.** GB/T 38540 has the seal made (制章) by the body that manages
electronic seals, signing with its own unit certificate; here that is the platform the
authority runs: its platform key and certificate (the key that certifies every
contract). The seal lists one holder certificate, the seal certificate, and is valid
as long as that certificate. It is made once per seal certificate and kept beside the
PKI's keys (:func:`authority_seal`), so every filing carries the same seal, as a paper
seal is the same on every contract.

**The signature dictionary.** ``/Filter /Adobe.PPKLite`` (what pyHanko writes) and
``/SubFilter /GB.T38540.SES``. ISO 32000-1 §12.8.3.1 lets developers define SubFilter
values; no value for GB/T 38540 seals was found registered or documented. Some Chinese
implementations keep ``/adbe.pkcs7.detached`` on a GB/T 38540 blob and let the reader
recognise it by its structure, but then every CMS-only reader fails on the whole
document: pyHanko parses each such ``/Contents`` as CMS when it lists the signatures,
so the parties' signatures, the certification and the archive timestamps could no
longer be validated offline either. A SubFilter of its own is skipped by those readers
(pyHanko ignores it with a warning) while everything else validates; this module finds
the seal itself (:func:`embedded_seals`). The value is this one constant, for a
reader that expects another.

The PDF half of validation (which bytes the seal covers, what changed after it) is
still pyHanko's, through :class:`_SesEmbedded`, a view of the field that pyHanko's
integrity checks accept without its CMS parsing.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PIL import Image
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature, extract_contents

from signing.document import SEAL_FIELD_NAME
from signing.gm import ses
from signing.gm.sm2 import Sm2PrivateKey, sm3
from signing.timestamps import LocalTimeStamper

if TYPE_CHECKING:  # pragma: no cover
    from signing.pki import Pki

__all__ = ["SES_SUBFILTER", "EmbeddedSeal", "authority_seal", "embedded_seals",
           "seal_signature", "ses_reserve", "ses_subfilter"]

SES_SUBFILTER = "/GB.T38540.SES"
SEAL_NAME = "网签备案专用章"
#: the seal picture: GA 241's 42 mm official seal, drawn at ~190 dpi
PICTURE_MM = 42
PICTURE_PX = 320
PROPERTY_INFO = f"application/pdf; signature field {SEAL_FIELD_NAME}; its /ByteRange"

_lock = threading.Lock()
_seals: dict[str, bytes] = {}


class _SesSubFilter:
    """What pyHanko's signer reads of a SubFilter (``.value``), for a value its
    ``SigSeedSubFilter`` enum does not have; it is not PAdES to pyHanko, so pyHanko adds
    no PAdES steps and leaves the container to the signer."""

    value = pdf_name(SES_SUBFILTER)


def ses_subfilter() -> Any:
    """The ``subfilter`` of the seal's ``PdfSignatureMetadata`` under the SM2 suite."""
    return _SesSubFilter()


def _key(pki: Pki, role: str) -> Sm2PrivateKey:
    key = getattr(pki.key(role), "private_key", None)
    if not isinstance(key, Sm2PrivateKey):
        raise TypeError(f"the {role} key is not an SM2 soft key (GB/T 38540 needs SM2)")
    return key


def _authority(pki: Pki) -> str:
    return str(pki.seal_cert.subject.native.get("organization_name") or "")


def _picture(authority: str) -> bytes:
    from signing.seal import seal_image  # signing.seal calls into this module

    # red on transparent: 32 palette entries keep the anti-aliasing and make the PNG a
    # fifth of the RGBA one (about 11 kB, twice that as /Contents hex)
    image = seal_image(authority, size=PICTURE_PX).quantize(
        colors=32, method=Image.Quantize.FASTOCTREE)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def authority_seal(pki: Pki) -> bytes:
    """The SES_Seal (DER) of ``pki``'s seal certificate, made by the platform key.

    Made once and kept in the PKI directory (``ses-seal-<id>.der``, the id a hash of the
    seal and platform certificates): a re-issued seal certificate (a new authority
    name) gets a new seal. Processes racing to make it agree on the first one written.
    """
    seal_der, maker_der = pki.seal_cert.dump(), pki.platform_cert.dump()
    ident = hashlib.sha256(seal_der + maker_der).hexdigest()[:16]
    with _lock:
        cached = _seals.get(ident)
        if cached is not None:
            return cached
        path = pki.data_dir / f"ses-seal-{ident}.der"
        if not path.exists():
            made = ses.make_seal(
                maker_key=_key(pki, "platform"), maker_cert=maker_der,
                holder_certs=[seal_der], name=SEAL_NAME,
                es_id=f"{pki.seal_cert.serial_number:X}", picture=_picture(_authority(pki)),
                picture_size_mm=(PICTURE_MM, PICTURE_MM),
                valid_start=pki.seal_cert.not_valid_before,
                valid_end=pki.seal_cert.not_valid_after, created=pki.clock())
            tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            tmp.write_bytes(made)
            try:
                os.link(tmp, path)  # the first one written wins; never replaced
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        seal = path.read_bytes()
        ses.parse_seal(seal)  # a damaged file stops the filing here, not in a reader
        _seals[ident] = seal
        return seal


async def seal_signature(document_digest: bytes, *, pki: Pki) -> bytes:
    """The seal field's ``/Contents``: an SES_Signature over ``document_digest`` (the SM3
    of the byte ranges) by the seal key, timestamped by ``pki``'s TSA."""
    der = ses.sign_digest(authority_seal(pki), document_digest, _key(pki, "seal"),
                          pki.seal_cert.dump(), property_info=PROPERTY_INFO,
                          signed_at=pki.clock())
    imprint = sm3(ses.signature_value(der))
    timestamper = pki.timestamper()
    token_der = getattr(timestamper, "token_der", None)
    if token_der is not None:
        token = token_der(imprint, "sm3")
    else:
        token = (await timestamper.async_timestamp(imprint, "sm3")).dump()
    return ses.add_timestamp(der, token)


def ses_reserve(pki: Pki, timestamper: Any) -> int:
    """Hex characters to reserve for the seal's SES_Signature: the seal (picture and
    two certificates), the seal certificate again, ~300 bytes of structure, the token."""
    size = len(authority_seal(pki)) + len(pki.seal_cert.dump()) + 300
    if isinstance(timestamper, LocalTimeStamper):
        size += len(timestamper.tsa_cert.dump()) + 800
    else:
        size += 8192
    return 2 * size


# -- reading it back ---------------------------------------------------------------------------


class _SesEmbedded(EmbeddedPdfSignature):
    """pyHanko's view of one signature field, set up as ``EmbeddedPdfSignature.__init__``
    does but without loading ``/Contents`` as CMS (it is not), so that pyHanko's own
    coverage and modification checks (``compute_integrity_info``) run on the seal."""

    def __init__(self, reader: PdfFileReader, sig_field: Any, fq_name: str):  # noqa: D107
        self.reader = reader
        self.sig_field = sig_field
        sig_ref = sig_field.raw_get("/V")
        self.sig_object = sig_ref.get_object()
        self.byte_range = self.sig_object.raw_get("/ByteRange")
        self.pkcs7_content = extract_contents(self.sig_object)
        self.md_algorithm = self.external_md_algorithm = "sm3"
        self.signed_revision = reader.xrefs.get_last_change(sig_ref.reference)
        self.coverage = None
        self.external_digests = {}
        self._docmdp = self._fieldmdp = None
        self._docmdp_queried = self._fieldmdp_queried = False
        self.tst_signature_digest = None
        self.diff_result = None
        self._integrity_checked = False
        self._sd_cert_info = None
        self.fq_name = fq_name


@dataclass
class EmbeddedSeal:
    """A GB/T 38540 seal found in a PDF: its field, the SES_Signature and what it signs."""

    field_name: str
    contents: bytes  # the SES_Signature, padding stripped
    signed_bytes: bytes  # the concatenated /ByteRange
    pdf_view: _SesEmbedded

    @property
    def signed_revision(self) -> int:
        return self.pdf_view.signed_revision


def embedded_seals(reader: PdfFileReader, pdf: bytes) -> list[EmbeddedSeal]:
    """Every signature field of ``reader`` whose value has our GB/T 38540 SubFilter."""
    from pyhanko.sign.fields import enumerate_sig_fields

    out = []
    for name, sig_obj, sig_field in enumerate_sig_fields(reader, filled_status=True):
        if sig_obj.get_object().get("/SubFilter") != SES_SUBFILTER:
            continue
        view = _SesEmbedded(reader, sig_field.get_object(), name)
        ranges = [int(x) for x in view.byte_range]
        signed = b"".join(pdf[ranges[i]:ranges[i] + ranges[i + 1]]
                          for i in range(0, len(ranges), 2))
        try:
            contents = ses.strip_padding(view.pkcs7_content)
        except ses.SesError:
            contents = view.pkcs7_content  # reported as malformed by whoever reads it
        out.append(EmbeddedSeal(name, contents, signed, view))
    return sorted(out, key=lambda s: s.signed_revision)
