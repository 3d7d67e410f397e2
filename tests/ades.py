"""pyHanko's AdES validation exactly as a registration office runs it, with nothing fetched.

The library equivalent of ``pyhanko sign adesverify`` (same policy: revocation
information required, freshness judged against the validation time) with
online fetching switched off, so only what the PDF carries counts. Nothing of
ours is involved: our own :mod:`signing.validation` is not used here.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO

from asn1crypto import pem, x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESPassed
from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY
from pyhanko.sign.validation.ades import ades_lta_validation
from pyhanko.sign.validation.policy_decl import (
    LocalKnowledge,
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.ltv.types import ValidationTimingInfo
from pyhanko_certvalidator.policy_decl import (
    REQUIRE_REVINFO,
    CertRevTrustPolicy,
    FreshnessReqType,
)
from pyhanko_certvalidator.registry import SimpleTrustManager


@dataclass(frozen=True)
class Verdict:
    field_name: str
    passed: bool
    indication: str
    message: str | None


def load_pem(*blobs: bytes) -> list[x509.Certificate]:
    return [x509.Certificate.load(der) for blob in blobs
            for _, _, der in pem.unarmor(blob, multiple=True)]


def _spec(trust: list[x509.Certificate]) -> PdfSignatureValidationSpec:
    return PdfSignatureValidationSpec(
        SignatureValidationSpec(
            cert_validation_policy=CertValidationPolicySpec(
                trust_manager=SimpleTrustManager.build(trust_roots=trust),
                revinfo_policy=CertRevTrustPolicy(
                    REQUIRE_REVINFO, freshness=None,
                    freshness_req_type=FreshnessReqType.MAX_DIFF_REVOCATION_VALIDATION),
            ),
            revinfo_gathering_policy=RevocationInfoGatheringSpec(
                online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY),
            local_knowledge=LocalKnowledge(),
        ),
        diff_policy=DEFAULT_DIFF_POLICY,
    )


def validate_offline(pdf: bytes, trust: list[x509.Certificate], at: datetime) -> list[Verdict]:
    """Every signature (not the document timestamps, which it checks as evidence) at ``at``."""
    reader = PdfFileReader(BytesIO(pdf))
    timing = ValidationTimingInfo(at, at, point_in_time_validation=True)
    spec = _spec(trust)
    out = []
    for sig in reader.embedded_regular_signatures:
        result = asyncio.run(ades_lta_validation(sig, spec, timing_info=timing))
        status = result.api_status
        passed = result.ades_subindic == AdESPassed.OK and bool(status and status.bottom_line)
        out.append(Verdict(sig.field_name, passed, str(result.ades_subindic),
                           None if passed else result.failure_msg))
    return out
