"""The CPU pool's processes: below the event loops in priority, errors carried back, and
work that can wait kept behind every pool of the server."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from typing import Any

import pytest

from server.cpu import JOB_CPU, JOBS, CpuPool
from server.cpu_activity import SLOTS, CpuActivity, SharedTable, shared_table, worker_slot


def _niceness() -> int:
    return os.nice(0)


def _frozen_objects() -> int:
    import gc

    return gc.get_freeze_count()


def test_pool_processes_set_their_start_up_heap_aside_from_the_collector() -> None:
    """A full collection walks every object not frozen: a pool process's start-up heap
    (the PKI, fonts, pyHanko) is frozen once the initializer has run (server.heap)."""
    async def run() -> int:
        pool = CpuPool(1)
        try:
            return await pool.run(_frozen_objects)
        finally:
            pool.shutdown()

    assert asyncio.run(run()) > 10_000


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


def test_one_workers_jobs_keep_the_other_workers_pool_from_idling() -> None:
    """The workers of a server share its cores: work that can wait waits for all pools."""
    table = shared_table(2)

    async def run() -> float:
        signing = CpuPool(1, activity=CpuActivity(table, slot=0))
        waiting = CpuPool(1, activity=CpuActivity(table, slot=1))
        try:
            await asyncio.gather(signing.run(_niceness), waiting.run(_niceness))
            await asyncio.sleep(0.3)
            loop = asyncio.get_running_loop()
            started = loop.time()
            job = asyncio.create_task(signing.run(_pause, 0.5))
            await asyncio.sleep(0.05)
            await waiting.wait_until_idle(0.2, poll_s=0.02)
            await job
            return loop.time() - started
        finally:
            signing.shutdown()
            waiting.shutdown()

    assert asyncio.run(run()) >= 0.5 + 0.2 - 0.05


def _busy_in_slot(table: SharedTable, started: Any, finish: Any) -> None:
    activity = CpuActivity(table, slot=1)
    activity.began()
    started.set()
    finish.wait(10)
    activity.ended()


def test_the_activity_table_crosses_into_spawned_workers() -> None:
    """Sanic spawns its workers and hands them the main process's shared objects; the
    table must be the same memory on both sides, not a copy."""
    ctx = multiprocessing.get_context("spawn")
    table = shared_table(2)
    started, finish = ctx.Event(), ctx.Event()
    other = ctx.Process(target=_busy_in_slot, args=(table, started, finish))
    other.start()
    try:
        assert started.wait(30)
        mine = CpuActivity(table, slot=0)
        assert not mine.quiet_for(0.0)  # the other process's job is in flight
        finish.set()
        other.join(10)
        assert other.exitcode == 0
        assert mine.quiet_for(0.0)
        assert not mine.quiet_for(5.0)  # and it ended just now
    finally:
        finish.set()
        other.join(10)


def test_a_worker_finds_its_slot_from_sanics_identifier(monkeypatch: pytest.MonkeyPatch
                                                      ) -> None:
    monkeypatch.setenv("SANIC_WORKER_IDENTIFIER", "Srv  1")
    assert worker_slot() == 1
    monkeypatch.setenv("SANIC_WORKER_IDENTIFIER", "Srv 70")
    assert worker_slot() == 70 % SLOTS
    monkeypatch.delenv("SANIC_WORKER_IDENTIFIER")
    assert worker_slot() == 0


def _spin(seconds: float) -> int:
    import time

    end, n = time.process_time() + seconds, 0
    while time.process_time() < end:
        n += 1
    return n


def test_each_jobs_cpu_time_is_counted_by_job() -> None:
    """``/metrics`` says what the pool's CPU goes to: the child's CPU, not the wait."""
    def counted(name: str) -> tuple[float, float]:
        return (JOBS.labels(name)._value.get(), JOB_CPU.labels(name)._value.get())

    async def run() -> None:
        pool = CpuPool(1)
        try:
            await pool.run(_pause, 0.3)
            await pool.run(_spin, 0.2)
            with pytest.raises(ValueError):
                await pool.run(_fails)
        finally:
            pool.shutdown()

    before = {name: counted(name) for name in ("_pause", "_spin", "_fails")}
    asyncio.run(run())
    after = {name: counted(name) for name in before}
    jobs = {name: after[name][0] - before[name][0] for name in before}
    cpu = {name: after[name][1] - before[name][1] for name in before}
    assert jobs == {"_pause": 1, "_spin": 1, "_fails": 1}
    assert cpu["_spin"] >= 0.19
    assert cpu["_pause"] < 0.1  # sleeping is not CPU
