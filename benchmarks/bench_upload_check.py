"""The public PDF check (``POST /api/v1/verify/{code}/document``) of filed documents.

Most uploads to the check are the filed original itself. This starts a real server
(``python -m server serve``, as the API tests do), files ``--contracts`` sales over the
API, waits until the background has validated each filed document (the durable report,
:mod:`server.services.verification.filed_reports`), then measures over HTTP, one
request at a time:

* ``GET /healthz`` — the HTTP stack, no I/O (a floor);
* **first check** of each filed original (the durable report: no validation);
* **repeat checks** of the same originals;
* **first check without a stored report** — the row deleted first, so the check
  validates the file in the pool, as every first check did before the durable
  report: the *before* of this change, measured in the same run;
* **a modified copy** — the filed PDF plus one incremental update (a changed
  catalogue entry): always a full pyHanko validation.

Each row prints wall time (p50 / p90) and the CPU the server's processes (workers
and their CPU pools, read from ``/proc``) spent per request; the machine is shared,
so compare CPU time and the ratios within one run.

Run: ``python benchmarks/bench_upload_check.py [--services] [--contracts N] [--repeats N]``
(``--services``: PostgreSQL + Redis as in ``TEST_BACKEND=services``, 2 workers).
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import httpx  # noqa: E402
from server_cpu import server_cpu_s  # noqa: E402

from tests import sale  # noqa: E402
from tests.backends import Backend  # noqa: E402
from tests.db import with_db  # noqa: E402
from tests.live import LiveServer  # noqa: E402
from tests.pdf_edits import add_revision  # noqa: E402
from tests.verify.conftest import code_and_token  # noqa: E402

PDF = {"Content-Type": "application/pdf"}
@dataclass
class Row:
    name: str
    wall_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    sources: set[str] = field(default_factory=set)

    def pct(self, q: float) -> float:
        ordered = sorted(self.wall_ms)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    @property
    def cpu(self) -> float:
        return statistics.median(self.cpu_ms)


@dataclass
class Filed:
    path: str
    pdf: bytes
    sha256: str


def timed(api: httpx.Client, session: int, row: Row, method: str, path: str,
          body: bytes | None = None) -> dict:
    cpu = server_cpu_s(session)[0]
    start = time.perf_counter()
    if method == "GET":
        r = api.get(path)
    else:
        r = api.post(path, content=body, headers=PDF)
    row.wall_ms.append((time.perf_counter() - start) * 1000)
    row.cpu_ms.append((server_cpu_s(session)[0] - cpu) * 1000)
    if r.status_code != 200:
        raise RuntimeError(f"{path}: {r.status_code} {r.text[:300]}")
    return r.json() if method == "POST" else {}


def wait_for_reports(env: dict[str, str], digests: list[str], timeout: float) -> float:
    from server.models import FiledDocumentReport

    start = time.monotonic()
    while time.monotonic() - start < timeout:
        async def count() -> int:
            return await FiledDocumentReport.filter(sha256__in=digests).count()

        if with_db(env, count) == len(digests):
            return time.monotonic() - start
        time.sleep(0.5)
    raise RuntimeError("the background did not validate the filed documents in time")


def forget_reports(env: dict[str, str], digests: list[str]) -> None:
    from server.models import FiledDocumentReport

    async def delete() -> None:
        await FiledDocumentReport.filter(sha256__in=digests).delete()

    with_db(env, delete)


def _table(rows: list[Row], before: Row, backend: str, workers: int, contracts: int) -> str:
    lines = [
        f"Backend: **{backend}**, server workers: {workers}, {contracts} filed contracts, "
        "one request at a time (client on the same machine).",
        "",
        "| case | requests | p50 ms | p90 ms | server CPU ms/request (median) | "
        "p50 vs full validation | CPU vs full validation |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.name} | {len(r.wall_ms)} | {r.pct(0.5):.1f} | {r.pct(0.9):.1f} | "
            f"{r.cpu:.0f} | {r.pct(0.5) / before.pct(0.5):.3f} | "
            f"{(r.cpu / before.cpu) if before.cpu else float('nan'):.3f} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--services", action="store_true",
                        help="PostgreSQL + Redis (TEST_PG_ADMIN_URL / TEST_REDIS_URL)")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--contracts", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5, help="repeat checks per contract")
    args = parser.parse_args()
    contracts = min(max(args.contracts, 1), 20)
    backend_name = "services" if args.services else "embedded"
    workers = args.workers or (2 if args.services else 1)

    with tempfile.TemporaryDirectory(prefix="bench-upload-") as tmp:
        backend = Backend(backend_name, Path(tmp))
        try:
            env = backend.new_database_env(Path(tmp) / "data")
            env.update({"VERIFY_RATE_LIMIT_PER_MINUTE": str(10**9),
                        "VERIFY_DOCUMENT_RATE_LIMIT_PER_MINUTE": str(10**9),
                        "LOG_LEVEL": "WARNING"})
            server = LiveServer(env, workers=workers)
            server.migrate()
            server.start(timeout=120)
            try:
                rows, before = run(server, contracts, args.repeats)
            finally:
                server.stop()
        finally:
            backend.cleanup()
    print(_table(rows, before, backend_name, workers, contracts))
    return 0


def run(server: LiveServer, contracts: int, repeats: int) -> tuple[list[Row], Row]:
    filed: list[Filed] = []
    with httpx.Client(base_url=server.base_url, timeout=300) as api:
        for i in range(contracts):
            s = sale.filed_sale(server, api, sellers=1, buyers=1)
            view = sale.expect(api.get(f"/api/v1/contracts/{s.contract_id}",
                                       headers=s.sellers[0].headers), 200)
            code, token = code_and_token(view["verification_url"])
            pdf = sale.expect_pdf(api.get(f"/api/v1/contracts/{s.contract_id}/document.pdf",
                                          headers=s.sellers[0].headers))
            filed.append(Filed(f"/api/v1/verify/{code}/document?t={token}", pdf,
                               hashlib.sha256(pdf).hexdigest()))
            print(f"  filed {i + 1}/{contracts}", file=sys.stderr)
        digests = [f.sha256 for f in filed]
        waited = wait_for_reports(server.env, digests, timeout=600)
        print(f"  background reports ready {waited:.1f} s after the last filing",
              file=sys.stderr)
        session = server.proc.pid
        health = Row("`GET /healthz` (floor)")
        for _ in range(20):
            timed(api, session, health, "GET", "/healthz")
        first = Row("first check of the filed original (durable report)")
        for f in filed:
            report = timed(api, session, first, "POST", f.path, f.pdf)
            assert report["identical"] and report["signatures_valid"], report
        repeat = Row("repeat check of the filed original")
        for _ in range(repeats):
            for f in filed:
                timed(api, session, repeat, "POST", f.path, f.pdf)
        forget_reports(server.env, digests)
        before = Row("first check, no stored report: full validation (before)")
        for f in filed:
            report = timed(api, session, before, "POST", f.path, f.pdf)
            assert report["identical"] and report["signatures_valid"], report
        changed = Row("a modified copy (one incremental update): full validation")
        for f in filed:
            report = timed(api, session, changed, "POST", f.path, add_revision(f.pdf))
            assert report["conclusion"]["level"] == "bad", report
    return [health, first, repeat, before, changed], before


if __name__ == "__main__":
    raise SystemExit(main())
