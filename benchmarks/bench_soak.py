"""Soak: many complete sales; memory of every process, and /healthz while they run.

Two questions a city-scale deployment asks: does any process grow (a leak shows as RSS
that keeps rising after warm-up), and does the service stay responsive to its health
checks while it is saturated with sales (a load balancer that sees /healthz stall takes
the host out). The run:

1. warm-up sales at full concurrency, then the RSS of the main process, each worker
   and each CPU-pool process (the baseline);
2. ``--sales`` complete sales at ``--concurrency`` concurrent clients, while a probe
   asks ``/healthz`` every 20 ms from a process of its own, as a load balancer would
   (and a second one in the load generator's event loop, as this benchmark first
   did: it also times that loop); RSS sampled every 50 sales;
3. prints RSS growth per process after warm-up and the /healthz p50/p99 under load
   next to the same probe with the server idle (the baseline).

    python benchmarks/bench_soak.py --sales 2000 --concurrency 32           # embedded
    python benchmarks/bench_soak.py --services --sales 2000 --concurrency 32
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_e2e import Flow  # noqa: E402

from tests import sale as s  # noqa: E402
from tests.backends import Backend  # noqa: E402
from tests.live import LiveServer  # noqa: E402


def rss_by_process(main: psutil.Process) -> dict[str, float]:
    """MiB per process, named by role (main, worker-N, pool-N.M)."""
    out = {"main": main.memory_info().rss / 2**20}
    workers = [p for p in main.children() if p.children()]
    for i, w in enumerate(sorted(workers, key=lambda p: p.pid)):
        out[f"worker-{i}"] = w.memory_info().rss / 2**20
        pool = [p for p in w.children(recursive=True) if p.children() == []]
        for j, p in enumerate(sorted(pool, key=lambda p: p.pid)):
            try:
                out[f"pool-{i}.{j}"] = p.memory_info().rss / 2**20
            except psutil.NoSuchProcess:
                pass
    return out


async def probe(base_url: str, stop: asyncio.Event, latencies: list[float]) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as c:
        while not stop.is_set():
            started = time.perf_counter()
            r = await c.get("/healthz")
            if r.status_code == 200:
                latencies.append(time.perf_counter() - started)
            await asyncio.sleep(0.02)


def _probe_forever(base_url: str, stop: Any, out: Any) -> None:
    latencies = []
    with httpx.Client(base_url=base_url, timeout=10) as c:
        while not stop.is_set():
            started = time.perf_counter()
            r = c.get("/healthz")
            if r.status_code == 200:
                latencies.append(time.perf_counter() - started)
            time.sleep(0.02)
    out.put(latencies)


class ProbeProcess:
    """``/healthz`` every 20 ms from a process of its own, as a load balancer asks: the
    in-loop :func:`probe` also times the load generator's own event loop, which runs 32
    sales' requests and responses (PDFs among them) beside it."""

    def __init__(self, base_url: str) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._stop, self._out = ctx.Event(), ctx.Queue()
        self._proc = ctx.Process(target=_probe_forever,
                                 args=(base_url, self._stop, self._out), daemon=True)
        self._proc.start()

    def stop(self) -> list[float]:
        self._stop.set()
        latencies = self._out.get(timeout=60)
        self._proc.join(10)
        return latencies


