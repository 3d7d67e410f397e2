"""``@operation``: what a route takes and answers, declared once, validated and documented.

A handler says which models describe its path parameters, query, headers
and body, and which answers and errors it gives. The wrapper validates the
request against them before the handler runs (a 400 in the API's error
format, never a 500) and passes the parsed values in as keyword arguments
(``body=``, ``query=``, the header's name); :mod:`server.http.openapi`
builds the OpenAPI document from the same declarations.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from pydantic import BaseModel, TypeAdapter
from sanic import Request

from server.http.body import json_body
from server.http.validation import parse_json, query_model, validate, validate_value

Handler = Callable[..., Awaitable[Any]]
ATTRIBUTE = "__api_operation__"


@dataclass(frozen=True)
class Header:
    name: str
    type: Any
    description: str = ""
    required: bool = False


@dataclass
class Operation:
    summary: str
    description: str | None = None
    tag: str | None = None
    path: dict[str, Any] = field(default_factory=dict)
    query: type[BaseModel] | None = None
    headers: dict[str, Header] = field(default_factory=dict)
    body: type[BaseModel] | None = None
    body_optional: bool = False
    # Bodies that are not JSON objects: media type -> JSON schema.
    raw_body: dict[str, dict[str, Any]] | None = None
    # status -> a model, a media type ("application/pdf", "text/html") or None (no body)
    responses: dict[int, Any] = field(default_factory=dict)
    # status -> the error codes this operation answers with at that status
    errors: dict[int, str] = field(default_factory=dict)
    # None, "bearer" (users), "staff", or (scheme, scope): ("registry", …), ("agency", …)
    security: str | tuple[str, str] | None = None
    # Models the document needs besides body and answers (e.g. a form body's shape).
    models: tuple[type[BaseModel], ...] = ()
    # False: documented only; the handler checks its own input (e.g. answers 404 for any
    # malformed verification code, so that a malformed one tells nothing more).
    validate: bool = True
    adapters: dict[str, TypeAdapter] = field(default_factory=dict)


def operation(summary: str, **kwargs: Any) -> Callable[[Handler], Handler]:
    op = Operation(summary, **kwargs)
    op.adapters = {name: TypeAdapter(kind) for name, kind in op.path.items()}
    header_adapters = {kw: TypeAdapter(h.type) for kw, h in op.headers.items()}

    def decorate(handler: Handler) -> Handler:
        if not op.validate:
            setattr(handler, ATTRIBUTE, op)
            return handler

        @wraps(handler)
        async def wrapper(request: Request, *args: Any, **params: Any) -> Any:
            for name, adapter in op.adapters.items():
                if name in params:
                    params[name] = validate_value(adapter, name, params[name])
            for kw, header in op.headers.items():
                value = request.headers.get(header.name)
                params[kw] = None if value is None else validate_value(
                    header_adapters[kw], header.name, value)
            if op.query is not None:
                params["query"] = query_model(op.query, request.args)
            if op.body is not None:
                raw = json_body(request, optional=op.body_optional)
                params["body"] = validate(op.body, parse_json(raw, optional=op.body_optional))
            return await handler(request, *args, **params)

        setattr(wrapper, ATTRIBUTE, op)
        return wrapper

    return decorate


def operation_of(handler: Any) -> Operation | None:
    return getattr(handler, ATTRIBUTE, None)
