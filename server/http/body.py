"""Reading request bodies: a JSON object or a clear 400, never a 500."""

from __future__ import annotations

from typing import Any

import orjson
from sanic import Request

from server.errors import ApiError


def json_object(request: Request, *, optional: bool = False) -> dict[str, Any]:
    raw = request.body or b""
    if not raw.strip():
        if optional:
            return {}
        raise ApiError("请求体不能为空", code="invalid_json")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ApiError("请求体不是有效的 JSON", code="invalid_json") from None
    if not isinstance(data, dict):
        raise ApiError("请求体应为 JSON 对象", code="invalid_json")
    return data
