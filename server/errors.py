"""Errors the API answers with, in the one format of API.md.

Services raise these; the HTTP layer turns them into
``{"error": {"code", "message", "details"}, "request_id"}``. The code is a
stable snake_case word clients switch on; the message is Chinese for people.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    status = 400
    code = "bad_request"
    message = "请求有误"

    def __init__(self, message: str | None = None, *, code: str | None = None,
                 details: dict[str, Any] | None = None, status: int | None = None,
                 headers: dict[str, str] | None = None) -> None:
        self.message = message or self.message
        self.code = code or self.code
        self.details = details or {}
        if status is not None:
            self.status = status
        self.headers = headers or {}
        super().__init__(f"{self.code}: {self.message}")

    def body(self, request_id: str) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details},
                "request_id": request_id}


class InvalidInput(ApiError):
    """400 with per-field reasons: ``details = {"fields": {"price_fen": "必须为正整数"}}``."""

    status = 400
    code = "invalid_input"
    message = "输入有误"

    def __init__(self, fields: dict[str, str], message: str | None = None,
                 code: str | None = None) -> None:
        super().__init__(message, code=code, details={"fields": fields})
        self.fields = fields


class Unauthenticated(ApiError):
    status = 401
    code = "unauthenticated"
    message = "请先登录"


class Forbidden(ApiError):
    status = 403
    code = "forbidden"
    message = "无权进行此操作"


class NotFound(ApiError):
    status = 404
    code = "not_found"
    message = "资源不存在"


class Conflict(ApiError):
    status = 409
    code = "conflict"
    message = "状态冲突"


class InvalidState(Conflict):
    code = "invalid_state"
    message = "当前状态不允许此操作"


class VersionMismatch(ApiError):
    status = 412
    code = "version_mismatch"
    message = "内容已被修改，请刷新后重试"


class PayloadTooLarge(ApiError):
    status = 413
    code = "payload_too_large"
    message = "请求内容过大"


class BusinessRuleRefused(ApiError):
    status = 422
    code = "refused"
    message = "业务规则不允许"


class RateLimited(ApiError):
    status = 429
    code = "rate_limited"
    message = "请求过于频繁，请稍后再试"


class UpstreamBadAnswer(ApiError):
    status = 502
    code = "upstream_bad_answer"
    message = "第三方服务返回了无法识别的结果"


class UpstreamUnavailable(ApiError):
    status = 503
    code = "upstream_unavailable"
    message = "第三方服务暂不可用"


class UpstreamTimeout(ApiError):
    status = 504
    code = "upstream_timeout"
    message = "第三方服务响应超时"


class ServiceUnavailable(ApiError):
    status = 503
    code = "service_unavailable"
    message = "服务暂不可用"


class TimestampServiceDown(ServiceUnavailable):
    """The trusted timestamp authority did not give a usable token: nothing was signed."""

    code = "timestamp_unavailable"
    message = "可信时间戳服务暂不可用，未作任何更改，请稍后重试"

    def __init__(self) -> None:
        super().__init__(headers={"Retry-After": "30"})
