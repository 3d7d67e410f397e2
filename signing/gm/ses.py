"""GB/T 38540-2020 electronic seals (电子印章) and electronic signatures with them (电子签章).

The standard's version-4 structures, as asn1crypto types named exactly as in the
standard (``SES_ESPictrueInfo`` keeps its spelling), with the standard's field names:

    SES_Seal      ::= SEQUENCE { eSealInfo SES_SealInfo, cert OCTET STRING,
                                 signAlgID OBJECT IDENTIFIER, signedValue BIT STRING }
    SES_SealInfo  ::= SEQUENCE { header SES_Header, esID IA5String,
                                 property SES_ESPropertyInfo, picture SES_ESPictrueInfo,
                                 extDatas ExtensionDatas OPTIONAL }
    SES_Header    ::= SEQUENCE { ID IA5String ("ES"), version INTEGER (4), Vid IA5String }
    SES_ESPropertyInfo ::= SEQUENCE { type INTEGER, name UTF8String, certListType INTEGER,
                                 certList SES_CertList, createDate GeneralizedTime,
                                 validStart GeneralizedTime, validEnd GeneralizedTime }
    SES_CertList  ::= CHOICE { certs CertInfoList,              -- certListType 1
                               certDigestList CertDigestList }  -- certListType 2
    SES_ESPictrueInfo ::= SEQUENCE { type IA5String, data OCTET STRING,
                                 width INTEGER, height INTEGER }      -- millimetres
    TBS_Sign      ::= SEQUENCE { version INTEGER (4), eseal SES_Seal,
                                 timeInfo GeneralizedTime, dataHash BIT STRING,
                                 propertyInfo IA5String, extDatas [0] EXPLICIT
                                 ExtensionDatas OPTIONAL }
    SES_Signature ::= SEQUENCE { toSign TBS_Sign, cert OCTET STRING,
                                 signatureAlgID OBJECT IDENTIFIER, signature BIT STRING,
                                 timeStamp [0] EXPLICIT BIT STRING OPTIONAL }

GM/T 0031-2014's older layout (a ``SES_SignInfo`` wrapping the maker's certificate,
algorithm and signature, UTCTime validity) is not produced. The two alternatives of
``SES_CertList`` are both untagged SEQUENCE OF, so which one a seal holds is read from
``certListType``, as the standard intends.

What is signed, byte for byte (the structures were compared field by field with ofdrw's
``org.ofdrw.gm.ses.v4`` and the OpenSSL-based ``gm_0031_38540_verifier``, which agree):

- the maker (制章者, the housing authority's seal-making key) signs the DER of
  ``eSealInfo`` with SM2-with-SM3, the GM/T 0009 default signer ID; ``signedValue`` is
  the DER ``SEQUENCE { r, s }`` as a BIT STRING;
- the signer (签章者) signs the DER of ``toSign`` (TBS_Sign) the same way;
  ``dataHash`` is the SM3 of the signed content (for a PDF: the signature's byte range);
- ``timeStamp``, when present, is a DER RFC 3161 TimeStampToken over the signature
  value (its imprint is the hash of ``signature``'s bytes), as ofdrw's ``SESV4Container``
  makes it; being outside ``toSign``, it is added after signing (:func:`add_timestamp`).

Trust is the caller's: :func:`verify_signature` checks the two SM2 signatures, the data
hash, the seal's and the certificates' validity at the signing time, that the signer is
one of the seal's holders and that the timestamp covers the signature value; the
certificates' paths and revocation, and the timestamp token's own signature, are checked
where the trust roots are (:mod:`signing.validation` with :mod:`signing.gm.verify`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from asn1crypto import cms, core, tsp, x509

from signing.gm.oids import SM2_WITH_SM3, SM3
from signing.gm.sm2 import Sm2Error, Sm2PrivateKey, Sm2PublicKey, sm3

__all__ = [
    "SES_ESPictrueInfo", "SES_ESPropertyInfo", "SES_Header", "SES_Seal", "SES_SealInfo",
    "SES_Signature", "SealedDocument", "SesError", "SesVerification", "TBS_Sign",
    "add_timestamp", "make_seal", "parse_seal", "parse_signature", "sign_digest",
    "sign_document", "signature_value", "strip_padding", "verify_signature",
]

SES_VERSION = 4
#: SES_Header.Vid: the implementation, as the standard asks for interoperation
VENDOR_ID = "WQBA-HS"
#: SES_ESPropertyInfo.type: 1 = an organisation's seal (单位印章), 2 = a person's
SEAL_TYPE_ORGANISATION = 1
CERT_LIST_CERTS, CERT_LIST_DIGESTS = 1, 2


class SesError(ValueError):
    """Not a well-formed GB/T 38540 structure, or a request the standard does not allow."""


# -- the structures --------------------------------------------------------------------------

class SES_Header(core.Sequence):  # noqa: N801 - the standard's names
    _fields = [("ID", core.IA5String), ("version", core.Integer), ("Vid", core.IA5String)]


class CertInfoList(core.SequenceOf):
    _child_spec = core.OctetString  # each a DER certificate


class CertDigestObj(core.Sequence):
    _fields = [("type", core.PrintableString), ("value", core.OctetString)]


class CertDigestList(core.SequenceOf):
    _child_spec = CertDigestObj


def _cert_list_spec(kind: int) -> type[core.Asn1Value]:
    """SES_CertList's alternatives share one tag: certListType says which it is."""
    if kind == CERT_LIST_CERTS:
        return CertInfoList
    if kind == CERT_LIST_DIGESTS:
        return CertDigestList
    raise SesError(f"certListType {kind} is neither 1 (certificates) nor 2 (digests)")


