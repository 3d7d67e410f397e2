"""Migration 0005 on a database that already holds stored PDFs: every version stored
before it is the contract's (a NOT NULL column needs a database default to be added to
a table with rows, on SQLite as on PostgreSQL)."""

from __future__ import annotations

import asyncio

from tortoise import Tortoise
from tortoise.connection import get_connection
from tortoise.migrations.api.migrate import migrate

from server.config import Settings
from server.db import tortoise_config
from tests.backends import backend_name


async def _migrate_over_existing_rows(env: dict[str, str]) -> list[tuple[str, str]]:
    config = tortoise_config(Settings.from_env(env))
    await migrate(config=config, target="models.0004_certificate_revocations")
    conn = get_connection("default")
    # a version stored before the migration; its contract row is beside the point here
    # (one script: the same connection sets the foreign keys aside and inserts)
    no_fk = ("SET session_replication_role = replica" if backend_name() == "services"
             else "PRAGMA foreign_keys = OFF")
    await conn.execute_script(
        f"{no_fk}; INSERT INTO stored_documents (contract_id, stage, sha256, size, created_at) "
        f"VALUES ('c1', 'filed', '{'ab' * 32}', 1, CURRENT_TIMESTAMP)")
    await Tortoise.close_connections()
    await migrate(config=config)
    conn = get_connection("default")
    _, rows = await conn.execute_query("SELECT stage, kind FROM stored_documents")
    await Tortoise.close_connections()
    return [(row["stage"], row["kind"]) for row in rows]


def test_versions_stored_before_are_the_contracts(fresh_env) -> None:
    assert asyncio.run(_migrate_over_existing_rows(fresh_env)) == [("filed", "contract")]
