"""One party signature over HTTP, against stock pyHanko making the same signature.

What a party waits for after the face scan: ``POST /api/v1/contracts/{id}/signatures``
on a real server (``python -m server serve``), from the request to the
answer. The face verification is done beforehand and not timed. The
contracts are contract-only sales (no funds custody): one request signs the
party's field in the sale's two documents, the contract and the transaction
notice (``--custody``: three). The signature is not the last one of its sale
(no filing in the measured time); the last signatures are measured in a row
of their own.

The baselines, in the same run and interleaved with the HTTP requests so all
see the same machine: stock pyHanko making the same visible CJK PAdES B-T
signature the documented way (``benchmarks/bench_signing.py``'s baseline:
``SimpleSigner`` from files, ``TextStampStyle`` in the CJK font over the
handwriting, ``DummyTimeStamper``), in this process: once in the contract (one
signature), and in each document the request signs (the same work as the
request's).

Besides wall-clock time it prints the server's CPU time per request (all its
processes: the worker and its CPU pool, read with psutil), which does not
move when the load generator shares the cores.

Run: ``python benchmarks/bench_sign_http.py [--services] [--signatures 30]``
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import httpx  # noqa: E402
from bench_signing import baseline_signer, handwriting_png, sample_contract  # noqa: E402
from PIL import Image  # noqa: E402
from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory  # noqa: E402
from pyhanko.pdf_utils.images import PdfImage  # noqa: E402
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter  # noqa: E402
from pyhanko.pdf_utils.text import TextBoxStyle  # noqa: E402
from pyhanko.sign import fields, signers  # noqa: E402
from pyhanko.stamp import TextStampStyle  # noqa: E402
from server_cpu import server_cpu_s, wait_until_quiet  # noqa: E402

from server.domain.documents import DOCUMENT_TITLES, kinds_for  # noqa: E402
from signing.appearance import text_font_path  # noqa: E402
from signing.pades import prepare_for_signing  # noqa: E402
from signing.pki import Pki  # noqa: E402
from signing.render import render_document  # noqa: E402
from tests import flows  # noqa: E402
from tests import sale as s  # noqa: E402
from tests.backends import Backend  # noqa: E402
from tests.live import LiveServer  # noqa: E402
from tests.samples import sample_contract_document  # noqa: E402


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def stock_pyhanko(kinds: tuple[str, ...]) -> tuple[Callable[[], bytes],
                                                   Callable[[], list[bytes]]]:
    """Callables making the baseline signature in the contract, and in every document of
    ``kinds`` (set up once, outside the timing)."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-sign-http-"))
    pki = Pki.load_or_create(tmp / "pki", b"benchmark passphrase", "http://127.0.0.1:8000")
    pdf, slots, party_fields = sample_contract()
    prepared = prepare_for_signing(pdf, slots, pki=pki)
    others = []
    for kind in kinds[1:]:
        other = render_document(kind, sample_contract_document())
        others.append(prepare_for_signing(other.pdf, other.slots, pki=pki))
    signer, tsa = baseline_signer(pki, tmp)
    png = handwriting_png()
    style = TextStampStyle(
        stamp_text="签署人：%(signer)s\n时间：%(ts)s",
        text_box_style=TextBoxStyle(font=GlyphAccumulatorFactory(str(text_font_path()))),
        background=PdfImage(Image.open(io.BytesIO(png))),
        background_opacity=1.0,
    )
    meta = signers.PdfSignatureMetadata(
        field_name=party_fields[0], subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256")

    def sign(document: bytes = prepared) -> bytes:
        writer = IncrementalPdfFileWriter(io.BytesIO(document))
        pdf_signer = signers.PdfSigner(meta, signer, timestamper=tsa, stamp_style=style)
        return pdf_signer.sign_pdf(writer, existing_fields_only=True).getvalue()

    def sign_each() -> list[bytes]:
        return [sign(document) for document in (prepared, *others)]

    return sign, sign_each


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--services", action="store_true", help="PostgreSQL + Redis")
    parser.add_argument("--workers", type=int, default=None,
                        help="server workers (default: 1 embedded, 2 with --services)")
    parser.add_argument("--signatures", type=int, default=30,
                        help="party signatures measured (two per sale)")
    parser.add_argument("--custody", action="store_true",
                        help="sales with funds custody (three documents per signature)")
    args = parser.parse_args()
    backend_name = "services" if args.services else "embedded"
    workers = args.workers or (2 if args.services else 1)
    sales_needed = max(2, (args.signatures + 1) // 2)
    kinds = kinds_for({"funds_custody": args.custody})
    baseline, baseline_step = stock_pyhanko(kinds)
    for _ in range(2):
        baseline_step()

    with tempfile.TemporaryDirectory(prefix="bench-sign-http-") as tmp:
        backend = Backend(backend_name, Path(tmp))
        try:
            env = backend.new_database_env(Path(tmp) / "data")
            server = LiveServer(env, workers=workers)
            server.migrate()
            server.start(timeout=120)
            try:
                with httpx.Client(base_url=server.base_url, timeout=120) as api:
                    client = s.registry_client(server, api)
                    sales = [s.sale_in_signing(server, api, sellers=1, buyers=2, client=client,
                                               terms_over={"funds_custody": args.custody})
                             for _ in range(sales_needed)]
                    print(f"  {len(sales)} sales in signing", file=sys.stderr)
                    time.sleep(3)  # let the confirmations' background work finish
                    png = s.signature_png(7)
                    http_ms: list[float] = []
                    cpu_ms: list[float] = []
                    loop_ms: list[float] = []
                    base_ms: list[float] = []
                    base_cpu_ms: list[float] = []
                    step_ms: list[float] = []
                    last_ms: list[float] = []
                    last_cpu_ms: list[float] = []
                    for sale in sales:
                        # the previous sale's filed documents are validated ahead once the
                        # pool idles (the baselines leave it idle): not in the measured time
                        wait_until_quiet(server.proc.pid, quiet_s=1.5)
                        for k, who in enumerate(sale.people):
                            fv = flows.passed_verification(api, who.token, "sign",
                                                           sale.contract_id)
                            cpu0, pool0 = server_cpu_s(server.proc.pid)
                            started = time.perf_counter()
                            s.expect(api.post(
                                f"/api/v1/contracts/{sale.contract_id}/signatures",
                                json={"face_verification_id": fv, "signature_image": png},
                                headers=who.headers), 201)
                            wall = (time.perf_counter() - started) * 1000
                            cpu1, pool1 = server_cpu_s(server.proc.pid)
                            cpu = (cpu1 - cpu0) * 1000
                            if k == len(sale.people) - 1:
                                last_ms.append(wall)
                                last_cpu_ms.append(cpu)
                            else:
                                http_ms.append(wall)
                                cpu_ms.append(cpu)
                                loop_ms.append(cpu - (pool1 - pool0) * 1000)
                            started, started_cpu = time.perf_counter(), time.process_time()
                            baseline()
                            base_ms.append((time.perf_counter() - started) * 1000)
                            base_cpu_ms.append((time.process_time() - started_cpu) * 1000)
                            started = time.perf_counter()
                            baseline_step()
                            step_ms.append((time.perf_counter() - started) * 1000)
            finally:
                server.stop()
        finally:
            backend.cleanup()

    # the first sale warms the worker, its pool and the caches
    http_ms, cpu_ms, loop_ms = http_ms[2:], cpu_ms[2:], loop_ms[2:]
    b50 = statistics.median(base_ms)
    h50 = statistics.median(http_ms)
    docs = (f"{len(kinds)} documents per signature ("
            + ", ".join(DOCUMENT_TITLES[k] for k in kinds) + ")")
    s50 = statistics.median(step_ms)
    print(f"\nBackend: **{backend_name}**, {workers} worker(s), {docs}, "
          f"{len(http_ms)} signatures measured, one at a time.\n")
    bc50, c50 = statistics.median(base_cpu_ms), statistics.median(cpu_ms)
    print("| case | median ms | p90 ms | CPU ms, median (server: outside the pool) "
          "| baseline / case: time, CPU |")
    print("|---|---:|---:|---:|---:|")
    print(f"| baseline: stock pyHanko, visible CJK stamp, B-T, in the contract (in process) "
          f"| {b50:.1f} | {pct(base_ms, 0.9):.1f} | {bc50:.1f} | |")
    print(f"| baseline: the same in each of the {len(kinds)} documents (in process) "
          f"| {s50:.1f} | {pct(step_ms, 0.9):.1f} | | |")
    print(f"| one party signature over HTTP, {len(kinds)} documents | {h50:.1f} | "
          f"{pct(http_ms, 0.9):.1f} | {c50:.1f} ({statistics.median(loop_ms):.1f}) "
          f"| {b50 / h50:.1f}×, {bc50 / c50:.1f}× (the {len(kinds)} documents: "
          f"{s50 / h50:.1f}×) |")
    print(f"| the last signature over HTTP (files and seals) | {statistics.median(last_ms):.1f}"
          f" | {pct(last_ms, 0.9):.1f} | {statistics.median(last_cpu_ms):.1f} | |")
    print("\nServer CPU is read from /proc in clock ticks (10 ms): medians of many requests.")
    print(f"\n({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
