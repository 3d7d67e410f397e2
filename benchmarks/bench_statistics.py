"""Is ``GET /registry/v1/statistics`` fast on a million contracts?

Run: ``.venv/bin/python benchmarks/bench_statistics.py [--rows 1000000] [--backend
embedded|services|both] [--runs 7]``

For each backend, a scratch database (a SQLite file in a temporary directory; a
PostgreSQL database of its own on 127.0.0.1:5432, dropped at the end) is migrated
and filled by the database itself (``stats_data.py``: one INSERT … SELECT per
table over a generated series): ~1e6 contracts in 10 regions over three years,
870k of them filed (their rows in the statistics' read model ``filing_facts``),
174k rated. Then, with the statistics' indexes and without them, in the same run
and on the same connection:

(a) baseline: ``SELECT count(*) FROM contracts`` (the whole table);
(b) the statistics of one region for one year by month, and (c) by district,
    through :func:`server.services.statistics.statistics` (SQL and the Python
    around it).

Prints a markdown table of median / p90 ms and the ratio to (a).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics as py_stats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import stats_data  # noqa: E402

from server.config import Settings  # noqa: E402
from server.db import close_orm, init_orm, run_migrations  # noqa: E402
from server.services import statistics  # noqa: E402

PG_ADMIN = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://root@127.0.0.1:5432/test")


async def _timed(fn, runs: int) -> list[float]:
    await fn()  # warm: caches, plans
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        await fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def _summary(ms: list[float]) -> tuple[float, float]:
    ordered = sorted(ms)
    return py_stats.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]


async def _indexes(conn) -> list[str]:
    """The names of the two statistics indexes, as the migration created them."""
    if conn.capabilities.dialect == "sqlite":
        rows = await conn.execute_query_dict("PRAGMA index_list('filing_facts')")
        names = [r["name"] for r in rows]
        found = []
        for name in names:
            cols = [c["name"] for c in await conn.execute_query_dict(
                f"PRAGMA index_info('{name}')")]
            if cols in (["region_code", "filed_at"], ["region_code", "revoked_at"]):
                found.append(name)
        return found
    rows = await conn.execute_query_dict(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'filing_facts'")
    return [r["indexname"] for r in rows
            if "(region_code, filed_at)" in r["indexdef"]
            or "(region_code, revoked_at)" in r["indexdef"]]


async def _run(settings: Settings, rows: int, runs: int) -> list[tuple[str, list[float]]]:
    from tortoise import connections

    await run_migrations(settings)
    await init_orm(settings)
    try:
        started = time.perf_counter()
        await stats_data.populate(rows)
        print(f"  filled {rows:,} contracts in {time.perf_counter() - started:.1f} s",
              file=sys.stderr)
        conn = connections.get("default")
        window = statistics.parse_window("2025-01-01", "2025-12-31")
        region = "430104"

        async def baseline():
            await conn.execute_query_dict("SELECT count(*) AS n FROM contracts")

        async def by_month():
            out = await statistics.statistics(region, window, "month")
            assert len(out["rows"]) == 12 and sum(r["filed"] for r in out["rows"]) > 0

        async def by_district():
            out = await statistics.statistics(region, window, "district")
            assert len(out["rows"]) == stats_data.DISTRICTS

        results = [("baseline: SELECT count(*) FROM contracts", await _timed(baseline, runs)),
                   ("one region, one year, by month", await _timed(by_month, runs)),
                   ("one region, one year, by district", await _timed(by_district, runs))]
        dropped = await _indexes(conn)
        for name in dropped:
            await conn.execute_script(f'DROP INDEX "{name}"')
        await conn.execute_script("ANALYZE")
        results += [("by month, without the (region_code, filed_at/revoked_at) indexes",
                     await _timed(by_month, runs)),
                    ("by district, without them", await _timed(by_district, runs))]
        return results
    finally:
        await close_orm()


async def _pg_database() -> str:
    import asyncpg

    name = f"bench_stats_{os.getpid()}_{secrets.token_hex(3)}"
    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return name


async def _drop_pg(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def bench(backend: str, rows: int, runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {"DATA_DIR": tmp, "LOG_LEVEL": "WARNING"}
        pg_name = None
        if backend == "services":
            pg_name = asyncio.run(_pg_database())
            env["DATABASE_URL"] = PG_ADMIN.rsplit("/", 1)[0].replace(
                "postgresql://", "postgres://") + f"/{pg_name}"
        try:
            print(f"{backend}: …", file=sys.stderr)
            results = asyncio.run(_run(Settings.from_env(env), rows, runs))
        finally:
            if pg_name:
                asyncio.run(_drop_pg(pg_name))
    base = _summary(results[0][1])[0]
    label = "SQLite" if backend == "embedded" else "PostgreSQL"
    print(f"\n**{label}**, {rows:,} contracts, {runs} runs each\n")
    print("| case | median ms | p90 ms | / baseline |")
    print("|---|---:|---:|---:|")
    for name, ms in results:
        median, p90 = _summary(ms)
        print(f"| {name} | {median:.1f} | {p90:.1f} | {median / base:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--backend", choices=["embedded", "services", "both"], default="both")
    args = parser.parse_args()
    for backend in (["embedded", "services"] if args.backend == "both" else [args.backend]):
        bench(backend, args.rows, args.runs)


if __name__ == "__main__":
    main()