class SES_ESPropertyInfo(core.Sequence):  # noqa: N801
    _fields = [
        ("type", core.Integer),
        ("name", core.UTF8String),
        ("certListType", core.Integer),
        ("certList", core.Any),
        ("createDate", core.GeneralizedTime),
        ("validStart", core.GeneralizedTime),
        ("validEnd", core.GeneralizedTime),
    ]
    _spec_callbacks = {"certList": lambda self: _cert_list_spec(self["certListType"].native)}


class SES_ESPictrueInfo(core.Sequence):  # noqa: N801 - sic, the standard's spelling
    _fields = [("type", core.IA5String), ("data", core.OctetString),
               ("width", core.Integer), ("height", core.Integer)]


class ExtData(core.Sequence):
    _fields = [("extnID", core.ObjectIdentifier),
               ("critical", core.Boolean, {"default": False}),
               ("extnValue", core.OctetString)]


class ExtensionDatas(core.SequenceOf):
    _child_spec = ExtData


class SES_SealInfo(core.Sequence):  # noqa: N801
    _fields = [
        ("header", SES_Header),
        ("esID", core.IA5String),
        ("property", SES_ESPropertyInfo),
        ("picture", SES_ESPictrueInfo),
        ("extDatas", ExtensionDatas, {"optional": True}),
    ]


class SES_Seal(core.Sequence):  # noqa: N801
    _fields = [
        ("eSealInfo", SES_SealInfo),
        ("cert", core.OctetString),  # the maker's certificate, DER
        ("signAlgID", core.ObjectIdentifier),
        ("signedValue", core.OctetBitString),
    ]


class TBS_Sign(core.Sequence):  # noqa: N801
    _fields = [
        ("version", core.Integer),
        ("eseal", SES_Seal),
        ("timeInfo", core.GeneralizedTime),
        ("dataHash", core.OctetBitString),
        ("propertyInfo", core.IA5String),
        ("extDatas", ExtensionDatas, {"explicit": 0, "optional": True}),
    ]


class SES_Signature(core.Sequence):  # noqa: N801
    _fields = [
        ("toSign", TBS_Sign),
        ("cert", core.OctetString),  # the signer's certificate, DER
        ("signatureAlgID", core.ObjectIdentifier),
        ("signature", core.OctetBitString),
        ("timeStamp", core.OctetBitString, {"explicit": 0, "optional": True}),
    ]


# -- loading strictly ------------------------------------------------------------------------

def _load(spec: type[core.Sequence], der: bytes, what: str) -> core.Sequence:
    """Parse all of ``der`` now (asn1crypto is lazy) and refuse trailing bytes."""
    try:
        value = spec.load(der, strict=True)
        _ = value.native
    except SesError:
        raise
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        raise SesError(f"not a DER {what}: {exc}") from None
    return value


def _time(value: datetime) -> core.GeneralizedTime:
    if value.tzinfo is None:
        raise SesError("times must be timezone-aware")
    return core.GeneralizedTime(value.astimezone(UTC).replace(microsecond=0))


def _cert(der: bytes, what: str) -> x509.Certificate:
    try:
        cert = x509.Certificate.load(der, strict=True)
        _ = cert.native
    except (ValueError, TypeError, KeyError) as exc:
        raise SesError(f"{what}: not a DER certificate ({exc})") from None
    return cert


def _same_key(key: Sm2PrivateKey, cert: x509.Certificate, what: str) -> None:
    if key.public_key().to_der() != cert.public_key.dump():
        raise SesError(f"{what}: the key is not the certificate's")


