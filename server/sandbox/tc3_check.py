"""Server-side check of a TC3-HMAC-SHA256 request, as Tencent Cloud API 3.0 does it.

The order follows Tencent's: the authorization's form, then the timestamp
window (5 minutes either way: ``AuthFailure.SignatureExpire``), then the
SecretId, then the signature itself (``AuthFailure.SignatureFailure``).
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping

from server.adapters.faceid.signing import (
    tc3_canonical_request,
    tc3_date,
    tc3_signature,
    tc3_string_to_sign,
)

WINDOW_S = 300

_AUTHORIZATION = re.compile(
    r"^TC3-HMAC-SHA256 Credential=(?P<id>[^/\s]+)/(?P<date>\d{4}-\d{2}-\d{2})/"
    r"(?P<service>[a-z0-9]+)/tc3_request,\s*SignedHeaders=(?P<signed>[a-z0-9;-]+),\s*"
    r"Signature=(?P<sig>[0-9a-f]{64})$")


class TencentApiError(Exception):
    """An error answered in Tencent's body: ``{"Response": {"Error": {Code, Message}}}``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code)
        self.code = code
        self.message = message


def verify_tc3(*, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes,
               credentials: Mapping[str, str], service: str, now: float) -> str:
    """Raise :class:`TencentApiError` unless the request is signed right; returns the SecretId.

    ``headers`` must look names up case-insensitively (Sanic's do).
    """
    match = _AUTHORIZATION.match(headers.get("authorization", "").strip())
    if match is None:
        raise TencentApiError("AuthFailure.InvalidAuthorization",
                              "The Authorization header is not a valid TC3-HMAC-SHA256 one.")
    try:
        timestamp = int(headers.get("x-tc-timestamp", ""))
    except ValueError:
        raise TencentApiError("MissingParameter",
                              "The request is missing a valid X-TC-Timestamp.") from None
    if abs(now - timestamp) > WINDOW_S:
        raise TencentApiError("AuthFailure.SignatureExpire",
                              "Signature expired: the timestamp is more than 5 minutes "
                              "from the server's time.")
    secret_key = credentials.get(match["id"])
    if secret_key is None:
        raise TencentApiError("AuthFailure.SecretIdNotFound", "The SecretId is not found.")
    signed = match["signed"].split(";")
    if "content-type" not in signed or "host" not in signed:
        raise TencentApiError("AuthFailure.InvalidAuthorization",
                              "SignedHeaders must include content-type and host.")
    if match["date"] != tc3_date(timestamp) or match["service"] != service:
        raise _signature_failure()
    signed_headers = {}
    for name in signed:
        value = headers.get(name)
        if value is None:
            raise _signature_failure()
        signed_headers[name] = value
    canonical, _ = tc3_canonical_request(method=method, uri=path, query=query,
                                         headers=signed_headers, body=body)
    expected = tc3_signature(secret_key, tc3_string_to_sign(canonical, timestamp, service),
                             timestamp, service)
    if not hmac.compare_digest(expected, match["sig"]):
        raise _signature_failure()
    return match["id"]


def _signature_failure() -> TencentApiError:
    return TencentApiError("AuthFailure.SignatureFailure",
                           "The provided credentials could not be validated. "
                           "Please check your signature is correct.")
