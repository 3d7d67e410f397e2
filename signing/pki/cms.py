"""CMS SignedData (RFC 5652) assembled from pre-encoded parts.

Used for the two containers made on every party signature: the PAdES
signature itself (``/ETSI.CAdES.detached``, ETSI EN 319 142-1 B-T) and the
RFC 3161 timestamp token inside it. Everything that does not change between
signatures by the same key (algorithm identifiers, the signer identifier,
the ESS signing-certificate attribute, the certificate set) is encoded once;
a signature then costs one hash, one raw signature and some concatenation.

The same code makes the SM2 suite's containers (GM/T 0010 algorithm
identifiers: digestAlgorithm SM3 ``1.2.156.10197.1.401``, signatureAlgorithm
SM2-with-SM3 ``1.2.156.10197.1.501``). The content types stay RFC 5652's
``id-data`` / ``id-signedData``: a PDF reader looks for a CMS SignedData in
``/Contents`` and ``openssl cms`` parses only those, so GM/T 0010's own
content-type OIDs would make the signatures unreadable to both.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from asn1crypto import algos, x509
from pyhanko.sign.signers import Signer
from pyhanko.sign.timestamps import TimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore

from signing.keys import SigningKey
from signing.pki.der import context, integer, octet_string, oid, sequence, set_of
from signing.pki.digests import digest as compute_digest

#: The digests the pre-encoded path handles: one per signing suite.
CMS_DIGESTS = ("sha256", "sm3")

__all__ = ["CmsSigner", "KeySigner", "attribute", "signing_certificate_v2"]

OID_DATA = "1.2.840.113549.1.7.1"
OID_SIGNED_DATA = "1.2.840.113549.1.7.2"
OID_TST_INFO = "1.2.840.113549.1.9.16.1.4"
OID_CONTENT_TYPE = "1.2.840.113549.1.9.3"
OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
OID_SIGNING_CERTIFICATE_V2 = "1.2.840.113549.1.9.16.2.47"
OID_SIGNATURE_TIMESTAMP = "1.2.840.113549.1.9.16.2.14"


def attribute(type_oid: str, value: bytes) -> bytes:
    """Attribute ::= SEQUENCE { attrType, attrValues SET OF (one value) }."""
    return sequence(oid(type_oid), set_of(value))


def signing_certificate_v2(
    cert_der: bytes, issuer_name_der: bytes, serial: int, digest: str = "sha256"
) -> bytes:
    """ESS SigningCertificateV2 (RFC 5035) naming one certificate by its digest.

    hashAlgorithm is left out for SHA-256, its DEFAULT, which DER omits; an
    SM3 certificate hash names its algorithm.
    """
    issuer_serial = sequence(sequence(context(4, issuer_name_der)), integer(serial))
    if digest == "sha256":
        cert_id = sequence(octet_string(hashlib.sha256(cert_der).digest()), issuer_serial)
    else:
        cert_id = sequence(
            algos.DigestAlgorithm({"algorithm": digest}).dump(),
            octet_string(compute_digest(digest, cert_der)),
            issuer_serial,
        )
    return sequence(sequence(cert_id))


@dataclass(frozen=True)
class CmsSigner:
    """Everything constant about signing with one key and certificate, encoded once."""

    key: SigningKey
    digest: str
    digest_algorithm: bytes  # AlgorithmIdentifier DER
    signature_algorithm: bytes  # AlgorithmIdentifier DER
    sid: bytes  # IssuerAndSerialNumber DER
    signing_certificate_attr: bytes  # the ESS attribute, DER
    certificates: bytes  # contents of the [0] IMPLICIT CertificateSet

    @classmethod
    def create(
        cls,
        key: SigningKey,
        cert_der: bytes,
        cert: x509.Certificate,
        chain_der: Sequence[bytes] = (),
        digest: str = "sha256",
    ) -> CmsSigner:
        """:param cert_der: the signer's certificate, DER.
        :param cert: the same, parsed (only read here, never re-encoded).
        :param chain_der: further certificates to embed (DER), e.g. the issuing CA.
        """
        if digest not in CMS_DIGESTS:
            raise ValueError(f"the pre-encoded CMS path is {' or '.join(CMS_DIGESTS)} only")
        issuer_der = cert.issuer.dump()
        serial = cert.serial_number
        certs = sorted([cert_der, *chain_der])  # SET OF: DER order
        return cls(
            key=key,
            digest=digest,
            digest_algorithm=algos.DigestAlgorithm({"algorithm": digest}).dump(),
            signature_algorithm=key.signature_mechanism(digest).dump(),
            sid=sequence(issuer_der, integer(serial)),
            signing_certificate_attr=attribute(
                OID_SIGNING_CERTIFICATE_V2,
                signing_certificate_v2(cert_der, issuer_der, serial, digest),
            ),
            certificates=b"".join(certs),
        )

    def signed_attributes(self, content_type: str, content_digest: bytes) -> tuple[bytes, bytes]:
        """(DER SET OF signed attributes, raw signature over it)."""
        signed_set = set_of(
            attribute(OID_CONTENT_TYPE, oid(content_type)),
            attribute(OID_MESSAGE_DIGEST, octet_string(content_digest)),
            self.signing_certificate_attr,
        )
        return signed_set, self.key.sign(signed_set, self.digest)

    def container(
        self,
        content_type: str,
        signed_set: bytes,
        signature: bytes,
        *,
        encapsulated: bytes | None = None,
        unsigned_attrs: Sequence[bytes] = (),
    ) -> bytes:
        """The ContentInfo (DER) around a signature made by :meth:`signed_attributes`.

        ``encapsulated`` is the eContent to embed (timestamp tokens embed
        their TSTInfo); ``None`` makes a detached signature (PDF).
        """
        # signed as a SET OF; embedded under the [0] IMPLICIT tag instead
        info = [
            integer(1),
            self.sid,
            self.digest_algorithm,
            context(0, signed_set[_header_length(signed_set) :]),
            self.signature_algorithm,
            octet_string(signature),
        ]
        if unsigned_attrs:
            unsigned = set_of(*unsigned_attrs)
            info.append(context(1, unsigned[_header_length(unsigned) :]))
        if encapsulated is None:
            encap = sequence(oid(content_type))
        else:
            encap = sequence(oid(content_type), context(0, octet_string(encapsulated)))
        signed_data = sequence(
            # RFC 5652 §5.1: v1 for id-data content, v3 otherwise
            integer(1 if content_type == OID_DATA else 3),
            set_of(self.digest_algorithm),
            encap,
            # certificates [0] is OPTIONAL: a timestamp token without certReq leaves it out
            *((context(0, self.certificates),) if self.certificates else ()),
            set_of(sequence(*info)),
        )
        return sequence(oid(OID_SIGNED_DATA), context(0, signed_data))

    def sign(
        self, content_type: str, content_digest: bytes, *, encapsulated: bytes | None = None
    ) -> bytes:
        """A complete ContentInfo with no unsigned attributes."""
        signed_set, signature = self.signed_attributes(content_type, content_digest)
        return self.container(content_type, signed_set, signature, encapsulated=encapsulated)


class KeySigner(Signer):
    """pyHanko :class:`Signer` over a :class:`SigningKey` that stays loaded.

    Stock ``SimpleSigner`` re-parses its private key from DER on every raw
    signature (and again for the size-estimation dry run); this one signs
    with the key object it was given. For PAdES signatures with SHA-256 or
    SM3 it also assembles the CMS container itself (:class:`CmsSigner`,
    :meth:`signature_container`), with the signature timestamp as the only
    unsigned attribute; anything else goes through pyHanko's generic path,
    which cannot sign with SM2.
    """

    def __init__(
        self,
        key: SigningKey,
        cert: x509.Certificate,
        chain: Sequence[x509.Certificate] = (),
        *,
        digest: str = "sha256",
        cert_der: bytes | None = None,
    ):
        super().__init__(
            signing_cert=cert,
            cert_registry=SimpleCertificateStore.from_certs(chain),
            signature_mechanism=key.signature_mechanism(digest),
            embed_roots=False,
        )
        self.key = key
        self.digest = digest
        self._cms = (
            CmsSigner.create(key, cert_der or cert.dump(), cert, [c.dump() for c in chain], digest)
            if digest in CMS_DIGESTS
            else None
        )

    async def async_sign_raw(
        self, data: bytes, digest_algorithm: str, dry_run: bool = False
    ) -> bytes:
        if dry_run:
            return bytes(512)  # upper bound of a DER ECDSA-P521 / RSA-4096 signature
        return self.key.sign(data, digest_algorithm)

    async def signature_container(
        self, data_digest: bytes, timestamper: TimeStamper | None
    ) -> bytes:
        """The detached CMS (DER) over a document digest, timestamped when
        ``timestamper`` is given: the signature timestamp's imprint is this
        suite's digest of the signature value (RFC 3161 / ETSI EN 319 122-1)."""
        if self._cms is None:
            raise ValueError(f"no pre-encoded CMS path for {self.digest}")
        signed_set, signature = self._cms.signed_attributes(OID_DATA, data_digest)
        unsigned = []
        if timestamper is not None:
            imprint = compute_digest(self.digest, signature)
            token_der = getattr(timestamper, "token_der", None)
            if token_der is not None:
                token = token_der(imprint, self.digest)
            else:
                token = (await timestamper.async_timestamp(imprint, self.digest)).dump()
            unsigned.append(attribute(OID_SIGNATURE_TIMESTAMP, token))
        return self._cms.container(OID_DATA, signed_set, signature, unsigned_attrs=unsigned)

    async def async_sign(  # type: ignore[override]
        self,
        data_digest: bytes,
        digest_algorithm: str,
        dry_run: bool = False,
        use_pades: bool = False,
        timestamper: TimeStamper | None = None,
        signed_attr_settings: Any = None,
        is_pdf_sig: bool = True,
        encap_content_info: Any = None,
    ) -> Any:
        custom_attrs = signed_attr_settings is not None and (
            signed_attr_settings.cades_signed_attrs is not None
            or getattr(signed_attr_settings, "adobe_revinfo_attr", None) is not None
        )
        if (
            self._cms is None
            or dry_run
            or not (use_pades and is_pdf_sig)
            or encap_content_info is not None
            or digest_algorithm != self.digest
            or custom_attrs
            or self.signed_attr_prov_spec is not None
            or self.unsigned_attr_prov_spec is not None
        ):
            return await super().async_sign(
                data_digest,
                digest_algorithm,
                dry_run=dry_run,
                use_pades=use_pades,
                timestamper=timestamper,
                signed_attr_settings=signed_attr_settings,
                is_pdf_sig=is_pdf_sig,
                encap_content_info=encap_content_info,
            )
        # raw DER: pyHanko's CMS embedder accepts bytes as well as asn1crypto objects
        return await self.signature_container(data_digest, timestamper)


def _header_length(encoded: bytes) -> int:
    """Length of the tag + length octets at the start of a DER encoding."""
    return 2 + (encoded[1] & 0x7F if encoded[1] & 0x80 else 0)
