"""Shapes of the public verification API (no login)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from server.schemas.common import Answer
from server.schemas.miniapp import DocumentKind
from server.schemas.types import VerifyToken


class VerifyQuery(BaseModel):
    t: VerifyToken | None = Field(default=None)  # type: ignore[valid-type]
    d: DocumentKind | None = Field(  # type: ignore[valid-type]
        default=None, description="哪一份文件的二维码（默认合同）；本交易没有的文件同样 404")


class VerificationFacts(Answer):
    code: str
    status: Literal["filed", "registration_accepted", "registered", "revoked"]
    status_label: str
    filing_no: str | None
    contract_no: str | None
    house: dict[str, Any]
    parties: list[dict[str, Any]]
    signatures: list[dict[str, Any]]
    document: dict[str, Any] | None
    checked_at: str = Field(json_schema_extra={"format": "date-time"})


class DocumentReport(Answer):
    identical: bool
    matches_stage: str | None
    readable: bool
    signatures_valid: bool | None
    signatures: list[dict[str, Any]]
    checked_by: list[str] = Field(
        default_factory=list,
        description="Who checked the signatures: pyHanko (ECDSA) or OpenSSL 3 libcrypto (SM2, "
                    "which pyHanko does not support); each signature names its `algorithm`.")
    signatures_checked_at: str | None = Field(
        default=None, json_schema_extra={"format": "date-time"},
        description="When these signatures were validated: the filed document's report is "
                    "computed once (revalidated after a certificate revocation and at least "
                    "every 30 days), other uploads' are cached for an hour.")
    filed_sha256: str | None
    uploaded_sha256: str
    uploaded_size: int
    conclusion: dict[str, Any]
