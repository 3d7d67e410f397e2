"""Database configuration and schema migrations (Tortoise ORM 1.x built-in migrations).

``TORTOISE_ORM`` is what ``tortoise makemigrations`` reads (see pyproject's
``[tool.tortoise]``); the app and the CLI build the same dict from their
settings.
"""

from __future__ import annotations

import logging
from typing import Any

from tortoise import Tortoise
from tortoise.migrations.api import migrate as migrate_api

from server.config import Settings

log = logging.getLogger("server.db")

MODEL_MODULES = ["server.models"]


def _db_url(settings: Settings) -> str:
    url = settings.database_url
    if url.startswith("postgresql://"):
        url = "postgres://" + url[len("postgresql://"):]
    if url.startswith("sqlite://"):
        path = url[len("sqlite://"):]
        if path and path != ":memory:":
            from pathlib import Path

            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # WAL lets readers proceed while the single writer commits.
        sep = "&" if "?" in url else "?"
        url = f"{url}{sep}journal_mode=WAL&busy_timeout=10000" if "journal_mode" not in url else url
    return url


def tortoise_config(settings: Settings) -> dict[str, Any]:
    return {
        "connections": {"default": _db_url(settings)},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "server.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def _from_env() -> dict[str, Any]:
    try:
        return tortoise_config(Settings.from_env())
    except Exception:  # pragma: no cover - only for the tortoise CLI
        return tortoise_config(Settings.from_env({}))


TORTOISE_ORM = _from_env()


async def run_migrations(settings: Settings) -> None:
    """Bring the schema up to date; safe to run again. A failing migration still closes
    the connections: an open SQLite connection's thread would keep the process alive."""
    try:
        await migrate_api(config=tortoise_config(settings))
    finally:
        await Tortoise.close_connections()


async def init_orm(settings: Settings) -> None:
    # The global fallback makes the connections visible to every task of the
    # worker, not only to the listener task that opened them.
    await Tortoise.init(config=tortoise_config(settings), _enable_global_fallback=True)


async def close_orm() -> None:
    await Tortoise.close_connections()
