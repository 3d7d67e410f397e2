"""CPU time of a running server, for the benchmarks that print CPU per request or per sale.

CPU time does not move when the load generator shares the cores, so it is the number
to compare on a busy machine. The CPU pools' processes are the forkserver's children
(``server/cpu.py``); the rest is the main process and the workers' event loops.
"""

from __future__ import annotations

import psutil


def server_cpu_s(pid: int) -> tuple[float, float]:
    """User + system CPU seconds so far of the server ``pid`` and every process under it:
    ``(all of them, the CPU pools' share)``."""
    root = psutil.Process(pid)
    total = pool = 0.0
    for proc in [root, *root.children(recursive=True)]:
        try:
            t = proc.cpu_times()
            in_pool = "forkserver" in " ".join(proc.cmdline())
        except psutil.NoSuchProcess:
            continue
        total += t.user + t.system
        pool += (t.user + t.system) if in_pool else 0.0
    return total, pool
