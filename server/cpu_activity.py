"""How busy the CPU pools of one server are, seen by every worker of that server.

Work that can wait (validating filed documents ahead of any upload) runs only once
the CPU pool has been idle for a while. Each Sanic worker owns a pool, but the
workers of a server share the host's cores: judged by its own pool alone, a worker
whose pool is idle would start a second-long validation while the other worker's pool
renders and signs, and the sales would wait for the cores. So the server's main
process makes one small table in shared memory (:func:`shared_table`), a slot per
worker, and each worker's pool writes its own slot: jobs in flight and when the last
one ended. "Idle" is then every slot idle.

One writer per slot, so no lock: a reader may see a slot one job late, which only
shifts work that can wait by a poll. A worker killed mid-job leaves its count up;
Sanic starts its replacement under the same identifier, which resets the slot.
Outside a served app (tests, the CLI) a pool has a table of its own.
"""

from __future__ import annotations

import os
import re
import time
from ctypes import c_double, c_int
from multiprocessing.sharedctypes import RawArray
from typing import Any

#: More slots than any server here runs workers; a worker beyond them shares a slot,
#: which only makes the host look busier than it is.
SLOTS = 64

SharedTable = tuple[Any, Any]


def shared_table(slots: int = SLOTS) -> SharedTable:
    """In the main process, before the workers start: in-flight counts and last-busy
    times (``time.monotonic``, one clock for every process of the host)."""
    return RawArray(c_int, slots), RawArray(c_double, slots)


def worker_slot(slots: int = SLOTS) -> int:
    """This worker's slot, from the identifier Sanic gives it (``Srv 0``, ``Srv 1``...)."""
    ident = os.environ.get("SANIC_WORKER_IDENTIFIER", "")
    digits = re.findall(r"\d+", ident)
    return int(digits[-1]) % slots if digits else 0


class CpuActivity:
    """One worker's view of its server's CPU pools: it writes its slot, reads them all."""

    def __init__(self, table: SharedTable | None = None, slot: int = 0) -> None:
        self._in_flight, self._last_busy = table if table is not None else shared_table(1)
        self._slot = slot % len(self._in_flight)
        self._in_flight[self._slot] = 0  # a replacement worker starts clean

    @classmethod
    def of_worker(cls, table: SharedTable | None) -> CpuActivity:
        """The served worker's view (``table`` from the server), or a private one."""
        return cls(table, worker_slot(len(table[0]))) if table is not None else cls()

    def began(self) -> None:
        self._in_flight[self._slot] += 1

    def ended(self) -> None:
        self._in_flight[self._slot] = max(0, self._in_flight[self._slot] - 1)
        self._last_busy[self._slot] = time.monotonic()

    def quiet_for(self, seconds: float) -> bool:
        """No job in flight in any pool of the server, and none ended in ``seconds``."""
        if any(self._in_flight):
            return False
        return time.monotonic() - max(self._last_busy) >= seconds
