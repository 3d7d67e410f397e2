"""The face-verification provider interface (人脸核身): start for an identity, fetch the result.

Every provider follows the same shape: the backend starts a verification for a
known identity and gets a token; the phone SDK runs liveness + comparison with
that token; the backend then asks the provider server-to-server. A result the
phone reports is never trusted, which is why :meth:`FaceProvider.fetch_result`
exists at all.

The interface is deliberately about "prove this person is this identity", not
about faces: another method (e.g. in-person checks at a service window) can
implement it, since face verification must not be the only way (人脸识别技术
应用安全管理办法).

Errors: adapters raise :class:`server.errors.UpstreamBadAnswer` (502),
:class:`~server.errors.UpstreamUnavailable` (503) or
:class:`~server.errors.UpstreamTimeout` (504) and change nothing on our side.
A provider's *verdict* (failed liveness, expired token...) is not an error: it
comes back as a finished, not-passed :class:`VerificationResult`.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class ExpectedIdentity:
    """Who the person claims to be. Never logged; ``repr`` hides it."""

    name: str = field(repr=False)
    id_number: str = field(repr=False)


@dataclass(frozen=True)
class StartRequest:
    identity: ExpectedIdentity
    reference: str  # our verification id: out_seq_no / OuterOrderNo / Extra
    subject: str | None = None  # host-app account (WeChat openid), where the provider needs it
    meta_info: str | None = None  # what the Alibaba client SDK collects (MetaInfo)


@dataclass(frozen=True)
class StartedVerification:
    provider_ref: str  # BizToken / verify_id / CertifyId
    client_payload: dict[str, Any]  # what the phone SDK needs, nothing secret
    expires_at: datetime
    provider_request_id: str | None = None


@dataclass(frozen=True)
class ResultQuery:
    provider_ref: str
    reference: str
    identity: ExpectedIdentity
    subject: str | None = None


@dataclass(frozen=True)
class VerificationResult:
    """A provider's answer, normalised. ``finished`` is False while the phone is not done."""

    finished: bool
    passed: bool
    reason_code: str  # ok | low_similarity | id_name_mismatch | liveness_failed | ...
    provider_ref: str
    answer_sha256: str  # SHA-256 of the provider's raw answer: the evidence
    provider_request_id: str | None = None
    provider_code: str | None = None  # the provider's own result code, for the record
    score: float | None = None  # similarity 0-100 where the provider reports one
    echoed_name: str | None = field(default=None, repr=False)
    echoed_id_number: str | None = field(default=None, repr=False)


# Reason codes shared by all adapters, so clients switch on one vocabulary.
REASON_OK = "ok"
REASON_PENDING = "pending"
REASON_LOW_SIMILARITY = "low_similarity"
REASON_ID_NAME_MISMATCH = "id_name_mismatch"  # the name and ID number do not match the register
REASON_NO_IDENTITY_RECORD = "no_identity_record"
REASON_LIVENESS_FAILED = "liveness_failed"
REASON_TOKEN_EXPIRED = "token_expired"
REASON_TOKEN_INVALID = "token_invalid"
REASON_RETRY_LIMIT = "retry_limit"
REASON_CANCELLED = "cancelled"
REASON_PROVIDER_REFUSED = "provider_refused"
REASON_IDENTITY_MISMATCH = "identity_mismatch"  # our check: the echo is not who we asked for


class FaceProvider(abc.ABC):
    """One way to verify that the person on the phone holds the expected identity."""

    name: str
    #: the provider echoes the name and ID number it verified, and we must compare them
    echoes_identity: bool = False
    #: the provider reports a similarity score (0-100) our threshold applies to
    reports_score: bool = False
    #: the provider needs the host-app account (``StartRequest.subject``)
    needs_subject: bool = False
    #: the provider needs what its client SDK collected first (``StartRequest.meta_info``)
    needs_meta_info: bool = False

    @abc.abstractmethod
    async def start(self, request: StartRequest) -> StartedVerification:
        """Open a verification for ``request.identity``. Not retried: it is not idempotent."""

    @abc.abstractmethod
    async def fetch_result(self, query: ResultQuery) -> VerificationResult:
        """Ask the provider for the result; idempotent, so adapters may retry it."""
