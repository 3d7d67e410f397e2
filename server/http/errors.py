"""Every error, ours or Sanic's or unexpected, answered in the API.md format."""

from __future__ import annotations

import logging
import secrets

from sanic import Request, response
from sanic.exceptions import SanicException
from sanic.handlers import ErrorHandler

from server.domain.errors import DomainError, FieldProblems, IllegalTransition, RuleRefused
from server.errors import ApiError
from server.logs import request_id_var

log = logging.getLogger("server.errors")

# Sanic's own exceptions by status: a stable code and a Chinese message.
_SANIC_CODES: dict[int, tuple[str, str]] = {
    400: ("bad_request", "请求格式有误"),
    401: ("unauthenticated", "请先登录"),
    403: ("forbidden", "无权进行此操作"),
    404: ("not_found", "资源不存在"),
    405: ("method_not_allowed", "不支持该请求方法"),
    408: ("request_timeout", "请求超时"),
    413: ("payload_too_large", "请求内容过大"),
    416: ("range_not_satisfiable", "请求范围无效"),
    503: ("service_unavailable", "服务暂不可用"),
}


def request_id_of(request: Request | None) -> str:
    rid = getattr(getattr(request, "ctx", None), "request_id", None) if request else None
    if rid:
        return rid
    rid = request_id_var.get()
    return rid if rid != "-" else secrets.token_hex(8)


def error_response(status: int, code: str, message: str, request_id: str,
                   details: dict | None = None,
                   headers: dict[str, str] | None = None) -> response.HTTPResponse:
    body = {"error": {"code": code, "message": message, "details": details or {}},
            "request_id": request_id}
    hdrs = {"X-Request-ID": request_id, **(headers or {})}
    return response.json(body, status=status, headers=hdrs, ensure_ascii=False)


class JsonErrorHandler(ErrorHandler):
    def default(self, request: Request, exception: BaseException) -> response.HTTPResponse:
        rid = request_id_of(request)
        if isinstance(exception, ApiError):
            return error_response(exception.status, exception.code, exception.message, rid,
                                  exception.details, exception.headers)
        if isinstance(exception, DomainError):
            status = 400 if isinstance(exception, FieldProblems) else (
                409 if isinstance(exception, IllegalTransition) else (
                    422 if isinstance(exception, RuleRefused) else 400))
            return error_response(status, exception.code, exception.message, rid,
                                  exception.details)
        if isinstance(exception, SanicException) and 400 <= exception.status_code < 500:
            status = exception.status_code
            code, message = _SANIC_CODES.get(status, ("bad_request", "请求有误"))
            text = str(exception)
            if status == 400 and "json" in text.lower():
                code, message = "invalid_json", "请求体不是有效的 JSON"
            headers = {}
            if status == 405 and getattr(exception, "headers", None):
                headers = {k: v for k, v in exception.headers.items() if k.lower() == "allow"}
            return error_response(status, code, message, rid, headers=headers)
        if isinstance(exception, SanicException) and exception.status_code == 503:
            return error_response(503, "service_unavailable", "服务暂不可用", rid)
        if getattr(exception, "quiet", False):
            # The client went away (RequestCancelled): nobody reads this answer.
            return error_response(499, "client_closed_request", "客户端已断开", rid)
        log.error("unhandled exception", exc_info=exception,
                  extra={"path": request.path if request else None})
        return error_response(500, "internal_error", "服务器内部错误", rid)

    def log(self, request: Request, exception: BaseException) -> None:
        # Logged (once, with the stack) in default() for unexpected errors only.
        return None
