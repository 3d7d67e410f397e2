"""An OCSP responder (RFC 6960) over the platform's own CAs.

Each CA delegates signing to a responder certificate it issued
(id-kp-OCSPSigning + id-pkix-ocsp-nocheck, RFC 6960 §4.2.2.2), included in
every response. Two reasons besides keeping CA keys (possibly in an HSM)
out of a per-request path: NSS (pdfsig, Okular) fails to find a CA-signed
response's signer when that CA is an intermediate it only knows from the
signature being checked, retries, and poppler then reports the chain as
"Unknown issue"; and pyHanko's ETSI time-slide wants status data for every
CA in a responder's path, which "nocheck" ends at the responder.

The same code produces the responses every signature embeds in the PDF
(B-LT), so what a validator finds in the document is exactly what it would
get from ``/pki/ocsp``. A response is made on every party signature, so it
is encoded with :mod:`signing.pki.der`; requests are parsed with asn1crypto.
"""

from __future__ import annotations

import base64
import hashlib
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from asn1crypto import algos, ocsp, x509

from signing.keys import SigningKey
from signing.pki import der
from signing.pki.certs import key_identifier
from signing.pki.digests import digest as digest_of
from signing.pki.revocation import Revocation

__all__ = [
    "KnownCert",
    "OcspAuthority",
    "Responder",
    "build_response",
    "cert_id_for",
    "decode_get_request",
    "error_response",
    "respond",
]

OID_OCSP_BASIC = "1.3.6.1.5.5.7.48.1.1"
OID_OCSP_NONCE = "1.3.6.1.5.5.7.48.1.2"

# RFC 5280 §5.3.1 CRLReason values, by asn1crypto's names
_REASON_CODES = {
    "unspecified": 0,
    "key_compromise": 1,
    "ca_compromise": 2,
    "affiliation_changed": 3,
    "superseded": 4,
    "cessation_of_operation": 5,
    "certificate_hold": 6,
    "remove_from_crl": 8,
    "privilege_withdrawn": 9,
    "aa_compromise": 10,
}
_STATUS_CODES = {
    "successful": 0,
    "malformed_request": 1,
    "internal_error": 2,
    "try_later": 3,
    "sig_required": 5,
    "unauthorized": 6,
}

# nextUpdate stays this far inside a certificate's validity: a validator
# sliding its control time to nextUpdate (+ its tolerance) must still find
# the certificate valid there (ETSI EN 319 102-1 past validation)
_EXPIRY_MARGIN = timedelta(seconds=5)

# SM3 too: clients of the SM2 suite may name certificates by SM3 hashes
_CERT_ID_HASHES = ("sha1", "sha256", "sha384", "sha512", "sm3")


def _hash(algorithm: str, data: bytes) -> bytes:
    if algorithm == "sm3":  # not in every hashlib build
        return digest_of("sm3", data)
    return hashlib.new(algorithm, data).digest()


@dataclass(frozen=True)
class KnownCert:
    """What the responder knows about a serial it issued."""

    not_after: datetime
    revocation: Revocation | None = None


# None: never issued by this CA (→ "unknown")
StatusLookup = Callable[[int], KnownCert | None]


@dataclass(frozen=True)
class Responder:
    """A delegated responder: its certificate and key."""

    cert: x509.Certificate
    key: SigningKey


@dataclass
class OcspAuthority:
    """A CA as the responder sees it: its certificate, status lookup and responder."""

    name: str
    cert: x509.Certificate
    status: StatusLookup
    responder: Callable[[], Responder]
    _hashes: dict[str, tuple[bytes, bytes]] = field(default_factory=dict, repr=False)

    def hashes(self, algorithm: str) -> tuple[bytes, bytes]:
        """(issuerNameHash, issuerKeyHash) for CertIDs using ``algorithm``."""
        cached = self._hashes.get(algorithm)
        if cached is None:
            name_hash = _hash(algorithm, self.cert.subject.dump())
            key_hash = _hash(algorithm, bytes(self.cert.public_key["public_key"]))
            cached = self._hashes[algorithm] = (name_hash, key_hash)
        return cached

    def cert_id(self, serial: int, algorithm: str = "sha1") -> bytes:
        """CertID (DER) for one of this CA's certificates."""
        name_hash, key_hash = self.hashes(algorithm)
        return der.sequence(
            algos.DigestAlgorithm({"algorithm": algorithm}).dump(),
            der.octet_string(name_hash),
            der.octet_string(key_hash),
            der.integer(serial),
        )


def cert_id_for(issuer: x509.Certificate, serial: int, algorithm: str = "sha1") -> ocsp.CertId:
    """CertID of ``serial`` under ``issuer`` (e.g. to build a request)."""
    return ocsp.CertId.load(
        der.sequence(
            algos.DigestAlgorithm({"algorithm": algorithm}).dump(),
            der.octet_string(_hash(algorithm, issuer.subject.dump())),
            der.octet_string(_hash(algorithm, bytes(issuer.public_key["public_key"]))),
            der.integer(serial),
        )
    )


