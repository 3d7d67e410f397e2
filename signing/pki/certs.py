"""Building and signing X.509 certificates with asn1crypto.

Certificates are assembled as asn1crypto structures and signed through a
:class:`~signing.keys.SigningKey`, not with ``cryptography``'s builder: the
builder only signs with in-memory keys, and the CA keys may live in an HSM.

Every certificate is re-parsed from its final DER before being handed out, so
later ``dump()`` calls (CMS packaging, hashing for the signing-certificate
attribute) return the cached encoding instead of re-serialising.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from asn1crypto import keys, pem, x509

from signing.keys import SigningKey
from signing.pki import der

__all__ = [
    "CertificateTemplate",
    "RevocationPointers",
    "SerialTagger",
    "ca_extensions",
    "certificates_pem",
    "end_entity_extensions",
    "issue_certificate",
    "key_identifier",
    "ocsp_responder_extensions",
    "tsa_extensions",
    "x509_time",
]


@dataclass(frozen=True)
class RevocationPointers:
    """Where relying parties find status and issuer certificates for one CA's certs."""

    crl_url: str
    ocsp_url: str
    ca_issuers_url: str

    def extensions(self) -> list[x509.Extension]:
        def uri(value: str) -> x509.GeneralName:
            return x509.GeneralName(name="uniform_resource_identifier", value=value)

        return [
            x509.Extension(
                {
                    "extn_id": "crl_distribution_points",
                    "extn_value": [{"distribution_point": {"full_name": [uri(self.crl_url)]}}],
                }
            ),
            x509.Extension(
                {
                    "extn_id": "authority_information_access",
                    "extn_value": [
                        {
                            "access_method": "ocsp",
                            "access_location": uri(self.ocsp_url),
                        },
                        {
                            "access_method": "ca_issuers",
                            "access_location": uri(self.ca_issuers_url),
                        },
                    ],
                }
            ),
        ]


def _key_usage(*usages: str) -> x509.Extension:
    return x509.Extension(
        {"extn_id": "key_usage", "critical": True, "extn_value": x509.KeyUsage(set(usages))}
    )


def _basic_constraints(ca: bool, path_len: int | None = None) -> x509.Extension:
    value: dict[str, object] = {"ca": ca}
    if ca and path_len is not None:
        value["path_len_constraint"] = path_len
    return x509.Extension({"extn_id": "basic_constraints", "critical": True, "extn_value": value})


def ca_extensions(path_len: int | None) -> list[x509.Extension]:
    # digital_signature too: the CA signs OCSP responses for its own certificates
    return [
        _basic_constraints(True, path_len),
        _key_usage("key_cert_sign", "crl_sign", "digital_signature"),
    ]


def end_entity_extensions() -> list[x509.Extension]:
    """Signing certificates (parties, the seal).

    No extended key usage: NSS (pdfsig, Firefox-family viewers) checks PDF
    signers against the e-mail-signer usage, which an EKU without
    ``emailProtection`` would fail.
    """
    return [
        _basic_constraints(False),
        _key_usage("digital_signature", "non_repudiation"),
    ]


def ocsp_responder_extensions() -> list[x509.Extension]:
    """A delegated OCSP responder (RFC 6960 §4.2.2.2): OCSPSigning, and "no check".

    id-pkix-ocsp-nocheck tells validators not to ask for the responder's own
    status (which would recurse); the price is a short lifetime instead.
    """
    return [
        _basic_constraints(False),
        _key_usage("digital_signature"),
        x509.Extension({"extn_id": "extended_key_usage", "extn_value": ["ocsp_signing"]}),
        x509.Extension({"extn_id": "ocsp_no_check", "extn_value": None}),
    ]


def tsa_extensions() -> list[x509.Extension]:
    # RFC 3161 §2.3: exactly one EKU, id-kp-timeStamping, marked critical
    return [
        _basic_constraints(False),
        _key_usage("digital_signature"),
        x509.Extension(
            {"extn_id": "extended_key_usage", "critical": True, "extn_value": ["time_stamping"]}
        ),
    ]


def key_identifier(public_key: keys.PublicKeyInfo) -> bytes:
    """RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits."""
    return hashlib.sha1(public_key["public_key"].contents[1:]).digest()


