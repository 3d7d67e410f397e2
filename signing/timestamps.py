"""Trusted timestamps (RFC 3161): an in-process TSA, or an external one by URL.

The in-process TSA signs with the platform's TSA certificate, with the key
kept loaded (ECDSA, or SM2 with SM3 under the SM2 suite), so a party
signature's B-T timestamp costs one signature
and some byte concatenation instead of an HTTP round trip: everything in a
token that does not depend on the request (the ESS signing-certificate
attribute, the certificate set, the signer identifier) is encoded once per
process (:mod:`signing.pki.cms`). It is for development and tests:
production uses an external, trusted TSA (:class:`ExternalTimeStamper`).

pyHanko's own ``DummyTimeStamper`` is not used: it is RSA-only and re-parses
its private key on every request.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from asn1crypto import algos, cms, core, tsp, x509
from pyhanko.sign.timestamps import HTTPTimeStamper, TimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError, handle_tsp_response

from signing.gm.verify import Material, is_sm2_signed
from signing.keys import SigningKey
from signing.pki import der
from signing.pki.cms import OID_TST_INFO, CmsSigner
from signing.pki.digests import DIGEST_SIZES, digest

__all__ = [
    "ExternalTimeStamper",
    "LocalTimeStamper",
    "TimestampUnavailable",
    "external_timestamper",
]



class TimestampUnavailable(Exception):
    """No trustworthy timestamp could be had: the TSA is down, slow, refused or
    answered with something we cannot accept. Signing stops here; nothing
    falls back to the local clock."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


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
        self.policy_oid = policy_oid
        self._cms = CmsSigner.create(key, tsa_cert.dump(), tsa_cert, digest=digest)
        self._cms_no_certs = dataclasses.replace(self._cms, certificates=b"")
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
        self,
        message_digest: bytes,
        md_algorithm: str,
        nonce: int | None = None,
        *,
        include_certificate: bool = True,
    ) -> bytes:
        """A TimeStampToken (CMS ContentInfo, DER) over ``message_digest``.

        ``include_certificate`` is the request's certReq: without it the
        token names its signer but does not carry the certificate.
        """
        if md_algorithm not in DIGEST_SIZES:
            raise ValueError(f"unsupported digest {md_algorithm}")
        if len(message_digest) != DIGEST_SIZES[md_algorithm]:
            raise ValueError(f"a {md_algorithm} imprint is {DIGEST_SIZES[md_algorithm]} bytes")
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
        signer = self._cms if include_certificate else self._cms_no_certs
        return signer.sign(OID_TST_INFO, digest(self.digest, tst_info), encapsulated=tst_info)

    def token(self, request: tsp.TimeStampReq) -> cms.ContentInfo:
        """A signed TimeStampToken for a parsed request."""
        imprint = request["message_imprint"]
        return cms.ContentInfo.load(
            self.token_der(
                imprint["hashed_message"].native,
                imprint["hash_algorithm"]["algorithm"].native,
                request["nonce"].native,
                include_certificate=bool(request["cert_req"].native),
            )
        )

    def refusal(self, request_der: bytes) -> tuple[str, str] | None:
        """Why a DER TimeStampReq is refused, as (failInfo, statusString); None if fine."""
        try:
            request = tsp.TimeStampReq.load(request_der)
            # asn1crypto parses lazily: .native forces the whole request now
            _ = request.native
            if len(request.dump()) != len(request_der):
                return "bad_data_format", "trailing data after the request"
            if request["version"].native != "v1":
                return "bad_request", "unsupported version"
            imprint = request["message_imprint"]
            algorithm = imprint["hash_algorithm"]["algorithm"].native
            hashed = imprint["hashed_message"].native
        except (ValueError, TypeError, KeyError):
            return "bad_data_format", "not a DER TimeStampReq"
        if algorithm not in DIGEST_SIZES:
            return "bad_alg", f"unsupported hash algorithm {algorithm}"
        if len(hashed) != DIGEST_SIZES[algorithm]:
            size = DIGEST_SIZES[algorithm]
            return "bad_data_format", f"{algorithm} imprint must be {size} bytes"
        policy = request["req_policy"]
        if policy.native is not None and policy.dotted != self.policy_oid:
            return "unaccepted_policy", f"this TSA issues under policy {self.policy_oid} only"
        if request["extensions"].native:
            return "unaccepted_extensions", "no request extensions are supported"
        return None

    def respond(self, request_der: bytes) -> bytes:
        """DER TimeStampResp for a DER TimeStampReq (the HTTP endpoint's body).

        RFC 3161 §2.4.2: a request we cannot honour gets a rejection naming
        why (failInfo), never a token under other terms than asked.
        """
        refused = self.refusal(request_der)
        if refused is not None:
            return _rejection(*refused)
        token = self.token(tsp.TimeStampReq.load(request_der))
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


def _rejection(fail_info: str, status_string: str) -> bytes:
    # encoded by hand: asn1crypto's TimeStampResp wrongly requires the token
    # that RFC 3161 makes optional (and absent when rejecting)
    status = tsp.PKIStatusInfo(
        {
            "status": "rejection",
            "status_string": [status_string],
            "fail_info": tsp.PKIFailureInfo({fail_info}),
        }
    )
    return der.sequence(status.dump())


