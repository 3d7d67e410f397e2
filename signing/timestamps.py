"""Trusted timestamps (RFC 3161): an in-process TSA, or an external one by URL.

The in-process TSA signs with the platform's TSA certificate, with the key
kept loaded, so a party signature's B-T timestamp costs one ECDSA signature
and some byte concatenation instead of an HTTP round trip: everything in a
token that does not depend on the request (the ESS signing-certificate
attribute, the certificate set, the signer identifier) is encoded once per
process (:mod:`signing.pki.cms`).

pyHanko's own ``DummyTimeStamper`` is not used: it is RSA-only and re-parses
its private key on every request.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime

from asn1crypto import algos, cms, tsp, x509
from cryptography.hazmat.primitives import hashes
from pyhanko.sign.timestamps import HTTPTimeStamper, TimeStamper

from signing.keys import SigningKey
from signing.pki import der
from signing.pki.cms import OID_TST_INFO, CmsSigner

__all__ = ["LocalTimeStamper", "external_timestamper"]

_DIGESTS = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}


def _utc_now() -> datetime:
    return datetime.now(UTC)


class LocalTimeStamper(TimeStamper):
    """An RFC 3161 time-stamping unit living in this process.

    :param clock:
        Source of the time put in tokens; tests substitute a fixed clock to
        produce documents "signed in the past".
    """

    def __init__(
        self,
        tsa_cert: x509.Certificate,
        key: SigningKey,
        *,
        policy_oid: str,
        digest: str = "sha256",
        clock: Callable[[], datetime] = _utc_now,
    ):
        super().__init__(include_nonce=False)
        self.tsa_cert = tsa_cert
        self.key = key
        self.digest = digest
        self.clock = clock
        self._policy = der.oid(policy_oid)
        # TSTInfo.tsa: [0] EXPLICIT GeneralName, directoryName [4] EXPLICIT Name
        self._tsa_name = der.context(0, der.context(4, tsa_cert.subject.dump()))
        self._cms = CmsSigner.create(key, tsa_cert.dump(), tsa_cert, digest=digest)
        self._algorithm_ids: dict[str, bytes] = {}
        # register the TSA cert the way a dummy request would, without making one:
        # pyHanko looks here when collecting validation paths for B-LT
        self._certs[tsa_cert.issuer_serial] = tsa_cert
        self.cert_registry.register(tsa_cert)

    def _algorithm_id(self, md_algorithm: str) -> bytes:
        encoded = self._algorithm_ids.get(md_algorithm)
        if encoded is None:
            encoded = algos.DigestAlgorithm({"algorithm": md_algorithm}).dump()
            self._algorithm_ids[md_algorithm] = encoded
        return encoded

    def token_der(
        self, message_digest: bytes, md_algorithm: str, nonce: int | None = None
    ) -> bytes:
        """A TimeStampToken (CMS ContentInfo, DER) over ``message_digest``."""
        if md_algorithm not in _DIGESTS:
            raise ValueError(f"unsupported digest {md_algorithm}")
        gen_time = self.clock().astimezone(UTC)
        fields = [
            der.integer(1),
            self._policy,
            der.sequence(self._algorithm_id(md_algorithm), der.octet_string(message_digest)),
            # unique per token (RFC 3161 §2.4.2); 63 random bits need no counter
            der.integer(int.from_bytes(os.urandom(8), "big") >> 1),
            der.generalized_time(gen_time),
            der.sequence(der.integer(1)),  # accuracy: one second
        ]
        if nonce is not None:
            fields.append(der.integer(nonce))
        fields.append(self._tsa_name)
        tst_info = der.sequence(*fields)
        md = hashes.Hash(_DIGESTS[self.digest]())
        md.update(tst_info)
        return self._cms.sign(OID_TST_INFO, md.finalize(), encapsulated=tst_info)

    def token(self, request: tsp.TimeStampReq) -> cms.ContentInfo:
        """A signed TimeStampToken for a parsed request."""
        imprint = request["message_imprint"]
        return cms.ContentInfo.load(
            self.token_der(
                imprint["hashed_message"].native,
                imprint["hash_algorithm"]["algorithm"].native,
                request["nonce"].native,
            )
        )

    def respond(self, request_der: bytes) -> bytes:
        """DER TimeStampResp for a DER TimeStampReq (the HTTP endpoint's body)."""
        try:
            request = tsp.TimeStampReq.load(request_der)
            algorithm = request["message_imprint"]["hash_algorithm"]["algorithm"].native
            if algorithm not in _DIGESTS:
                return _rejection("bad_alg")
            token = self.token(request)
        except (ValueError, TypeError, KeyError):
            return _rejection("bad_request")
        return tsp.TimeStampResp(
            {"status": {"status": "granted"}, "time_stamp_token": token}
        ).dump()

    async def async_timestamp(self, message_digest: bytes, md_algorithm: str) -> cms.ContentInfo:
        # in-process: no request/response round trip, no nonce (nothing to replay)
        return cms.ContentInfo.load(self.token_der(message_digest, md_algorithm))

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        return tsp.TimeStampResp(
            {"status": {"status": "granted"}, "time_stamp_token": self.token(req)}
        )


def _rejection(fail_info: str) -> bytes:
    # encoded by hand: asn1crypto's TimeStampResp wrongly requires the token
    # that RFC 3161 makes optional (and absent when rejecting)
    status = tsp.PKIStatusInfo(
        {"status": "rejection", "fail_info": tsp.PKIFailureInfo({fail_info})}
    )
    return der.sequence(status.dump())


def external_timestamper(url: str, timeout: float = 10) -> TimeStamper:
    """A client for an external RFC 3161 TSA (pyHanko's HTTP timestamper)."""
    return HTTPTimeStamper(url, timeout=timeout)
