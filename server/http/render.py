"""JSON responses with UTF-8 text as it is (Chinese stays readable)."""

from __future__ import annotations

from typing import Any

import orjson
from sanic import response


def _dumps(data: Any, **_: Any) -> str:
    return orjson.dumps(data, default=str).decode()


def json(data: Any, status: int = 200, headers: dict[str, str] | None = None
         ) -> response.HTTPResponse:
    return response.json(data, status=status, headers=headers, dumps=_dumps)
