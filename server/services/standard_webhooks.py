"""The Standard Webhooks wire format (https://www.standardwebhooks.com): secrets, signatures,
headers and the payload envelope.

A secret is ``whsec_`` + base64 of 32 random bytes; the HMAC key is those bytes.
Each attempt carries ``webhook-id`` (the same on every retry of one message, so
receivers can drop duplicates), ``webhook-timestamp`` (Unix seconds of this
attempt, so receivers can refuse replays) and ``webhook-signature: v1,<base64
HMAC-SHA256(key, "{id}.{timestamp}.{body}")>``. Any Standard Webhooks library
verifies it as it is.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from datetime import datetime
from typing import Any

from server.domain import clock

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
USER_AGENT = "house-esign-webhooks/1"


class BadSecret(ValueError):
    """A stored endpoint secret that is not a ``whsec_`` one."""


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    if not secret.startswith(SECRET_PREFIX):
        raise BadSecret("the endpoint secret is not a whsec_ secret")
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        raise BadSecret("the endpoint secret is not valid base64") from None
    if len(key) < 24:
        raise BadSecret("the endpoint secret is shorter than 24 bytes")
    return key


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret_key(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode()


def headers(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, msg_id, timestamp, body),
    }


def message_id(delivery_id: int) -> str:
    return f"msg_{delivery_id}"


def envelope(event_type: str, occurred_at: datetime, data: dict[str, Any]) -> dict[str, Any]:
    """The payload shape the standard recommends: ``{type, timestamp, data}``."""
    return {"type": event_type, "timestamp": clock.rfc3339(occurred_at), "data": data}
