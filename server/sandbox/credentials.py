"""The sandbox FaceID's SecretId/SecretKey: configured, or derived from the dev secrets.

Derived rather than written down anywhere, so nothing usable is ever committed
and every worker (and a restart) computes the same pair from ``DATA_DIR/secrets``.
The derivation is a one-way HMAC with its own label, so the pair reveals
nothing of the key it comes from.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from server.config import Settings
from server.secrets import ServiceSecrets

_LABEL = b"sandbox:tencent-faceid:v1"


def sandbox_tencent_credentials(settings: Settings, secrets: ServiceSecrets) -> tuple[str, str]:
    """(SecretId, SecretKey) the sandbox accepts and the sandbox-mode adapter signs with."""
    if settings.sandbox_tencent_secret_id and settings.sandbox_tencent_secret_key:
        return settings.sandbox_tencent_secret_id, settings.sandbox_tencent_secret_key
    digest = hmac.new(secrets.identity_index_key, _LABEL, hashlib.sha256).digest()
    secret_id = "AKIDsandbox" + digest[:10].hex()
    secret_key = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    return secret_id, secret_key