def _sm2_public(cert: x509.Certificate) -> Sm2PublicKey:
    return Sm2PublicKey.from_der(cert.public_key.dump())


# -- the seal --------------------------------------------------------------------------------

def make_seal(*, maker_key: Sm2PrivateKey, maker_cert: bytes, holder_certs: Sequence[bytes],
              name: str, es_id: str, picture: bytes, valid_start: datetime,
              valid_end: datetime, picture_type: str = "PNG",
              picture_size_mm: tuple[int, int] = (42, 42), created: datetime | None = None,
              seal_type: int = SEAL_TYPE_ORGANISATION, vid: str = VENDOR_ID) -> bytes:
    """An SES_Seal (DER): the picture, the holders' certificates and the validity, signed
    by the maker with SM2. ``holder_certs`` are the certificates allowed to sign with it."""
    if not holder_certs:
        raise SesError("a seal needs at least one holder certificate")
    if valid_end <= valid_start:
        raise SesError("validEnd must be after validStart")
    if not picture or min(picture_size_mm) <= 0:
        raise SesError("a seal needs a picture with a positive size")
    for der in holder_certs:
        _cert(der, "holder certificate")
    _same_key(maker_key, _cert(maker_cert, "maker certificate"), "maker")
    info = SES_SealInfo({
        "header": {"ID": "ES", "version": SES_VERSION, "Vid": vid},
        "esID": es_id,
        "property": {
            "type": seal_type,
            "name": name,
            "certListType": CERT_LIST_CERTS,
            "certList": CertInfoList(list(holder_certs)),
            "createDate": _time(created or datetime.now(UTC)),
            "validStart": _time(valid_start),
            "validEnd": _time(valid_end),
        },
        "picture": {"type": picture_type, "data": picture, "width": picture_size_mm[0],
                    "height": picture_size_mm[1]},
    })
    return SES_Seal({
        "eSealInfo": info,
        "cert": maker_cert,
        "signAlgID": SM2_WITH_SM3,
        "signedValue": maker_key.sign(info.dump()),
    }).dump()


def parse_seal(der: bytes) -> SES_Seal:
    seal = _load(SES_Seal, der, "SES_Seal")
    header = seal["eSealInfo"]["header"]
    if header["ID"].native != "ES" or header["version"].native != SES_VERSION:
        raise SesError("not a GB/T 38540 (version 4) seal")
    return seal  # type: ignore[return-value]


def _holds(seal: SES_Seal, cert_der: bytes) -> bool:
    prop = seal["eSealInfo"]["property"]
    listed = prop["certList"]
    if prop["certListType"].native == CERT_LIST_CERTS:
        return any(c.native == cert_der for c in listed)
    for obj in listed:
        kind = obj["type"].native.lower()
        digest = sm3(cert_der) if kind == "sm3" else (
            hashlib.new(kind, cert_der).digest() if kind in hashlib.algorithms_available
            else None)
        if digest is not None and digest == obj["value"].native:
            return True
    return False


# -- the signature over a document ----------------------------------------------------------

