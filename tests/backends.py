"""Where a test run keeps its state: the embedded default, or PostgreSQL + Redis.

``TEST_BACKEND=services`` gives each run its own PostgreSQL database (created
here, dropped at the end) and its own Redis key prefix on a DB number of its
own, so two runs on one machine never see each other's data.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgres://root@127.0.0.1:5432/test")
REDIS_BASE_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")


def backend_name() -> str:
    return os.environ.get("TEST_BACKEND", "embedded")


@dataclass
class Backend:
    name: str
    data_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    _databases: list[str] = field(default_factory=list)

    def new_database_env(self, data_dir: Path) -> dict[str, str]:
        """Environment for one isolated app state (database + key space + files)."""
        env = {"DATA_DIR": str(data_dir), "APP_ENV": "development", "LOG_LEVEL": "WARNING",
               # Every test client is 127.0.0.1: the per-address limit of failed token
               # requests is tested on a server of its own (tests/houses/test_token_abuse.py).
               "REGISTRY_TOKEN_FAILURES_PER_ADDRESS": "100000"}
        if self.name == "services":
            name = f"t_{os.getpid()}_{secrets.token_hex(4)}"
            asyncio.run(_create_pg_database(name))
            self._databases.append(name)
            base = PG_ADMIN_URL.rsplit("/", 1)[0]
            env["DATABASE_URL"] = f"{base}/{name}"
            env["REDIS_URL"] = f"{REDIS_BASE_URL}/{_redis_db()}"
            env["REDIS_KEY_PREFIX"] = f"{name}:"
        return env

    def cleanup(self) -> None:
        for name in self._databases:
            try:
                asyncio.run(_drop_pg_database(name))
            except Exception:  # noqa: BLE001 - best effort at teardown
                pass


def _redis_db() -> int:
    # A DB number of this run's own (1..15), plus a unique key prefix.
    return 1 + os.getpid() % 15


async def _create_pg_database(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL.replace("postgres://", "postgresql://"))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _drop_pg_database(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL.replace("postgres://", "postgresql://"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
