"""Documents in the database: the store that lets several hosts share one PostgreSQL.

Content-addressed like the files: the primary key is the SHA-256. Bytes are split
into :data:`CHUNK_SIZE` rows so that a download streams row by row instead of
holding a large document in one query result, and so that no single value nears
a driver's message limit. Concurrent writers of the same bytes insert with
``ON CONFLICT DO NOTHING``: equal content makes equal rows, whoever wins.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from tortoise.transactions import in_transaction

from server.adapters.documents.port import (
    CHUNK_SIZE,
    DocumentMissing,
    DocumentStore,
    check_sha256,
    sha256_of,
)
from server.models.documents import DocumentBlob, DocumentChunk


class DatabaseDocumentStore(DocumentStore):
    async def put(self, data: bytes) -> str:
        digest = sha256_of(data)
        if await DocumentBlob.exists(sha256=digest):
            return digest
        chunks = [data[i:i + CHUNK_SIZE] for i in range(0, len(data), CHUNK_SIZE)] or [b""]
        async with in_transaction():
            await DocumentChunk.bulk_create(
                [DocumentChunk(sha256=digest, seq=n, data=c) for n, c in enumerate(chunks)],
                ignore_conflicts=True)
            await DocumentBlob.bulk_create(
                [DocumentBlob(sha256=digest, size=len(data), chunks=len(chunks))],
                ignore_conflicts=True)
        return digest

    async def _blob(self, sha256: str) -> DocumentBlob:
        blob = await DocumentBlob.get_or_none(sha256=check_sha256(sha256))
        if blob is None:
            raise DocumentMissing(sha256)
        return blob

    async def get(self, sha256: str) -> bytes:
        blob = await self._blob(sha256)
        rows = await (DocumentChunk.filter(sha256=sha256, seq__lt=blob.chunks)
                      .order_by("seq").values_list("data", flat=True))
        data = b"".join(bytes(r) for r in rows)
        if len(rows) != blob.chunks or len(data) != blob.size:
            raise DocumentMissing(sha256)  # cannot happen: chunks commit with the blob
        return data

    async def exists(self, sha256: str) -> bool:
        return await DocumentBlob.exists(sha256=check_sha256(sha256))

    async def size(self, sha256: str) -> int:
        return (await self._blob(sha256)).size

    async def stream(self, sha256: str) -> AsyncIterator[bytes]:
        blob = await self._blob(sha256)
        for seq in range(blob.chunks):
            row = await DocumentChunk.get_or_none(sha256=sha256, seq=seq).values_list(
                "data", flat=True)
            if row is None:
                raise DocumentMissing(sha256)
            yield bytes(row)
