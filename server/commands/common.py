"""What several commands share: settings, and running a coroutine with the ORM open."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from server.config import Settings
from server.db import close_orm, init_orm, run_migrations

T = TypeVar("T")


def with_orm(settings: Settings, fn: Callable[[], Awaitable[T]], *, migrate: bool = False) -> T:
    async def runner() -> T:
        if migrate:
            await run_migrations(settings)
        await init_orm(settings)
        try:
            return await fn()
        finally:
            await close_orm()

    return asyncio.run(runner())
