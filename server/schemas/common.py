"""Shapes shared by every API: the error envelope, lists."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ErrorBody(BaseModel):
    code: str = Field(description="稳定的 snake_case 错误码，客户端据此分支",
                      examples=["invalid_input"])
    message: str = Field(description="给人看的中文说明", examples=["输入有误"])
    details: dict[str, Any] = Field(
        default_factory=dict,
        description="补充信息；400 时 `fields` 按字段路径给出原因，如 "
        "`{\"fields\": {\"terms.price_fen\": \"应为整数\"}}`")


class ErrorEnvelope(BaseModel):
    """Every error but the token endpoint's (RFC 6749 §5.2) has this shape."""

    error: ErrorBody
    request_id: str = Field(examples=["5f2c0a9e1b7d3c48"])


class Answer(BaseModel):
    """Response models allow fields added later: clients must ignore unknown ones."""

    model_config = ConfigDict(extra="allow")
