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


def _pause(seconds: float) -> None:
    import time

    time.sleep(seconds)


def test_work_that_can_wait_waits_for_the_pool_to_be_idle() -> None:
    """Validating filed documents ahead of any upload goes after the sales' jobs."""
    async def run() -> tuple[float, float]:
        pool = CpuPool(1)
        try:
            await pool.run(_niceness)  # started
            loop = asyncio.get_running_loop()
            started = loop.time()
            job = asyncio.create_task(pool.run(_pause, 0.5))
            await asyncio.sleep(0.05)
            await pool.wait_until_idle(0.3, poll_s=0.02)
            waited = loop.time() - started
            await job
            idle_started = loop.time()
            await pool.wait_until_idle(0.0)
            return waited, loop.time() - idle_started
        finally:
            pool.shutdown()

    waited, idle = asyncio.run(run())
    assert waited >= 0.5 + 0.3 - 0.05  # the job's time, then the quiet time
    assert idle < 0.1
