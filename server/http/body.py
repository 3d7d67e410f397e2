"""Reading request bodies: a JSON object or a clear 400, never a 500."""

from __future__ import annotations

from typing import Any

from sanic import Request

from server.http.validation import parse_json


def json_object(request: Request, *, optional: bool = False) -> dict[str, Any]:
    """For the few routes without a body model (the sandbox, the token endpoint's JSON)."""
    return parse_json(request.body, optional=optional)
