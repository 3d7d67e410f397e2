"""Throughput and latency of the public verification page under concurrent load.

Every filed contract's QR code points at ``GET /v/{code}?t=``: a popular
listing or a bank's batch check can scan one code many times a second, so
the page must stay cheap. This starts a real server (``python -m server
serve``, as the API tests do), files one contract over the API, then drives
``N`` concurrent keep-alive clients against each endpoint for a fixed time
and prints a markdown table:

* ``/healthz`` — the baseline: routing, middleware and the HTTP stack, no I/O;
* ``/v/{code}`` — the page as deployed: one key-value round trip (quota and
  cache generation), then the worker's ready answer for this code and token;
* ``/api/v1/verify/{code}`` — the same facts as JSON;
* ``/v/{code}`` with a wrong token — the 404 every guesser gets: the gate's
  database lookup, whether the code exists or not;
* ``/v/{code}`` with ``VERIFY_CACHE_TTL_S=0`` — a restarted server on the same
  data without the caches, to show what they buy.

The load generator runs on the same machine as the server and competes with
it for the CPU; the ratios within one run are the meaningful numbers. The
server's CPU time per request (all its processes; PostgreSQL and Redis not
counted) moves less than wall time when other work shares the machine.

Run: ``python benchmarks/bench_verify.py [--services] [--duration S] [--concurrency N]``
(``--services``: PostgreSQL + Redis as in ``TEST_BACKEND=services``, 2 workers).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import aiohttp  # noqa: E402
import httpx  # noqa: E402
from server_cpu import server_cpu_s  # noqa: E402

from tests import sale  # noqa: E402
from tests.backends import Backend  # noqa: E402
from tests.live import LiveServer  # noqa: E402
from tests.verify.conftest import code_and_token  # noqa: E402


@dataclass
class Result:
    name: str
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    server_cpu_s: float = 0.0

    @property
    def cpu_us_per_request(self) -> float:
        return self.server_cpu_s / self.requests * 1e6 if self.requests else float("nan")

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _load(url: str, name: str, duration: float, concurrency: int,
                warmup: float, pid: int, expect: int = 200) -> Result:
    """``concurrency`` clients, each sending its next request as soon as the last answered."""
    latencies: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def client(until: float, record: bool) -> None:
            nonlocal errors
            while (start := time.perf_counter()) < until:
                try:
                    async with session.get(url) as resp:
                        await resp.read()
                        ok = resp.status == expect
                except aiohttp.ClientError:
                    ok = False
                if record:
                    latencies.append((time.perf_counter() - start) * 1000)
                    errors += 0 if ok else 1

        await asyncio.gather(*(client(time.perf_counter() + warmup, False)
                               for _ in range(concurrency)))
        cpu_before = server_cpu_s(pid)[0]
        began = time.perf_counter()
        await asyncio.gather(*(client(began + duration, True) for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
        cpu = server_cpu_s(pid)[0] - cpu_before
    return Result(name, len(latencies), errors, elapsed, latencies, cpu)


def _table(results: list[Result], backend: str, workers: int, concurrency: int,
           duration: float) -> str:
    base = results[0].rps or 1.0
    base_cpu = results[0].cpu_us_per_request
    lines = [
        f"Backend: **{backend}**, server workers: {workers}, {concurrency} concurrent clients, "
        f"{duration:g} s per row (same machine as the server).",
        "",
        "| endpoint | requests | req/s | p50 ms | p99 ms | unexpected | req/s vs /healthz "
        "| server CPU µs/req | CPU vs /healthz |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(f"| {r.name} | {r.requests} | {r.rps:,.0f} | {r.pct(0.5):.1f} | "
                     f"{r.pct(0.99):.1f} | {r.errors} | {r.rps / base:.2f} | "
                     f"{r.cpu_us_per_request:,.0f} | {r.cpu_us_per_request / base_cpu:.2f} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--services", action="store_true",
                        help="PostgreSQL + Redis (TEST_PG_ADMIN_URL / TEST_REDIS_URL)")
    parser.add_argument("--workers", type=int, default=None,
                        help="server workers (default: 1 embedded, 2 with --services)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per endpoint")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--skip-uncached", action="store_true",
                        help="do not restart without the facts cache")
    args = parser.parse_args()
    duration = min(max(args.duration, 1.0), 120.0)
    concurrency = min(max(args.concurrency, 1), 512)
    backend_name = "services" if args.services else "embedded"
    # The embedded key-value store lives in one process: one worker (the CLI insists).
    workers = args.workers or (2 if args.services else 1)

    with tempfile.TemporaryDirectory(prefix="bench-verify-") as tmp:
        backend = Backend(backend_name, Path(tmp))
        try:
            env = backend.new_database_env(Path(tmp) / "data")
            env.update({"VERIFY_RATE_LIMIT_PER_MINUTE": str(10**9), "LOG_LEVEL": "WARNING"})
            server = LiveServer(env, workers=workers)
            server.migrate()
            server.start(timeout=120)
            try:
                with httpx.Client(base_url=server.base_url, timeout=120) as api:
                    filed = sale.filed_sale(server, api, sellers=1, buyers=1)
                    view = sale.expect(api.get(f"/api/v1/contracts/{filed.contract_id}",
                                               headers=filed.sellers[0].headers), 200)
                code, token = code_and_token(view["verification_url"])
                page = f"{server.base_url}/v/{code}?t={token}"
                as_json = f"{server.base_url}/api/v1/verify/{code}?t={token}"
                wrong = f"{server.base_url}/v/{code}?t={'x' * len(token)}"
                results = []
                for name, url, expect in (
                        ("GET /healthz (baseline)", f"{server.base_url}/healthz", 200),
                        ("GET /v/{code}?t= (ready answer)", page, 200),
                        ("GET /api/v1/verify/{code}?t= (ready answer)", as_json, 200),
                        ("GET /v/{code}?t=wrong (404 through the gate)", wrong, 404)):
                    results.append(asyncio.run(_load(url, name, duration, concurrency, 1.0,
                                                     server.proc.pid, expect)))
                    print(f"  {name}: {results[-1].rps:,.0f} req/s", file=sys.stderr)
            finally:
                server.stop()
            if not args.skip_uncached:
                server = LiveServer({**env, "VERIFY_CACHE_TTL_S": "0"}, workers=workers)
                server.start(timeout=120)
                try:
                    name = "GET /v/{code}?t= (caches off)"
                    uncached = f"{server.base_url}/v/{code}?t={token}"
                    results.append(asyncio.run(_load(uncached, name, duration, concurrency, 1.0,
                                                     server.proc.pid)))
                    print(f"  {name}: {results[-1].rps:,.0f} req/s", file=sys.stderr)
                finally:
                    server.stop()
        finally:
            backend.cleanup()
    print(_table(results, backend_name, workers, concurrency, duration))
    cached = results[1]
    print(f"\nPage p50 {cached.pct(0.5):.1f} ms, p99 {cached.pct(0.99):.1f} ms, "
          f"{cached.rps / (results[0].rps or 1.0):.2f} × /healthz; "
          f"{statistics.fmean(r.rps for r in results[1:3]):,.0f} req/s on average for the "
          f"page and its JSON. Load generator CPU: {time.process_time():.1f} s.")
    return 1 if any(r.errors for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
