"""Request signing of the face-verification providers, as pure functions.

Kept apart from the HTTP code so the official test vectors (see
``tests/face/test_signing_vectors.py``) check exactly what the adapters send,
and so the sandbox verifies Tencent signatures with the same canonical form.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import quote


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


# --- Tencent Cloud API 3.0: TC3-HMAC-SHA256 ---------------------------------

TC3_ALGORITHM = "TC3-HMAC-SHA256"


def tc3_date(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")


def tc3_canonical_request(*, method: str, uri: str, query: str, headers: Mapping[str, str],
                          body: bytes) -> tuple[str, str]:
    """Returns (canonical request, signed-header list); ``headers`` are the ones to sign.

    Names and values are lowercased and trimmed, as Tencent canonicalises them.
    """
    items = sorted((k.lower(), v.strip().lower()) for k, v in headers.items())
    canonical_headers = "".join(f"{k}:{v}\n" for k, v in items)
    signed = ";".join(k for k, _ in items)
    return (f"{method}\n{uri}\n{query}\n{canonical_headers}\n{signed}\n{sha256_hex(body)}",
            signed)


def tc3_string_to_sign(canonical_request: str, timestamp: int, service: str) -> str:
    scope = f"{tc3_date(timestamp)}/{service}/tc3_request"
    return (f"{TC3_ALGORITHM}\n{timestamp}\n{scope}\n"
            f"{sha256_hex(canonical_request.encode())}")


def tc3_signature(secret_key: str, string_to_sign: str, timestamp: int, service: str) -> str:
    key = _hmac(("TC3" + secret_key).encode(), tc3_date(timestamp))
    key = _hmac(key, service)
    key = _hmac(key, "tc3_request")
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def tc3_authorization(*, secret_id: str, secret_key: str, service: str, timestamp: int,
                      canonical_request: str, signed_headers: str) -> str:
    sts = tc3_string_to_sign(canonical_request, timestamp, service)
    sig = tc3_signature(secret_key, sts, timestamp, service)
    return (f"{TC3_ALGORITHM} Credential={secret_id}/{tc3_date(timestamp)}/{service}/"
            f"tc3_request, SignedHeaders={signed_headers}, Signature={sig}")


# --- Alibaba Cloud V3: ACS3-HMAC-SHA256 --------------------------------------

ACS3_ALGORITHM = "ACS3-HMAC-SHA256"


def acs3_percent_encode(value: str) -> str:
    """RFC 3986: everything but unreserved characters, space as %20 (not +)."""
    return quote(value, safe="-_.~")


def acs3_canonical_query(params: Mapping[str, str]) -> str:
    return "&".join(f"{acs3_percent_encode(k)}={acs3_percent_encode(v)}"
                    for k, v in sorted(params.items()))


def acs3_canonical_request(*, method: str, uri: str, query: str,
                           headers: Mapping[str, str], payload_sha256: str) -> tuple[str, str]:
    """Returns (canonical request, signed-header list); ``headers`` are the ones to sign."""
    lowered = sorted((k.lower(), v.strip()) for k, v in headers.items())
    canonical_headers = "".join(f"{k}:{v}\n" for k, v in lowered)
    signed = ";".join(k for k, _ in lowered)
    return (f"{method}\n{uri}\n{query}\n{canonical_headers}\n{signed}\n{payload_sha256}",
            signed)


def acs3_signature(secret: str, canonical_request: str) -> str:
    sts = f"{ACS3_ALGORITHM}\n{sha256_hex(canonical_request.encode())}"
    return hmac.new(secret.encode(), sts.encode(), hashlib.sha256).hexdigest()


def acs3_authorization(access_key_id: str, signed_headers: str, signature: str) -> str:
    return (f"{ACS3_ALGORITHM} Credential={access_key_id},SignedHeaders={signed_headers},"
            f"Signature={signature}")


# --- WeChat 人脸核身 v2: cert_hash --------------------------------------------


def wechat_cert_hash(cert_type: str, cert_name: str, cert_no: str) -> str:
    """Each field base64-encoded, joined as a query string, then lowercase hex SHA-256."""
    def b64(v: str) -> str:
        return base64.b64encode(v.encode()).decode()

    joined = f"cert_type={b64(cert_type)}&cert_name={b64(cert_name)}&cert_no={b64(cert_no)}"
    return sha256_hex(joined.encode())
