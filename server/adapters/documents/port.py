"""The document store port: put bytes, get them back by their SHA-256."""

from __future__ import annotations

import abc
import hashlib
from collections.abc import AsyncIterator

#: Streaming granularity: small enough to keep a download's memory flat, large enough
#: that a 1 MB contract is a handful of rows or reads.
CHUNK_SIZE = 256 * 1024


class DocumentMissing(LookupError):
    """No document with that SHA-256 is stored."""


def check_sha256(sha256: str) -> str:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a sha256")
    return sha256


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class DocumentStore(abc.ABC):
    """Content-addressed: writing the same bytes twice is one document, and a stored
    document never changes, so readers may cache by digest without invalidation."""

    @abc.abstractmethod
    async def put(self, data: bytes) -> str:
        """Store ``data`` (idempotent) and return its SHA-256 in hex."""

    @abc.abstractmethod
    async def get(self, sha256: str) -> bytes:
        """The whole document; :class:`DocumentMissing` when absent."""

    @abc.abstractmethod
    async def exists(self, sha256: str) -> bool: ...

    @abc.abstractmethod
    async def size(self, sha256: str) -> int:
        """Length in bytes; :class:`DocumentMissing` when absent."""

    @abc.abstractmethod
    def stream(self, sha256: str) -> AsyncIterator[bytes]:
        """The document in chunks of at most :data:`CHUNK_SIZE`, for downloads."""
