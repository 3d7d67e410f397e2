"""The process pool that runs CPU-heavy work (rendering, signing, validation).

pyHanko and typst hold the CPU for tens to hundreds of milliseconds; on the
event loop that would stall every other request of the worker. Each Sanic
worker owns one pool; child processes keep their own caches (fonts, keys).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

from prometheus_client import Counter

from server.cpu_activity import CpuActivity

T = TypeVar("T")

#: What the pool's CPU goes to, by job (``render_and_prepare_all``, ``sign_all``,
#: ``validate_upload``...): measured in the child, counted in the worker.
JOBS = Counter("cpu_pool_jobs_total", "Jobs run in the CPU pool", ["job"])
JOB_CPU = Counter("cpu_pool_job_cpu_seconds_total", "CPU seconds of the CPU pool's jobs",
                  ["job"])


def _noop() -> int:
    return 0


def _orphan_watch(owner_pid: int) -> None:
    """Exit this pool process as soon as the worker that owns it is gone.

    A worker killed with SIGKILL runs no clean-up, and the pool's processes, which
    wait on a queue whose writing end they also hold, would wait forever: orphans
    holding keys in memory. Polling the owner is cheap and needs no signal set-up.
    """
    import threading
    import time

    parent = os.getppid()  # the fork server, which itself exits with the owner

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(0)
            try:
                os.kill(owner_pid, 0)
            except (ProcessLookupError, PermissionError):  # gone, or its pid reused
                os._exit(0)

    threading.Thread(target=watch, name="orphan-watch", daemon=True).start()


def _init_child(owner_pid: int, initializer: Callable[..., None] | None,
                initargs: tuple[Any, ...], nice: int = 0) -> None:
    _orphan_watch(owner_pid)
    if nice:
        # Below the event loops: when rendering and signing saturate the cores, the
        # workers still get the CPU to answer (health checks, reads, the next step of
        # other sales) and to keep handing the pool its work; the pool's throughput
        # is the same, only its share while the loops have work drops.
        os.nice(nice)
    if initializer is not None:
        initializer(*initargs)
    from server import heap

    heap.settle()


def _call(fn: Callable[..., T], args: tuple[Any, ...],
          apply_context: Callable[[Any], None] | None = None, context: Any = None
          ) -> tuple[str, Any, float]:
    """Runs in the child; the job's CPU seconds travel back with its outcome. Exceptions
    travel back as (class, args, attributes): many exceptions with their own
    ``__init__`` signature cannot be unpickled as they are."""
    started = time.process_time()
    try:
        if apply_context is not None:
            apply_context(context)
        return "ok", fn(*args), time.process_time() - started
    except Exception as exc:  # noqa: BLE001 - re-raised in the parent
        import traceback

        state = {k: v for k, v in vars(exc).items() if _picklable(v)}
        return "err", (type(exc).__module__, type(exc).__qualname__,
                       tuple(a for a in exc.args if _picklable(a)), state,
                       traceback.format_exc()), time.process_time() - started


def _picklable(value: Any) -> bool:
    import pickle

    try:
        pickle.dumps(value)
        return True
    except Exception:  # noqa: BLE001
        return False


class RemoteError(RuntimeError):
    """An exception from a pool process whose class could not be rebuilt here."""


def _rebuild(module: str, qualname: str, args: tuple, state: dict, tb: str) -> BaseException:
    import importlib

    try:
        cls: Any = importlib.import_module(module)
        for part in qualname.split("."):
            cls = getattr(cls, part)
        exc = cls.__new__(cls)
        Exception.__init__(exc, *args)
        exc.__dict__.update(state)
        exc.remote_traceback = tb
        return exc
    except Exception:  # noqa: BLE001
        return RemoteError(f"{module}.{qualname}: {args!r}\n{tb}")


class CpuPool:
    """``context`` (async, in the worker) produces a small value each job carries to the
    child, where ``apply_context`` installs it before the job runs: shared state the
    children cannot read themselves, such as the current revocations, travels this way."""

    def __init__(self, workers: int, initializer: Callable[..., None] | None = None,
                 initargs: tuple[Any, ...] = (),
                 context: Callable[[], Awaitable[Any]] | None = None,
                 apply_context: Callable[[Any], None] | None = None, nice: int = 0,
                 activity: CpuActivity | None = None) -> None:
        # Sanic runs its workers as daemonic processes, and multiprocessing
        # refuses children to those. The pool's processes are ours to manage
        # (shut down in after_server_stop, and they exit when their parent's
        # pipe closes), so this worker is told it may have them.
        multiprocessing.current_process()._config.pop("daemon", None)  # type: ignore[attr-defined]
        # forkserver: never fork a process that is running an event loop and threads.
        self._executor = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("forkserver"),
            initializer=_init_child,
            initargs=(os.getpid(), initializer, initargs, nice),
        )
        self.workers = workers
        self._activity = activity or CpuActivity()
        self._context = context
        self._apply_context = apply_context

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        context = await self._context() if self._context is not None else None
        self._activity.began()
        try:
            kind, value, cpu_s = await loop.run_in_executor(
                self._executor, _call, fn, args, self._apply_context, context)
        finally:
            self._activity.ended()
        job = getattr(fn, "__qualname__", "job")
        JOBS.labels(job).inc()
        JOB_CPU.labels(job).inc(cpu_s)
        if kind == "err":
            raise _rebuild(*value)
        return value

    async def wait_until_idle(self, quiet_s: float, poll_s: float = 0.25) -> None:
        """Return once no job has run for ``quiet_s`` in any pool of this server (see
        :mod:`server.cpu_activity`): work that can wait (validating filed documents
        ahead of any upload) goes in the host's idle time, not in the sales' time."""
        while not self._activity.quiet_for(quiet_s):
            await asyncio.sleep(poll_s)

    async def warm_up(self) -> None:
        """Start every child now, so the first signature does not pay for it."""
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(self._executor, _call, _noop, ())
                               for _ in range(self.workers)))

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
