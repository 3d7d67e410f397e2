"""The document store port: the same cases on the files and on the database adapter.

The database adapter is what several hosts share; on the services pass it runs on
PostgreSQL, on the embedded pass on SQLite.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from server.adapters.documents import (
    DatabaseDocumentStore,
    DocumentMissing,
    DocumentStore,
    FileDocumentStore,
)
from server.adapters.documents.port import CHUNK_SIZE
from server.config import Settings
from server.db import close_orm, init_orm, run_migrations


@pytest.fixture(params=["files", "database"])
def run_on_store(request: pytest.FixtureRequest, fresh_env: dict[str, str], tmp_path: Path
                 ) -> Callable[[Callable[[DocumentStore], Awaitable[None]]], None]:
    settings = Settings.from_env(fresh_env)

    def run(case: Callable[[DocumentStore], Awaitable[None]]) -> None:
        async def go() -> None:
            await run_migrations(settings)
            await init_orm(settings)
            try:
                store: DocumentStore = (DatabaseDocumentStore() if request.param == "database"
                                        else FileDocumentStore(tmp_path / "files"))
                await case(store)
            finally:
                await close_orm()

        asyncio.run(go())

    return run


def test_put_get_round_trips_by_content_address(run_on_store) -> None:
    data = os.urandom(CHUNK_SIZE * 2 + 17)  # three chunks, the last one short

    async def case(store: DocumentStore) -> None:
        sha = await store.put(data)
        assert sha == hashlib.sha256(data).hexdigest()
        assert await store.put(data) == sha  # idempotent
        assert await store.exists(sha)
        assert await store.size(sha) == len(data)
        assert await store.get(sha) == data
        chunks = [c async for c in store.stream(sha)]
        assert b"".join(chunks) == data
        assert max(len(c) for c in chunks) <= CHUNK_SIZE

    run_on_store(case)


def test_empty_and_concurrent_writes(run_on_store) -> None:
    data = b"%PDF-1.7 same bytes from many requests"

    async def case(store: DocumentStore) -> None:
        shas = await asyncio.gather(*(store.put(data) for _ in range(8)))
        assert len(set(shas)) == 1
        assert await store.get(shas[0]) == data
        empty = await store.put(b"")
        assert await store.get(empty) == b""

    run_on_store(case)


def test_missing_and_malformed_digests(run_on_store) -> None:
    async def case(store: DocumentStore) -> None:
        absent = "0" * 64
        assert not await store.exists(absent)
        with pytest.raises(DocumentMissing):
            await store.get(absent)
        with pytest.raises(DocumentMissing):
            await store.size(absent)
        with pytest.raises(DocumentMissing):
            _ = [c async for c in store.stream(absent)]
        with pytest.raises(ValueError):
            await store.exists("../../etc/passwd")

    run_on_store(case)


def test_the_deployment_default_follows_the_database() -> None:
    assert Settings.from_env({}).document_store == "files"
    pg = Settings.from_env({"DATABASE_URL": "postgres://u@127.0.0.1:5432/db"})
    assert pg.document_store == "database"
    assert Settings.from_env({"DATABASE_URL": "postgres://u@h/db",
                              "DOCUMENT_STORE": "files"}).document_store == "files"
