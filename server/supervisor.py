"""Replacing a server worker that died, in the main process.

Sanic's worker manager restarts workers on request (auto-reload, the inspector) but
not when one dies on its own: a worker killed by the OOM killer or SIGKILL stays
dead and the service runs on fewer workers until someone notices. This thread asks
the manager to restart such a worker, through the same monitor channel the
workers' own restart requests use, so the manager's loop does the restart.
"""

from __future__ import annotations

import logging
import threading
import time

from sanic import Sanic

log = logging.getLogger("server.supervisor")

#: A worker must be dead this long before it is replaced: during a shutdown the
#: manager terminates every worker, and those are not to be brought back.
GRACE_S = 1.0
#: Ask again only after this long, if a replacement did not come up.
RETRY_S = 15.0


def watch_workers(app: Sanic, interval: float = 0.5) -> threading.Thread:
    manager = app.manager
    dead_since: dict[str, float] = {}
    asked: dict[str, float] = {}

    def all_acknowledged() -> bool:
        try:
            return bool(manager._all_workers_ack())
        except Exception:  # noqa: BLE001 - the manager's state is shutting down
            return False

    def loop() -> None:
        # Until every worker has started, a dead one fails the start-up as Sanic
        # decides (it stops the server): replacing begins once all are serving.
        while not all_acknowledged():
            time.sleep(interval)
            if getattr(manager, "_shutting_down", False):
                return
        log.info("all workers serving", extra={"workers": len(list(manager.transient_processes))})
        while True:
            time.sleep(interval)
            if getattr(manager, "_shutting_down", False):
                return
            now = time.monotonic()
            for process in list(manager.transient_processes):
                if process.is_alive():
                    dead_since.pop(process.name, None)
                    continue
                first = dead_since.setdefault(process.name, now)
                if now - first < GRACE_S or now - asked.get(process.name, 0.0) < RETRY_S:
                    continue
                if getattr(manager, "_shutting_down", False):
                    return
                log.warning("worker died, restarting it",
                            extra={"worker": process.name, "exitcode": process.exitcode})
                asked[process.name] = now
                manager.monitor_publisher.send(process.name)

    thread = threading.Thread(target=loop, name="worker-supervisor", daemon=True)
    thread.start()
    return thread
