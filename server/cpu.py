"""The process pool that runs CPU-heavy work (rendering, signing, validation).

pyHanko and typst hold the CPU for tens to hundreds of milliseconds; on the
event loop that would stall every other request of the worker. Each Sanic
worker owns one pool; child processes keep their own caches (fonts, keys).
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def _noop() -> int:
    return 0


class CpuPool:
    def __init__(self, workers: int, initializer: Callable[..., None] | None = None,
                 initargs: tuple[Any, ...] = ()) -> None:
        # forkserver: never fork a process that is running an event loop and threads.
        self._executor = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("forkserver"),
            initializer=initializer,
            initargs=initargs,
        )
        self.workers = workers

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, fn, *args)

    async def warm_up(self) -> None:
        """Start every child now, so the first signature does not pay for it."""
        await asyncio.gather(*(self.run(_noop) for _ in range(self.workers)))

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
