"""Our rules on top of a provider's verdict: echoed identity and the similarity threshold."""

from __future__ import annotations

from server.adapters.faceid.base import ExpectedIdentity, VerificationResult
from server.services.face_policy import judge

WHO = ExpectedIdentity("王建国", "42120219750312351X")


def result(**overrides) -> VerificationResult:
    base = {"finished": True, "passed": True, "reason_code": "ok", "provider_ref": "t",
            "answer_sha256": "0" * 64, "score": 92.0, "echoed_name": "王建国",
            "echoed_id_number": "42120219750312351X"}
    return VerificationResult(**{**base, **overrides})


def verdict(r: VerificationResult, threshold: float = 70, echoes: bool = True,
            scores: bool = True) -> tuple[bool, str]:
    v = judge(r, WHO, threshold=threshold, echoes_identity=echoes, reports_score=scores)
    return v.passed, v.reason_code


def test_pass():
    assert verdict(result()) == (True, "ok")
    assert verdict(result(score=70.0)) == (True, "ok")  # >= threshold
    assert verdict(result(echoed_id_number="42120219750312351x")) == (True, "ok")


def test_provider_failure_keeps_its_reason():
    assert verdict(result(passed=False, reason_code="liveness_failed")) == \
        (False, "liveness_failed")


def test_echo_of_another_identity_fails():
    assert verdict(result(echoed_name="王建军")) == (False, "identity_mismatch")
    assert verdict(result(echoed_id_number="421202197503123528")) == (False, "identity_mismatch")
    assert verdict(result(echoed_name=None)) == (False, "identity_mismatch")
    # Providers that do not echo (WeChat, Alibaba) bind the identity otherwise.
    assert verdict(result(echoed_name=None, echoed_id_number=None), echoes=False) == (True, "ok")


def test_score_below_our_threshold_fails_even_when_the_provider_passed():
    assert verdict(result(score=69.99)) == (False, "low_similarity")
    assert verdict(result(score=80.0), threshold=85) == (False, "low_similarity")
    assert verdict(result(score=None)) == (False, "low_similarity")
    assert verdict(result(score=None), scores=False) == (True, "ok")
