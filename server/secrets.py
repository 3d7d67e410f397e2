"""The service's own secrets: from configuration, or generated for development.

Production must configure every secret (``Settings.check`` refuses to start
otherwise). In development, missing ones are generated once into
``DATA_DIR/secrets`` (mode 0600) so a fresh laptop needs no set-up and a
restart keeps decrypting what it stored.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from server.config import ConfigError, Settings


@dataclass(frozen=True)
class ServiceSecrets:
    identity_encryption_key: bytes  # 32 bytes, AES-256-GCM
    identity_index_key: bytes  # 32 bytes, HMAC-SHA256 blind index
    identity_sm4_key: bytes | None  # 16 bytes, SM4-GCM (None: not configured, production)
    token_signing_key_pem: bytes  # ES256 private key
    token_key_id: str
    pki_passphrase: bytes


def _b64key(name: str, value: str, size: int = 32) -> bytes:
    try:
        raw = base64.b64decode(value, validate=True)
    except ValueError:
        raise ConfigError(f"{name}: must be base64 of {size} random bytes") from None
    if len(raw) != size:
        raise ConfigError(f"{name}: must be base64 of exactly {size} bytes, got {len(raw)}")
    return raw


def _write_private(path: Path, data: bytes) -> None:
    """Create a file readable by its owner only; losing a race to another process is fine."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def _dev_values(settings: Settings) -> dict[str, str]:
    path = settings.secrets_dir / "dev-secrets.json"
    if not path.exists():
        values = {
            "identity_encryption_key": base64.b64encode(secrets.token_bytes(32)).decode(),
            "identity_index_key": base64.b64encode(secrets.token_bytes(32)).decode(),
            "pki_passphrase": secrets.token_urlsafe(24),
            "token_key_id": "dev-" + secrets.token_hex(4),
        }
        _write_private(path, json.dumps(values).encode())
    return json.loads(path.read_text())


def _dev_token_key(settings: Settings) -> bytes:
    path = settings.secrets_dir / "token-es256.pem"
    if not path.exists():
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        _write_private(path, pem)
    return path.read_bytes()


def _dev_sm4_key(settings: Settings) -> str:
    """A file of its own rather than a new entry in ``dev-secrets.json``: that file exists
    on machines set up before SM4, and rewriting it while another worker reads it could
    give two processes two different keys. Created once with O_EXCL, like the others."""
    path = settings.secrets_dir / "identity-sm4.key"
    if not path.exists():
        _write_private(path, base64.b64encode(secrets.token_bytes(16)))
    return path.read_text().strip()


def load_secrets(settings: Settings) -> ServiceSecrets:
    """Configured secrets win; development fills the gaps from ``DATA_DIR/secrets``."""
    dev = {} if settings.production else _dev_values(settings)
    enc = settings.identity_encryption_key or dev.get("identity_encryption_key")
    idx = settings.identity_index_key or dev.get("identity_index_key")
    if not enc or not idx:
        raise ConfigError("IDENTITY_ENCRYPTION_KEY: required when APP_ENV=production")
    if settings.token_signing_key_file:
        try:
            pem = Path(settings.token_signing_key_file).read_bytes()
        except OSError as exc:
            raise ConfigError(f"TOKEN_SIGNING_KEY_FILE: cannot read it ({exc.strerror})") from None
    else:
        pem = _dev_token_key(settings)
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except ValueError:
        raise ConfigError("TOKEN_SIGNING_KEY_FILE: not an unencrypted PEM private key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ConfigError("TOKEN_SIGNING_KEY_FILE: must be an EC P-256 key (ES256)")
    sm4 = settings.identity_sm4_key or (None if settings.production else _dev_sm4_key(settings))
    passphrase = settings.pki_passphrase or dev.get("pki_passphrase")
    assert passphrase
    return ServiceSecrets(
        identity_encryption_key=_b64key("IDENTITY_ENCRYPTION_KEY", enc),
        identity_index_key=_b64key("IDENTITY_INDEX_KEY", idx),
        identity_sm4_key=_b64key("IDENTITY_SM4_KEY", sm4, 16) if sm4 else None,
        token_signing_key_pem=pem,
        token_key_id=settings.token_key_id or dev.get("token_key_id") or "default",
        pki_passphrase=passphrase.encode(),
    )
