"""The CPU pool's processes: below the event loops in priority, and errors carried back."""

from __future__ import annotations

import asyncio
import os

import pytest

from server.cpu import CpuPool


def _niceness() -> int:
    return os.nice(0)


def _fails() -> None:
    raise ValueError("from the pool")


def test_pool_processes_run_below_the_worker() -> None:
    async def run() -> tuple[int, int]:
        nice, plain = CpuPool(1, nice=5), CpuPool(1)
        try:
            return await nice.run(_niceness), await plain.run(_niceness)
        finally:
            nice.shutdown()
            plain.shutdown()

    mine = os.nice(0)
    lowered, unchanged = asyncio.run(run())
    assert lowered == min(19, mine + 5)
    assert unchanged == mine


def test_an_exception_in_the_pool_is_raised_in_the_worker() -> None:
    async def run() -> None:
        pool = CpuPool(1)
        try:
            await pool.run(_fails)
        finally:
            pool.shutdown()

    with pytest.raises(ValueError, match="from the pool"):
        asyncio.run(run())
