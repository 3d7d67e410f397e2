"""Reaching into a test server's database directly, as an operator (or intruder) with SQL
would: for checks of what is stored, and for moving time forward."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


def with_db(env: dict[str, str], fn: Callable[[], Awaitable[T]]) -> T:
    from server.config import Settings
    from server.db import close_orm, init_orm

    async def run() -> T:
        await init_orm(Settings.from_env(env))
        try:
            return await fn()
        finally:
            await close_orm()

    return asyncio.run(run())