class ExternalTimeStamper(HTTPTimeStamper):
    """A client for an external RFC 3161 TSA that trusts nothing it is sent.

    Every token is checked before it goes into a document: the imprint is
    ours, the nonce is echoed, the policy is the configured one, and the
    token is signed by a certificate that chains to the configured trust
    anchor, for time stamping. Any failure, a connection error or a timeout
    raises :class:`TimestampUnavailable`.
    """

    def __init__(
        self,
        url: str,
        *,
        trust_anchors: Sequence[x509.Certificate],
        policy_oid: str | None = None,
        timeout: float = 10,
    ):
        super().__init__(url, timeout=timeout)
        self.trust_anchors = list(trust_anchors)
        self.policy_oid = policy_oid

    def request_cms(self, message_digest: bytes, md_algorithm: str) -> tuple:
        nonce, request = super().request_cms(message_digest, md_algorithm)
        if self.policy_oid:
            request["req_policy"] = core.ObjectIdentifier(self.policy_oid)
        return nonce, request

    async def async_timestamp(self, message_digest: bytes, md_algorithm: str) -> cms.ContentInfo:
        nonce, request = self.request_cms(message_digest, md_algorithm)
        try:
            raw = (await self.async_request_tsa_response(request)).dump()
        except (TimestampRequestError, OSError, ValueError) as exc:
            cause = exc.__cause__ or exc
            raise TimestampUnavailable(
                f"timestamp service {self.url}: {type(cause).__name__}: {cause}"
            ) from None
        try:
            # the status alone first: asn1crypto cannot load a token-less rejection
            status = tsp.PKIStatusInfo.load(core.Sequence.load(raw)[0].dump())
            granted = status["status"].native in ("granted", "granted_with_mods")
            if not granted:
                fail_info = ", ".join(sorted(status["fail_info"].native or ()))
                text = "; ".join(status["status_string"].native or ())
                raise TimestampUnavailable(
                    f"timestamp service {self.url} refused: {fail_info} {text}".strip()
                )
            token = handle_tsp_response(tsp.TimeStampResp.load(raw), nonce)
        except TimestampUnavailable:
            raise
        except (TimestampRequestError, ValueError, TypeError, KeyError) as exc:
            raise TimestampUnavailable(
                f"timestamp service {self.url}: unusable answer: {exc}"
            ) from None
        await self._check(token, message_digest, md_algorithm)
        return token

    async def _check(
        self, token: cms.ContentInfo, message_digest: bytes, md_algorithm: str
    ) -> None:
        from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
        from pyhanko_certvalidator import ValidationContext

        try:
            signed_data = token["content"]
            tst_info = signed_data["encap_content_info"]["content"].parsed
            imprint = tst_info["message_imprint"]
            if (
                imprint["hash_algorithm"]["algorithm"].native != md_algorithm
                or imprint["hashed_message"].native != message_digest
            ):
                raise TimestampUnavailable("the token covers another imprint")
            if self.policy_oid and tst_info["policy"].dotted != self.policy_oid:
                raise TimestampUnavailable(
                    f"the token's policy {tst_info['policy'].dotted} is not {self.policy_oid}"
                )
            if is_sm2_signed(signed_data):  # pyHanko cannot check SM2: signing.gm.verify does
                signer = self._check_sm2(signed_data, message_digest)
                self._certs[signer.issuer_serial] = signer
                self.cert_registry.register(signer)
                return
            context = ValidationContext(
                trust_roots=self.trust_anchors,
                allow_fetching=False,
                revocation_mode="soft-fail",
            )
            status = await validate_tst_signed_data(
                signed_data, context, lambda _alg: message_digest
            )
        except TimestampUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - any malformed token is refused the same way
            raise TimestampUnavailable(f"unusable token: {type(exc).__name__}: {exc}") from None
        if not (status.get("intact") and status.get("valid") and status.get("trust_problem_indic")
                is None):
            raise TimestampUnavailable("the token is not signed by the trusted TSA")
        signer = status.get("signing_cert")
        if signer is not None:
            # remember the TSA's certificates: they go into the DSS for B-LT
            self._certs[signer.issuer_serial] = signer
            self.cert_registry.register(signer)


    def _check_sm2(self, signed_data: cms.SignedData, message_digest: bytes) -> x509.Certificate:
        """An SM2 token (e.g. a national SM2 TSA's): intact, validly signed by a
        time-stamping certificate that chains to the trust anchors, none of it known
        revoked (soft-fail, like the pyHanko check)."""
        check = Material(self.trust_anchors).check_token(
            signed_data, None, imprint_digest=message_digest, current_at=_utc_now())
        if not (check.intact and check.valid and check.path.trusted
                and check.path.revocation != "revoked" and check.signer is not None):
            raise TimestampUnavailable(f"the token is not signed by the trusted TSA "
                                       f"({check.indication})")
        return check.signer


def external_timestamper(
    url: str,
    *,
    trust_anchors: Sequence[x509.Certificate],
    policy_oid: str | None = None,
    timeout: float = 10,
) -> TimeStamper:
    """A checking client for an external RFC 3161 TSA (:class:`ExternalTimeStamper`)."""
    return ExternalTimeStamper(
        url, trust_anchors=trust_anchors, policy_oid=policy_oid, timeout=timeout
    )
