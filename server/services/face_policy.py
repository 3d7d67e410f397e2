"""When a provider's answer counts as a pass: our rules on top of the provider's verdict.

Pure, so the rules are tested without a provider. A provider's "passed" is not
enough: it must also have verified the identity we asked for (where it echoes
one back) and, where it reports a similarity, reach our threshold, which may be
stricter than the provider's own.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.adapters.faceid.base import (
    REASON_IDENTITY_MISMATCH,
    REASON_LOW_SIMILARITY,
    REASON_OK,
    ExpectedIdentity,
    VerificationResult,
)
from server.domain.identity import normalize_id_number


@dataclass(frozen=True)
class Verdict:
    passed: bool
    reason_code: str

    @property
    def status(self) -> str:
        return "passed" if self.passed else "failed"


def judge(result: VerificationResult, expected: ExpectedIdentity, *, threshold: float,
          echoes_identity: bool, reports_score: bool) -> Verdict:
    """The final verdict on a finished result."""
    if not result.passed:
        return Verdict(False, result.reason_code)
    if echoes_identity and not _same_identity(result, expected):
        return Verdict(False, REASON_IDENTITY_MISMATCH)
    if reports_score and (result.score is None or result.score < threshold):
        return Verdict(False, REASON_LOW_SIMILARITY)
    return Verdict(True, REASON_OK)


def _same_identity(result: VerificationResult, expected: ExpectedIdentity) -> bool:
    # A missing echo is a mismatch: a provider that echoes must show whom it verified.
    if result.echoed_name is None or result.echoed_id_number is None:
        return False
    return (result.echoed_name.strip() == expected.name
            and normalize_id_number(result.echoed_id_number) == expected.id_number)
