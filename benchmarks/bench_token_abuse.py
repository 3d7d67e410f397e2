"""What guessing registry client secrets costs everybody else: ``/healthz`` latency.

Every failed ``POST /registry/v1/token`` costs a scrypt (N=2^14, 16 MiB). This starts a
real server, creates a registry client, and probes ``/healthz`` (one request every
20 ms) while an attacker sends wrong secrets for that client at a fixed rate:

* baseline — nobody attacks;
* unthrottled — the failure limits set out of reach: every guess runs its scrypt (in a
  thread, two at a time per worker, off the event loop);
* throttled — the default limits: after 5 failures the client id is refused (429)
  before any scrypt.

Run: ``python benchmarks/bench_token_abuse.py [--rate 12] [--seconds 10]``. The attacker,
the prober and the server share this machine's cores; compare rows of one run.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from tests import sale  # noqa: E402
from tests.backends import Backend  # noqa: E402
from tests.live import LiveServer  # noqa: E402


async def _probe(base: str, seconds: float) -> list[float]:
    out: list[float] = []
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            t = time.perf_counter()
            await c.get("/healthz")
            out.append((time.perf_counter() - t) * 1000)
            await asyncio.sleep(0.02)
    return out


async def _attack(base: str, client_id: str, rate: float, seconds: float) -> dict[int, int]:
    codes: dict[int, int] = {}

    async def one(c: httpx.AsyncClient) -> None:
        r = await c.post("/registry/v1/token", auth=(client_id, "wrong-secret"),
                         data={"grant_type": "client_credentials"})
        codes[r.status_code] = codes.get(r.status_code, 0) + 1

    async with httpx.AsyncClient(base_url=base, timeout=60) as c:
        tasks = []
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            tasks.append(asyncio.create_task(one(c)))
            await asyncio.sleep(1 / rate)
        await asyncio.gather(*tasks)
    return codes


async def _case(base: str, client_id: str | None, rate: float, seconds: float
                ) -> tuple[list[float], dict[int, int]]:
    if client_id is None:
        return await _probe(base, seconds), {}
    probe = asyncio.create_task(_probe(base, seconds))
    codes = await _attack(base, client_id, rate, seconds)
    return await probe, codes


def _run(env: dict[str, str], rate: float, seconds: float, attack: bool
         ) -> tuple[list[float], dict[int, int]]:
    server = LiveServer(env)
    server.migrate()
    server.start()
    try:
        with httpx.Client(base_url=server.base_url, timeout=30) as api:
            client = sale.registry_client(server, api)
        return asyncio.run(_case(server.base_url, client.client_id if attack else None,
                                 rate, seconds))
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=12.0, help="wrong secrets per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-token-"))
    backend = Backend("embedded", tmp)
    unthrottled = {"REGISTRY_TOKEN_FAILURES_PER_CLIENT": "1000000",
                   "REGISTRY_TOKEN_FAILURES_PER_ADDRESS": "1000000"}
    cases = [("baseline: nobody attacks", {}, False),
             (f"unthrottled: {args.rate:g} wrong secrets/s, scrypt each", unthrottled, True),
             (f"throttled (defaults): {args.rate:g} wrong secrets/s", {}, True)]
    print("| case | /healthz p50 ms | p99 ms | max ms | p99 / baseline p99 | token answers |")
    print("|---|---:|---:|---:|---:|---|")
    base_p99 = None
    for i, (name, extra, attack) in enumerate(cases):
        env = {**backend.new_database_env(tmp / f"data{i}"), **extra}
        lat, codes = _run(env, args.rate, args.seconds, attack)
        lat.sort()
        p50, p99 = statistics.median(lat), lat[int(len(lat) * 0.99) - 1]
        base_p99 = base_p99 or p99
        print(f"| {name} | {p50:.1f} | {p99:.1f} | {lat[-1]:.1f} | {p99 / base_p99:.2f} | "
              f"{', '.join(f'{k}×{v}' for k, v in sorted(codes.items())) or '—'} |")


if __name__ == "__main__":
    main()
