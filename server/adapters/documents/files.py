"""The embedded default: content-addressed files under ``DATA_DIR/files``.

Writes go to a temporary file that is fsynced and renamed into place, so a crash
leaves either the whole document or none, and two processes writing the same
bytes race harmlessly.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

from server.adapters.documents.port import (
    CHUNK_SIZE,
    DocumentMissing,
    DocumentStore,
    check_sha256,
    sha256_of,
)


class FileDocumentStore(DocumentStore):
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, sha256: str) -> Path:
        check_sha256(sha256)
        return self.root / sha256[:2] / f"{sha256}.pdf"

    def _put(self, data: bytes) -> str:
        digest = sha256_of(data)
        path = self._path(digest)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            # unique per writer: threads of one process may write the same document at once
            tmp = path.with_suffix(f".{os.getpid()}.{secrets.token_hex(6)}.tmp")
            tmp.write_bytes(data)
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        return digest

    def _read(self, sha256: str) -> bytes:
        try:
            return self._path(sha256).read_bytes()
        except FileNotFoundError:
            raise DocumentMissing(sha256) from None

    def _size(self, sha256: str) -> int:
        try:
            return self._path(sha256).stat().st_size
        except FileNotFoundError:
            raise DocumentMissing(sha256) from None

    async def put(self, data: bytes) -> str:
        return await asyncio.to_thread(self._put, data)

    async def get(self, sha256: str) -> bytes:
        return await asyncio.to_thread(self._read, sha256)

    async def exists(self, sha256: str) -> bool:
        return await asyncio.to_thread(self._path(sha256).exists)

    async def size(self, sha256: str) -> int:
        return await asyncio.to_thread(self._size, sha256)

    async def stream(self, sha256: str) -> AsyncIterator[bytes]:
        try:
            fh = await asyncio.to_thread(open, self._path(sha256), "rb")
        except FileNotFoundError:
            raise DocumentMissing(sha256) from None
        try:
            while chunk := await asyncio.to_thread(fh.read, CHUNK_SIZE):
                yield chunk
        finally:
            fh.close()
