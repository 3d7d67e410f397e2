"""What several commands share: running a coroutine with the ORM open, and printing what a
``create`` made (once, with its secret) or why it refused."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from server.config import Settings
from server.db import close_orm, init_orm, run_migrations
from server.domain.errors import FieldProblems

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


def refused(exc: FieldProblems) -> int:
    """Each bad option on its own line, as ``error: --name: reason``; exit status 1."""
    for name, reason in exc.fields.items():
        print(f"error: --{name}: {reason}", file=sys.stderr)
    return 1


def created(summary: str, answer: dict[str, Any],
            note: str = "the secret is shown only now; only its hash is stored") -> int:
    """What a ``create`` prints: a line for people, a note, the JSON for scripts last."""
    print(summary)
    print(note)
    print(json.dumps(answer, ensure_ascii=False))
    return 0
