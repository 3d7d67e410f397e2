"""Schemathesis hooks (SCHEMATHESIS_HOOKS): send generated PDF-upload bodies as raw bytes."""

from __future__ import annotations

from typing import Any

import schemathesis
from schemathesis.transport.serialization import serialize_binary


@schemathesis.serializer("application/pdf")
def pdf(ctx: Any, value: Any) -> dict[str, Any]:
    return {"data": serialize_binary(value)}