def error_response(status: str) -> bytes:
    """An unsigned error response: malformed_request, internal_error, unauthorized, ..."""
    return der.sequence(der.tlv(0x0A, bytes((_STATUS_CODES[status],))))


def _single_response(
    authority: OcspAuthority, cert_id: bytes, serial: int, now: datetime, validity: timedelta
) -> bytes:
    known = authority.status(serial)
    if known is None:
        status = der.context(2, b"", constructed=False)  # unknown [2] IMPLICIT NULL
    elif known.revocation is not None:
        revoked = der.generalized_time(known.revocation.revoked_at)
        reason = der.tlv(0x0A, bytes((_REASON_CODES[known.revocation.reason],)))
        status = der.context(1, revoked + der.context(0, reason))  # revoked [1] RevokedInfo
    else:
        status = der.context(0, b"", constructed=False)  # good [0] IMPLICIT NULL
    parts = [cert_id, status, der.generalized_time(now)]
    next_update = now + validity
    if known is not None:
        # status is promised no longer than the certificate lives; for an expired
        # certificate nextUpdate is left out (RFC 6960 §2.4: no promise at all)
        next_update = min(next_update, known.not_after - _EXPIRY_MARGIN)
    if next_update > now:
        parts.append(der.context(0, der.generalized_time(next_update)))
    return der.sequence(*parts)


def build_response(
    authority: OcspAuthority,
    cert_ids: Sequence[tuple[bytes, int]],
    *,
    now: datetime,
    validity: timedelta,
    digest: str,
    nonce: bytes | None = None,
) -> ocsp.OCSPResponse:
    """A signed, successful response about ``cert_ids`` ((CertID DER, serial) pairs)."""
    now = now.replace(microsecond=0)
    responder = authority.responder()
    tbs_parts = [
        der.context(2, der.octet_string(key_identifier(responder.cert.public_key))),  # byKey
        der.generalized_time(now),
        der.sequence(
            *(_single_response(authority, cid, serial, now, validity) for cid, serial in cert_ids)
        ),
    ]
    if nonce is not None:
        # the client's nonce extension value, echoed byte for byte
        tbs_parts.append(
            der.context(
                1, der.sequence(der.sequence(der.oid(OID_OCSP_NONCE), der.octet_string(nonce)))
            )
        )
    tbs = der.sequence(*tbs_parts)
    basic = der.sequence(
        tbs,
        responder.key.signature_mechanism(digest).dump(),
        der.bit_string(responder.key.sign(tbs, digest)),
        der.context(0, der.sequence(responder.cert.dump())),
    )
    response = der.sequence(
        der.tlv(0x0A, b"\x00"),  # successful
        der.context(0, der.sequence(der.oid(OID_OCSP_BASIC), der.octet_string(basic))),
    )
    return ocsp.OCSPResponse.load(response)


def _find_authority(
    authorities: Sequence[OcspAuthority], cert_id: ocsp.CertId
) -> OcspAuthority | None:
    algorithm = cert_id["hash_algorithm"]["algorithm"].native
    if algorithm not in _CERT_ID_HASHES:
        return None
    wanted = (cert_id["issuer_name_hash"].native, cert_id["issuer_key_hash"].native)
    for authority in authorities:
        if authority.hashes(algorithm) == wanted:
            return authority
    return None


def respond(
    request_der: bytes,
    authorities: Sequence[OcspAuthority],
    *,
    now: datetime,
    validity: timedelta,
    digest: str,
) -> bytes:
    """Answer a DER OCSP request; never raises on bad input (returns an error status).

    One response has one signer, so a request mixing certificates of
    different CAs is answered for the first CA's certificates only (clients
    send one certificate per request in practice).
    """
    try:
        request = ocsp.OCSPRequest.load(request_der)
        tbs_request = request["tbs_request"]
        cert_ids = [item["req_cert"] for item in tbs_request["request_list"]]
        nonce = None
        for ext in tbs_request["request_extensions"] or ():
            if ext["extn_id"].dotted == OID_OCSP_NONCE:
                nonce = ext["extn_value"].contents
        if not cert_ids:
            return error_response("malformed_request")
        authority = _find_authority(authorities, cert_ids[0])
        if authority is None:
            return error_response("unauthorized")
        ours = [
            (cid.dump(), cid["serial_number"].native)
            for cid in cert_ids
            if _find_authority([authority], cid) is authority
        ]
    except (ValueError, TypeError, KeyError):
        return error_response("malformed_request")
    response = build_response(
        authority, ours, now=now, validity=validity, digest=digest, nonce=nonce
    )
    return response.dump()


def decode_get_request(path: str) -> bytes:
    """The DER request from a GET ``/pki/ocsp/{url-encoded base64}`` URL (RFC 6960 §A.1.1).

    NSS (pdfsig, Firefox) uses GET. The path may arrive percent-encoded or
    already decoded by the HTTP layer: base64 has no ``%``, so unquoting
    twice is harmless. ``+`` stays ``+`` (a path, not a form). Raises
    ValueError on anything that is not strict base64 (padding may be left off).
    """
    text = urllib.parse.unquote(path).strip("/")
    text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not base64: {exc}") from None
