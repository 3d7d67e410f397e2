"""Encryption at rest for ID numbers and phones, and the keyed blind index to find them.

AES-256-GCM with a random nonce: the same ID number encrypts differently
every time, so the ciphertext says nothing. Lookups use a separate key's
HMAC-SHA256 (the blind index): equal IDs give equal indexes, but without the
key an index cannot be reversed by trying the ~10^10 plausible ID numbers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = b"\x01"


class IdentityCipher:
    def __init__(self, encryption_key: bytes, index_key: bytes) -> None:
        self._aead = AESGCM(encryption_key)
        self._index_key = index_key

    def encrypt(self, plaintext: str, purpose: str = "id") -> str:
        nonce = os.urandom(12)
        ct = self._aead.encrypt(nonce, plaintext.encode(), purpose.encode())
        return base64.urlsafe_b64encode(_VERSION + nonce + ct).decode()

    def decrypt(self, token: str, purpose: str = "id") -> str:
        raw = base64.urlsafe_b64decode(token.encode())
        if raw[:1] != _VERSION:
            raise ValueError("unknown ciphertext version")
        return self._aead.decrypt(raw[1:13], raw[13:], purpose.encode()).decode()

    def seal(self, data: bytes, purpose: str) -> bytes:
        """Encrypt bytes bound to ``purpose`` (AES-GCM associated data): a record moved
        to another purpose or key does not decrypt."""
        nonce = os.urandom(12)
        return _VERSION + nonce + self._aead.encrypt(nonce, data, purpose.encode())

    def unseal(self, sealed: bytes, purpose: str) -> bytes:
        if sealed[:1] != _VERSION:
            raise ValueError("unknown ciphertext version")
        return self._aead.decrypt(sealed[1:13], sealed[13:], purpose.encode())

    def index(self, id_number: str) -> str:
        return hmac.new(self._index_key, id_number.encode(), hashlib.sha256).hexdigest()

    def keyed_hash(self, value: str, purpose: str) -> str:
        """A stable pseudonym of ``value`` for one purpose (e.g. a certificate serialNumber)."""
        return hmac.new(self._index_key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()
