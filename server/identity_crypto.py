"""Encryption at rest for ID numbers and phones, and the keyed blind index to find them.

AEAD with a random nonce: the same ID number encrypts differently every time, so the
ciphertext says nothing. Lookups use a separate key's HMAC-SHA256 (the blind index):
equal IDs give equal indexes, but without the key an index cannot be reversed by
trying the ~10^10 plausible ID numbers. The index does not depend on the cipher, so
re-encrypting a row never moves it in a lookup.

Two ciphers, chosen per deployment (``SIGNING_SUITE``) for new rows, while every row
says in its first bytes how it was written, so rows of both kinds are read side by side
and ``python -m server reencrypt`` can convert them at leisure:

    version 1   01 | nonce(12) | ciphertext | tag(16)               AES-256-GCM
    version 2   02 | alg(1) | key id(4) | nonce(12) | ciphertext | tag(16)

Version 1 is what the service always wrote; it stays the format of AES rows, so the
default deployment's rows are byte-for-byte what an older release reads. Version 2
names the algorithm (``02`` = SM4-GCM, GB/T 32907 in GCM mode as RFC 8998 uses it;
``01`` = AES-256-GCM) and the key (the first 4 bytes of an HMAC of the key itself), and
its 6 header bytes are authenticated with the purpose, so a row cannot be relabelled.
A row under a key this process does not have fails with :class:`KeyNotConfigured`
naming the key id, never with a silent wrong answer.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

if TYPE_CHECKING:
    from server.config import Settings
    from server.secrets import ServiceSecrets

Algorithm = Literal["aes-256-gcm", "sm4-gcm"]
AES_256_GCM: Algorithm = "aes-256-gcm"
SM4_GCM: Algorithm = "sm4-gcm"

_V1 = 0x01
_V2 = 0x02
_ALG_CODES: dict[Algorithm, int] = {AES_256_GCM: 0x01, SM4_GCM: 0x02}
_ALG_NAMES: dict[int, Algorithm] = {v: k for k, v in _ALG_CODES.items()}
_NONCE = 12
_TAG = 16


class CiphertextError(ValueError):
    """The bytes are not a ciphertext of ours (unknown version or algorithm, truncated)."""


class KeyNotConfigured(CiphertextError):
    """The row was written under an algorithm or key this process is not given."""


class _Aead(Protocol):
    def encrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes: ...
    def decrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes: ...


class Sm4Gcm:
    """SM4 in GCM mode with the interface of pyca's ``AESGCM`` (ciphertext || 16-byte tag).

    pyca/cryptography has SM4 (``algorithms.SM4``) and GCM but no AEAD class joining them;
    the OpenSSL 3 underneath does the work, checked against RFC 8998's SM4-GCM vector in
    the tests.
    """

    def __init__(self, key: bytes) -> None:
        if len(key) != 16:
            raise ValueError("an SM4 key is 16 bytes")
        self._key = key

    def encrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes:
        enc = Cipher(algorithms.SM4(self._key), modes.GCM(nonce)).encryptor()
        if associated_data:
            enc.authenticate_additional_data(associated_data)
        return enc.update(data) + enc.finalize() + enc.tag

    def decrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes:
        if len(data) < _TAG:
            raise InvalidTag()
        dec = Cipher(algorithms.SM4(self._key), modes.GCM(nonce, data[-_TAG:])).decryptor()
        if associated_data:
            dec.authenticate_additional_data(associated_data)
        return dec.update(data[:-_TAG]) + dec.finalize()


def key_id(algorithm: Algorithm, key: bytes) -> bytes:
    """4 bytes that tell keys apart in a row's header without revealing them: an HMAC
    keyed by the key itself (HMAC-SM3 for SM4 keys, HMAC-SHA256 for AES keys)."""
    digest = hashes.SM3() if algorithm == SM4_GCM else hashes.SHA256()
    mac = crypto_hmac.HMAC(key, digest)
    mac.update(b"identity-crypto key id")
    return mac.finalize()[:4]


@dataclass(frozen=True)
class Header:
    """What a stored ciphertext says about itself."""

    version: int
    algorithm: Algorithm
    key_id: bytes | None  # None: version 1, the configured AES key by definition


def read_header(raw: bytes) -> Header:
    if raw[:1] == bytes([_V1]) and len(raw) >= 1 + _NONCE + _TAG:
        return Header(_V1, AES_256_GCM, None)
    if raw[:1] == bytes([_V2]) and len(raw) >= 6 + _NONCE + _TAG:
        algorithm = _ALG_NAMES.get(raw[1])
        if algorithm is None:
            raise CiphertextError(f"unknown ciphertext algorithm {raw[1]:#04x}")
        return Header(_V2, algorithm, raw[2:6])
    raise CiphertextError("unknown ciphertext version")


class IdentityCipher:
    """Encrypts with the deployment's algorithm; decrypts whatever a row says it is."""

    def __init__(self, encryption_key: bytes, index_key: bytes, *,
                 sm4_key: bytes | None = None, write: Algorithm = AES_256_GCM) -> None:
        self._keys: dict[Algorithm, tuple[bytes, _Aead]] = {
            AES_256_GCM: (key_id(AES_256_GCM, encryption_key), AESGCM(encryption_key))}
        if sm4_key is not None:
            self._keys[SM4_GCM] = (key_id(SM4_GCM, sm4_key), Sm4Gcm(sm4_key))
        if write not in self._keys:
            raise KeyNotConfigured(f"{write} needs its key (IDENTITY_SM4_KEY)")
        self._write = write
        self._index_key = index_key
        self._material = (encryption_key, index_key, sm4_key)

    @classmethod
    def configured(cls, settings: Settings, secrets: ServiceSecrets) -> IdentityCipher:
        """The service's cipher: SM4 for new rows under ``SIGNING_SUITE=sm2``, else AES."""
        return cls(secrets.identity_encryption_key, secrets.identity_index_key,
                   sm4_key=secrets.identity_sm4_key,
                   write=SM4_GCM if settings.signing_suite == "sm2" else AES_256_GCM)

    @property
    def write_algorithm(self) -> Algorithm:
        return self._write

    def writing(self, algorithm: Algorithm) -> IdentityCipher:
        """The same keys, writing ``algorithm`` (the re-encryption command's target)."""
        aes, index, sm4 = self._material
        return IdentityCipher(aes, index, sm4_key=sm4, write=algorithm)

    # -- text columns (base64) and byte columns --------------------------------------

    def encrypt(self, plaintext: str, purpose: str = "id") -> str:
        return base64.urlsafe_b64encode(self.seal(plaintext.encode(), purpose)).decode()

    def decrypt(self, token: str, purpose: str = "id") -> str:
        return self.unseal(base64.urlsafe_b64decode(token.encode()), purpose).decode()

    def seal(self, data: bytes, purpose: str) -> bytes:
        """Encrypt bytes bound to ``purpose`` (AEAD associated data): a record moved
        to another purpose or key does not decrypt."""
        nonce = os.urandom(_NONCE)
        kid, aead = self._keys[self._write]
        if self._write == AES_256_GCM:
            return bytes([_V1]) + nonce + aead.encrypt(nonce, data, purpose.encode())
        header = bytes([_V2, _ALG_CODES[self._write]]) + kid
        return header + nonce + aead.encrypt(nonce, data, header + purpose.encode())

    def unseal(self, sealed: bytes, purpose: str) -> bytes:
        header = read_header(sealed)
        kid, aead = self._key_for(header)
        if header.version == _V1:
            return aead.decrypt(sealed[1:13], sealed[13:], purpose.encode())
        return aead.decrypt(sealed[6:18], sealed[18:], sealed[:6] + purpose.encode())

    def _key_for(self, header: Header) -> tuple[bytes, _Aead]:
        entry = self._keys.get(header.algorithm)
        if entry is None or (header.key_id is not None and header.key_id != entry[0]):
            kid = header.key_id.hex() if header.key_id else "-"
            raise KeyNotConfigured(f"no {header.algorithm} key with id {kid} is configured")
        return entry

    def is_current(self, sealed: bytes) -> bool:
        """Written with the algorithm and key this cipher writes (nothing to re-encrypt)."""
        header = read_header(sealed)
        if header.algorithm != self._write:
            return False
        return header.key_id is None or header.key_id == self._keys[self._write][0]

    def is_current_text(self, token: str) -> bool:
        return self.is_current(base64.urlsafe_b64decode(token.encode()))

    # -- the blind index -------------------------------------------------------------

    def index(self, id_number: str) -> str:
        return hmac.new(self._index_key, id_number.encode(), hashlib.sha256).hexdigest()

    def keyed_hash(self, value: str, purpose: str) -> str:
        """A stable pseudonym of ``value`` for one purpose (e.g. a certificate serialNumber)."""
        return hmac.new(self._index_key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()