async def idle_probe(base_url: str, seconds: float) -> tuple[list[float], list[float]]:
    """The idle server, probed both ways: (own process, in the load generator's loop)."""
    own = ProbeProcess(base_url)
    stop, out = asyncio.Event(), []
    task = asyncio.create_task(probe(base_url, stop, out))
    await asyncio.sleep(seconds)
    stop.set()
    await task
    return own.stop(), out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def soak(base_url: str, registry: s.RegistryClient, main: psutil.Process, sales: int,
               concurrency: int
               ) -> tuple[float, list[float], list[float], list[dict[str, float]]]:
    """Sales per second, ``/healthz`` latencies (own process, in the load generator's
    loop) and the RSS samples."""
    timings: dict[str, list[float]] = defaultdict(list)
    samples: list[dict[str, float]] = []
    latencies: list[float] = []
    stop = asyncio.Event()
    limits = httpx.Limits(max_connections=concurrency * 2)
    async with httpx.AsyncClient(base_url=base_url, timeout=300, limits=limits) as client:
        flow = Flow(client, registry, timings)
        remaining = sales
        done = 0

        async def worker() -> None:
            nonlocal remaining, done
            while remaining > 0:
                remaining -= 1
                await flow.sale()
                done += 1
                if done % 50 == 0:
                    samples.append(rss_by_process(main))
                    # as it goes, so a run stopped early still tells what it saw
                    rss = " ".join(f"{k}={v:.0f}" for k, v in samples[-1].items())
                    print(f"  {done} sales, {time.perf_counter() - started:.0f} s, RSS MiB: "
                          f"{rss}", file=sys.stderr, flush=True)

        own = ProbeProcess(base_url)
        started = time.perf_counter()
        prober = asyncio.create_task(probe(base_url, stop, latencies))
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
        stop.set()
        await prober
        separate = own.stop()
    return sales / elapsed, separate, latencies, samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--services", action="store_true")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sales", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    backend = Backend("services" if args.services else "embedded", tmp)
    env = backend.new_database_env(tmp / "data")
    env["LOG_LEVEL"] = "WARNING"
    server = LiveServer(env, workers=args.workers if args.services else 1)
    server.migrate()
    server.start(timeout=180)
    try:
        with httpx.Client(base_url=server.base_url, timeout=60) as api:
            registry = s.registry_client(server, api)
        main_proc = psutil.Process(server.proc.pid)
        idle, idle_in_loop = asyncio.run(idle_probe(server.base_url, 5))
        # at full concurrency, so every worker and every pool process has done real work
        # before the baseline is taken (at 8, a second worker's pool could still be idle)
        asyncio.run(soak(server.base_url, registry, main_proc, args.warmup, args.concurrency))
        baseline = rss_by_process(main_proc)
        rate, busy, busy_in_loop, samples = asyncio.run(
            soak(server.base_url, registry, main_proc, args.sales, args.concurrency))
        final = rss_by_process(main_proc)
    finally:
        server.stop()
        backend.cleanup()
    label = (f"PostgreSQL + Redis, {args.workers} workers" if args.services
             else "embedded (SQLite), 1 worker")
    print(f"\n### Soak — {label}, {os.cpu_count()} CPUs: {args.sales} sales after "
          f"{args.warmup} warm-up sales, {args.concurrency} concurrent, {rate:.2f} sales/s\n")
    print("| process | RSS after warm-up MiB | peak MiB | at the end MiB | growth |")
    print("|---|---:|---:|---:|---:|")
    for name, before in baseline.items():
        after = final.get(name)
        peak = max([x.get(name, 0.0) for x in samples] + [after or 0.0])
        growth = f"{(after / before - 1) * 100:+.1f}%" if after else "gone"
        print(f"| {name} | {before:.0f} | {peak:.0f} | {after or 0:.0f} | {growth} |")
    print("\n| `/healthz` every 20 ms | n | p50 ms | p99 ms | p99 / baseline |")
    print("|---|---:|---:|---:|---:|")
    for how, quiet, loaded in (("from a process of its own", idle, busy),
                               ("in the load generator's event loop", idle_in_loop,
                                busy_in_loop)):
        print(f"| {how}: baseline, server idle | {len(quiet)} | {pct(quiet, .5):.1f} | "
              f"{pct(quiet, .99):.1f} | 1.00 |")
        print(f"| {how}: during {args.concurrency} concurrent sales | {len(loaded)} | "
              f"{pct(loaded, .5):.1f} | {pct(loaded, .99):.1f} | "
              f"{pct(loaded, .99) / pct(quiet, .99):.2f} |")


if __name__ == "__main__":
    main()