class SerialTagger:
    """Certificate serial numbers that prove, statelessly, that we issued them.

    A serial is 20 bytes: 8 random bytes, the certificate's notAfter (Unix
    seconds, 4 bytes), and an 8-byte HMAC tag over the CA's name and both.
    From a serial alone the OCSP responder knows that this PKI issued the
    certificate and until when it is valid — with no database write per
    one-signature certificate — so it never answers "good" for a serial we
    did not issue, and never promises status beyond a certificate's life.
    """

    LENGTH = 20

    def __init__(self, key: bytes):
        self._key = key

    def _tag(self, ca: str, body: bytes) -> bytes:
        return hmac.new(self._key, ca.encode() + b"\0" + body, hashlib.sha256).digest()[:8]

    def new_serial(self, ca: str, not_after: datetime) -> int:
        random_part = bytearray(os.urandom(8))
        random_part[0] = (random_part[0] & 0x3F) | 0x40  # positive, always 20 bytes
        body = bytes(random_part) + int(not_after.timestamp()).to_bytes(4, "big")
        return int.from_bytes(body + self._tag(ca, body), "big")

    def not_after(self, ca: str, serial: int) -> datetime | None:
        """The notAfter encoded in ``serial`` if ``ca`` issued it, else None."""
        if serial <= 0 or serial.bit_length() > self.LENGTH * 8:
            return None
        raw = serial.to_bytes(self.LENGTH, "big")
        body, tag = raw[:12], raw[12:]
        if not hmac.compare_digest(tag, self._tag(ca, body)):
            return None
        return datetime.fromtimestamp(int.from_bytes(body[8:], "big"), UTC)


def issue_certificate(
    *,
    subject: x509.Name,
    public_key: keys.PublicKeyInfo,
    serial: int,
    not_before: datetime,
    not_after: datetime,
    signing_key: SigningKey,
    digest: str,
    issuer: x509.Certificate | None = None,
    extensions: Iterable[x509.Extension] = (),
) -> x509.Certificate:
    """Assemble, sign and re-parse a certificate (self-signed when ``issuer`` is None)."""
    issuer_name = issuer.subject if issuer is not None else subject
    issuer_key_id = (
        key_identifier(issuer.public_key) if issuer is not None else key_identifier(public_key)
    )
    all_extensions: list[x509.Extension] = list(extensions)
    all_extensions.append(
        x509.Extension({"extn_id": "key_identifier", "extn_value": key_identifier(public_key)})
    )
    all_extensions.append(
        x509.Extension(
            {"extn_id": "authority_key_identifier", "extn_value": {"key_identifier": issuer_key_id}}
        )
    )
    algorithm = signing_key.signature_mechanism(digest)
    tbs = x509.TbsCertificate(
        {
            "version": "v3",
            "serial_number": serial,
            "signature": algorithm,
            "issuer": issuer_name,
            "validity": {
                "not_before": x509_time(not_before),
                "not_after": x509_time(not_after),
            },
            "subject": subject,
            "subject_public_key_info": public_key,
            "extensions": all_extensions,
        }
    )
    tbs_der = tbs.dump()
    signature = signing_key.sign(tbs_der, digest)
    cert = x509.Certificate(
        {
            "tbs_certificate": tbs,
            "signature_algorithm": algorithm,
            "signature_value": signature,
        }
    )
    return x509.Certificate.load(cert.dump())


class CertificateTemplate:
    """Everything fixed about the certificates one CA issues under one profile.

    The party certificates are issued on every signature; with the issuer
    name, algorithm and constant extensions encoded once, issuing one is a
    few concatenations and one signature (:mod:`signing.pki.der`). The
    result is byte-identical to :func:`issue_certificate` (tested).
    """

    def __init__(
        self,
        *,
        issuer: x509.Certificate,
        signing_key: SigningKey,
        digest: str,
        extensions: Iterable[x509.Extension],
    ):
        self.signing_key = signing_key
        self.digest = digest
        self._algorithm = signing_key.signature_mechanism(digest).dump()
        self._issuer = issuer.subject.dump()
        self._extensions = b"".join(ext.dump() for ext in extensions)
        aki = x509.Extension(
            {
                "extn_id": "authority_key_identifier",
                "extn_value": {"key_identifier": key_identifier(issuer.public_key)},
            }
        )
        self._aki = aki.dump()

    def issue(
        self,
        *,
        subject: bytes,
        public_key: bytes,
        serial: int,
        not_before: datetime,
        not_after: datetime,
    ) -> bytes:
        """DER certificate for a DER subject Name and SubjectPublicKeyInfo."""
        key_id = hashlib.sha1(_spki_bits(public_key)).digest()
        ski = der.sequence(der.oid("2.5.29.14"), der.octet_string(der.octet_string(key_id)))
        tbs = der.sequence(
            der.context(0, der.integer(2)),  # v3
            der.integer(serial),
            self._algorithm,
            self._issuer,
            der.sequence(der.time(not_before), der.time(not_after)),
            subject,
            public_key,
            der.context(3, der.sequence(self._extensions, ski, self._aki)),
        )
        signature = self.signing_key.sign(tbs, self.digest)
        return der.sequence(tbs, self._algorithm, der.bit_string(signature))


def _spki_bits(spki: bytes) -> bytes:
    """The subjectPublicKey bits of a DER SubjectPublicKeyInfo (for key identifiers)."""
    return bytes(keys.PublicKeyInfo.load(spki)["public_key"])


def x509_time(value: datetime) -> x509.Time:
    # RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050
    if value.year < 2050:
        return x509.Time({"utc_time": value})
    return x509.Time({"general_time": value})


def certificates_pem(certs: Sequence[x509.Certificate]) -> bytes:
    return b"".join(pem.armor("CERTIFICATE", c.dump()) for c in certs)
