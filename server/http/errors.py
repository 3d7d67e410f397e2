"""Every error, ours or Sanic's or unexpected, answered in the API.md format."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field

from sanic import Request, response
from sanic.exceptions import SanicException
from sanic.handlers import ErrorHandler

from server.domain.errors import DomainError, FieldProblems, IllegalTransition, RuleRefused
from server.errors import ApiError
from server.http import hygiene
from server.http.outages import DATABASE, KEY_VALUE, outage_of
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

_OUTAGE_MESSAGES = {
    DATABASE: "数据库暂不可用，请稍后重试",
    KEY_VALUE: "缓存服务暂不可用，请稍后重试",
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


@dataclass(frozen=True)
class Problem:
    """What went wrong, before it is rendered in one of the two error formats."""

    status: int
    code: str
    message: str
    details: dict | None = None
    headers: dict[str, str] = field(default_factory=dict)


# Our codes → RFC 6749 §5.2 error codes, for the token endpoint only.
_OAUTH2_CODES = {"invalid_client": "invalid_client", "invalid_scope": "invalid_scope",
                 "unsupported_grant_type": "unsupported_grant_type",
                 "invalid_grant": "invalid_grant", "unauthorized_client": "unauthorized_client",
                 "rate_limited": "temporarily_unavailable"}


def oauth2_error_response(problem: Problem, request_id: str) -> response.HTTPResponse:
    """RFC 6749 §5.2: ``{error, error_description}``, what OAuth2 client libraries read.

    The one exception to the API.md envelope: the registry's token endpoint.
    """
    if problem.status >= 500:
        error = "server_error"
    else:
        error = _OAUTH2_CODES.get(problem.code, "invalid_request")
    description = problem.message
    fields = (problem.details or {}).get("fields")
    if isinstance(fields, dict) and fields:
        # §5.2 has no place for per-field reasons: they go into the description
        description += "：" + "；".join(f"{name} {reason}" for name, reason in fields.items())
    body: dict = {"error": error, "error_description": description}
    hdrs = {"X-Request-ID": request_id, **problem.headers}
    return response.json(body, status=problem.status, headers=hdrs, ensure_ascii=False)


def _error_format(request: Request | None) -> str:
    route = getattr(request, "route", None) if request is not None else None
    return getattr(route.ctx, "error_format", "envelope") if route is not None else "envelope"


class JsonErrorHandler(ErrorHandler):
    def default(self, request: Request, exception: BaseException) -> response.HTTPResponse:
        if request is not None and isinstance(exception, SanicException) \
                and exception.status_code in (404, 405) and request.method == "OPTIONS":
            # A CORS preflight: no route serves OPTIONS, so the router refused it.
            answer = hygiene.preflight(request.app, request.app.ctx.settings, request)
            if answer is not None:
                return answer
        problem = self._problem(request, exception)
        rid = request_id_of(request)
        if _error_format(request) == "oauth2":
            out = oauth2_error_response(problem, rid)
        else:
            out = error_response(problem.status, problem.code, problem.message, rid,
                                 problem.details, problem.headers)
        if request is not None:
            settings = getattr(request.app.ctx, "settings", None)
            if settings is not None:
                hygiene.decorate(settings, request, out)
        return out

    def _problem(self, request: Request | None, exception: BaseException) -> Problem:
        if isinstance(exception, ApiError):
            return Problem(exception.status, exception.code, exception.message,
                           exception.details, dict(exception.headers or {}))
        if isinstance(exception, DomainError):
            status = 400 if isinstance(exception, FieldProblems) else (
                409 if isinstance(exception, IllegalTransition) else (
                    422 if isinstance(exception, RuleRefused) else 400))
            return Problem(status, exception.code, exception.message, exception.details)
        if isinstance(exception, SanicException) and 400 <= exception.status_code < 500:
            status = exception.status_code
            code, message = _SANIC_CODES.get(status, ("bad_request", "请求有误"))
            if status == 400 and "json" in str(exception).lower():
                code, message = "invalid_json", "请求体不是有效的 JSON"
            details = None
            if status == 413 and request is not None:
                details = {"limit_bytes": request.app.config.REQUEST_MAX_SIZE}
            headers = {}
            if status == 405 and getattr(exception, "headers", None):
                headers = {k: v for k, v in exception.headers.items() if k.lower() == "allow"}
            return Problem(status, code, message, details, headers)
        if isinstance(exception, SanicException) and exception.status_code == 503:
            return Problem(503, "service_unavailable", "服务暂不可用")
        outage = outage_of(exception)
        if outage is not None:
            log.warning("dependency unavailable", extra={
                "code": outage, "error": type(exception).__name__,
                "path": request.path if request else None})
            return Problem(503, outage, _OUTAGE_MESSAGES[outage], None, {"Retry-After": "2"})
        if getattr(exception, "quiet", False):
            # The client went away (RequestCancelled): nobody reads this answer.
            return Problem(499, "client_closed_request", "客户端已断开")
        log.error("unhandled exception", exc_info=exception,
                  extra={"path": request.path if request else None})
        return Problem(500, "internal_error", "服务器内部错误")

    def log(self, request: Request, exception: BaseException) -> None:
        # Logged (once, with the stack) in default() for unexpected errors only.
        return None
