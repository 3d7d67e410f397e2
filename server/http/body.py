"""Reading request bodies: a JSON object or a clear 4xx, never a 500.

Only a body that says it is JSON (``application/json`` or a ``+json`` type) is
parsed as JSON: a PDF, a form or an untyped body sent to a JSON route is 415,
not fed to the parser. How large a body may be is not decided here: Sanic
counts the bytes actually read (``Content-Length`` or chunked alike) against
``MAX_BODY_BYTES`` before any handler runs (see :mod:`server.app`).
"""

from __future__ import annotations

from typing import Any

from sanic import Request

from server.errors import ApiError, PayloadTooLarge
from server.http.validation import parse_json


def media_type(request: Request) -> str:
    """The request's media type, lower case, without parameters ("" when absent)."""
    return (request.headers.get("content-type") or "").split(";")[0].strip().lower()


def is_json(ctype: str) -> bool:
    return ctype == "application/json" or (ctype.startswith("application/")
                                           and ctype.endswith("+json"))


def unsupported_media_type(accepted: list[str]) -> ApiError:
    return ApiError(f"请求体类型应为 {', '.join(accepted)}", code="unsupported_media_type",
                    status=415, details={"accepted": accepted})


def json_object(request: Request, *, optional: bool = False) -> dict[str, Any]:
    """For the few routes without a body model (the sandbox, the token endpoint's JSON)."""
    return parse_json(json_body(request, optional=optional), optional=optional)


def json_body(request: Request, *, optional: bool = False) -> bytes:
    """The raw body of a route that takes JSON: refused (415) unless it says it is JSON.

    An empty body passes through, for ``optional`` bodies and the "empty" 400.
    """
    raw = request.body or b""
    if raw.strip() and not is_json(media_type(request)):
        raise unsupported_media_type(["application/json"])
    return raw


async def read_streamed(request: Request, limit: int) -> bytes:
    """The body of a ``stream=True`` route, refused (413) as soon as it passes ``limit``.

    A declared ``Content-Length`` above the limit is refused before reading
    anything; a chunked body is counted chunk by chunk as it arrives.
    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.isascii() and declared.isdigit() \
            and int(declared) > limit:
        raise PayloadTooLarge(details={"limit_bytes": limit})
    parts: list[bytes] = []
    size = 0
    while (chunk := await request.stream.read()) is not None:
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(details={"limit_bytes": limit})
        parts.append(chunk)
    return b"".join(parts)
