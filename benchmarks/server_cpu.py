"""CPU time of a running server, for the benchmarks that print CPU per request or per sale.

CPU time does not move when the load generator shares the cores, so it is the number
to compare on a busy machine. The CPU pools' processes are the forkserver's children
(``server/cpu.py``); the rest is the main process and the workers' event loops.
"""

from __future__ import annotations

import time

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


def pool_job_cpu_s(base_url: str) -> dict[str, float]:
    """CPU seconds so far of the server's CPU-pool jobs, by job, from its ``/metrics``
    (``cpu_pool_job_cpu_seconds_total``, measured in the pool's processes)."""
    import httpx

    from tests.metrics import totals_by_label

    return totals_by_label(httpx.get(f"{base_url}/metrics", timeout=30).text,
                           "cpu_pool_job_cpu_seconds_total", "job")


def wait_until_quiet(pid: int, quiet_s: float = 3.0, timeout_s: float = 600.0) -> float:
    """Wait until the server ``pid`` has used almost no CPU for ``quiet_s`` (the work
    queued for its idle time, such as validating filed documents ahead, is done);
    returns the seconds waited. The window is longer than the pause the server leaves
    between two pieces of idle-time work."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        before = server_cpu_s(pid)[0]
        time.sleep(quiet_s)
        if server_cpu_s(pid)[0] - before < 0.02 * quiet_s:
            break
    return time.monotonic() - started