def sign_digest(seal: bytes, data_hash: bytes, signer_key: Sm2PrivateKey,
                signer_cert_der: bytes, *, property_info: str = "application/pdf; ByteRange",
                signed_at: datetime | None = None) -> bytes:
    """An SES_Signature (DER, no timeStamp yet) whose dataHash is ``data_hash``, the SM3
    of the signed content, computed by the caller (pyHanko hashes a PDF's byte range)."""
    if len(data_hash) != 32:
        raise SesError("dataHash is an SM3 digest (32 bytes)")
    parsed = parse_seal(seal)
    if not _holds(parsed, signer_cert_der):
        raise SesError("the signer's certificate is not one of the seal's holders")
    _same_key(signer_key, _cert(signer_cert_der, "signer certificate"), "signer")
    when = (signed_at or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    prop = parsed["eSealInfo"]["property"]
    if not prop["validStart"].native <= when <= prop["validEnd"].native:
        raise SesError("the seal is not valid at the signing time")
    tbs = TBS_Sign({
        "version": SES_VERSION,
        "eseal": parsed,
        "timeInfo": _time(when),
        "dataHash": data_hash,
        "propertyInfo": property_info,
    })
    return SES_Signature({"toSign": tbs, "cert": signer_cert_der,
                          "signatureAlgID": SM2_WITH_SM3,
                          "signature": signer_key.sign(tbs.dump())}).dump()


def add_timestamp(signature: bytes, token: bytes) -> bytes:
    """``signature`` with ``token`` (a DER TimeStampToken over its signature value) as its
    timeStamp. The field is outside what the signer signed, as in CMS."""
    parsed = _load(SES_Signature, signature, "SES_Signature")
    parsed["timeStamp"] = token
    return parsed.dump(force=False)


def signature_value(signature: bytes) -> bytes:
    """The signer's SM2 signature in an SES_Signature: what a timestamp is taken over."""
    return _load(SES_Signature, signature, "SES_Signature")["signature"].native


def sign_document(seal: bytes, document_digest_input: bytes, signer_key: Sm2PrivateKey,
                  signer_cert_der: bytes, *, timestamp: Callable[[bytes], bytes] | None = None,
                  property_info: str = "application/pdf; ByteRange",
                  signed_at: datetime | None = None) -> bytes:
    """An SES_Signature (DER) over ``document_digest_input`` (for a PDF: the concatenated
    byte range), with the seal inside. ``timestamp`` receives the signature value and
    returns a DER TimeStampToken over it (or is None: no timeStamp field)."""
    out = sign_digest(seal, sm3(document_digest_input), signer_key, signer_cert_der,
                      property_info=property_info, signed_at=signed_at)
    if timestamp is not None:
        out = add_timestamp(out, timestamp(signature_value(out)))
    return out


def strip_padding(contents: bytes) -> bytes:
    """The DER structure at the start of a PDF signature's /Contents, without the zero
    bytes a signer reserves after it; refuses anything else after it."""
    if len(contents) < 2 or contents[0] != 0x30:
        raise SesError("/Contents does not start with a DER SEQUENCE")
    first = contents[1]
    if first < 0x80:
        header, length = 2, first
    else:
        n = first & 0x7F
        if n == 0 or n > 4 or len(contents) < 2 + n:
            raise SesError("/Contents: unsupported DER length")
        header, length = 2 + n, int.from_bytes(contents[2:2 + n], "big")
    end = header + length
    if end > len(contents) or contents[end:].strip(b"\x00"):
        raise SesError("/Contents: truncated, or other data after the structure")
    return contents[:end]


@dataclass(frozen=True)
class SealedDocument:
    """The parts of an SES_Signature a report shows, and the DER that was signed."""

    signature: SES_Signature
    seal_name: str
    es_id: str
    vendor: str
    seal_type: int
    picture_type: str
    picture: bytes
    picture_size_mm: tuple[int, int]
    created: datetime
    valid_start: datetime
    valid_end: datetime
    maker_cert: x509.Certificate
    holder_certs: tuple[bytes, ...]
    signer_cert: x509.Certificate
    signed_at: datetime
    data_hash: bytes
    property_info: str
    timestamp_token: bytes | None

    @property
    def seal_info_der(self) -> bytes:
        """What the maker signed: the DER of eSealInfo."""
        return self.signature["toSign"]["eseal"]["eSealInfo"].dump()

    @property
    def tbs_der(self) -> bytes:
        """What the signer signed: the DER of toSign (TBS_Sign)."""
        return self.signature["toSign"].dump()


def parse_signature(der: bytes) -> SealedDocument:
    """Decode an SES_Signature completely, or raise :class:`SesError`."""
    sig = _load(SES_Signature, der, "SES_Signature")
    tbs = sig["toSign"]
    seal = parse_seal(tbs["eseal"].dump())
    if tbs["version"].native != SES_VERSION:
        raise SesError("TBS_Sign.version must match the seal's version 4")
    info = seal["eSealInfo"]
    prop, pic = info["property"], info["picture"]
    ts = sig["timeStamp"]
    return SealedDocument(
        signature=sig,  # type: ignore[arg-type]
        seal_name=prop["name"].native, es_id=info["esID"].native,
        vendor=info["header"]["Vid"].native, seal_type=prop["type"].native,
        picture_type=pic["type"].native, picture=pic["data"].native,
        picture_size_mm=(pic["width"].native, pic["height"].native),
        created=prop["createDate"].native, valid_start=prop["validStart"].native,
        valid_end=prop["validEnd"].native,
        maker_cert=_cert(seal["cert"].native, "maker certificate"),
        holder_certs=tuple(c.native for c in prop["certList"])
        if prop["certListType"].native == CERT_LIST_CERTS else (),
        signer_cert=_cert(sig["cert"].native, "signer certificate"),
        signed_at=tbs["timeInfo"].native, data_hash=tbs["dataHash"].native,
        property_info=tbs["propertyInfo"].native,
        timestamp_token=None if isinstance(ts, core.Void) else ts.native,
    )


# -- verification ----------------------------------------------------------------------------

@dataclass(frozen=True)
class TimestampCheck:
    """Whether the timeStamp covers this signature value. The token's own signature and
    its TSA's certificate are, like the other certificates, for the caller to judge
    (:meth:`signing.gm.verify.Material.check_token` does both)."""

    token: cms.ContentInfo | None
    gen_time: datetime | None
    imprint_ok: bool


@dataclass(frozen=True)
class SesVerification:
    """Each check of GB/T 38540 §7.3 on its own line, and what was checked."""

    document: SealedDocument | None
    signature_ok: bool = False  # the signer's SM2 signature over TBS_Sign
    signer_is_holder: bool = False  # the signer's certificate is listed in the seal
    seal_signature_ok: bool = False  # the maker's SM2 signature over eSealInfo
    seal_valid_at_signing: bool = False  # validStart <= timeInfo <= validEnd
    certificates_valid_at_signing: bool = False  # signer's and maker's, at timeInfo
    data_hash_ok: bool = False  # SM3 of the signed bytes == dataHash
    timestamp: TimestampCheck | None = None
    problems: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        ts_ok = self.timestamp is None or self.timestamp.imprint_ok
        return (self.signature_ok and self.signer_is_holder and self.seal_signature_ok
                and self.seal_valid_at_signing and self.certificates_valid_at_signing
                and self.data_hash_ok and ts_ok)


def _verify_sm2(alg: str, cert: x509.Certificate, signature: bytes, data: bytes) -> bool:
    if alg != SM2_WITH_SM3:
        return False
    try:
        return _sm2_public(cert).verify(signature, data)
    except Sm2Error:
        return False


def _valid_at(cert: x509.Certificate, when: datetime) -> bool:
    validity = cert["tbs_certificate"]["validity"]
    return validity["not_before"].native <= when <= validity["not_after"].native


def verify_signature(der: bytes, signed_bytes: bytes) -> SesVerification:
    """Check an SES_Signature against the bytes it claims to cover."""
    try:
        doc = parse_signature(der)
    except SesError as exc:
        return SesVerification(None, problems=(str(exc),))
    sig = doc.signature
    seal = sig["toSign"]["eseal"]
    problems: list[str] = []

    signature_ok = _verify_sm2(sig["signatureAlgID"].dotted, doc.signer_cert,
                               sig["signature"].native, doc.tbs_der)
    if not signature_ok:
        problems.append("the signer's signature over TBS_Sign does not verify")
    holder = _holds(seal, sig["cert"].native)
    if not holder:
        problems.append("the signer's certificate is not one of the seal's holders")
    seal_ok = _verify_sm2(seal["signAlgID"].dotted, doc.maker_cert,
                          seal["signedValue"].native, doc.seal_info_der)
    if not seal_ok:
        problems.append("the seal maker's signature over eSealInfo does not verify")
    in_validity = doc.valid_start <= doc.signed_at <= doc.valid_end
    if not in_validity:
        problems.append("the seal was not valid at the signing time")
    certs_ok = _valid_at(doc.signer_cert, doc.signed_at) and _valid_at(doc.maker_cert,
                                                                       doc.signed_at)
    if not certs_ok:
        problems.append("a certificate was not valid at the signing time")
    hash_ok = sm3(signed_bytes) == doc.data_hash
    if not hash_ok:
        problems.append("the document's SM3 hash is not the signed dataHash")
    ts = None
    if doc.timestamp_token is not None:
        ts = _check_timestamp(doc.timestamp_token, sig["signature"].native)
        if not ts.imprint_ok:
            problems.append("the timestamp does not cover this signature value")
    return SesVerification(doc, signature_ok, holder, seal_ok, in_validity, certs_ok, hash_ok,
                           ts, tuple(problems))


_HASHES = {"sha256": "sha256", "sha384": "sha384", "sha512": "sha512", "sm3": "sm3"}


def _digest(name: str, data: bytes) -> bytes | None:
    if name == "sm3":
        return sm3(data)
    return hashlib.new(name, data).digest() if name in _HASHES else None


def _check_timestamp(token_der: bytes, signature: bytes) -> TimestampCheck:
    """Is the RFC 3161 token's imprint the hash of this signature value?"""
    try:
        token = cms.ContentInfo.load(token_der, strict=True)
        tst = token["content"]["encap_content_info"]["content"].parsed
        if not isinstance(tst, tsp.TSTInfo):
            raise ValueError("not a TSTInfo")
        imprint = tst["message_imprint"]
        alg = imprint["hash_algorithm"]["algorithm"]
        name = "sm3" if alg.dotted == SM3 else alg.native
        ok = _digest(name, signature) == imprint["hashed_message"].native
        return TimestampCheck(token, tst["gen_time"].native, ok)
    except (ValueError, TypeError, KeyError):
        return TimestampCheck(None, None, False)
