"""How long rendering the contract takes, cached versus naive.

Rendering runs on every contract freeze and every re-render for preview, in a
process pool on a 2-core machine, so its cost bounds throughput. This prints
a markdown table comparing :func:`signing.render.render_contract` (fonts,
font book and compiler cached per process) with the naive way of calling
typst: ``typst.compile`` and ``typst.query`` per contract, each scanning the
font directory and parsing the CJK fonts again.

Run: ``python benchmarks/bench_render.py [runs]``.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime
from datetime import time as dtime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import typst  # noqa: E402

from signing import render  # noqa: E402
from signing.document import ContractDocument  # noqa: E402
from signing.preview import render_page_png  # noqa: E402
from signing.qr import qr_svg  # noqa: E402
from tests.samples import sample_contract_document  # noqa: E402


def _timed(fn: Callable[[], object], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def _p90(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def _variant(i: int) -> ContractDocument:
    # A different number and URL change every page (footer, QR), so typst
    # cannot reuse an earlier layout: the cost of a new contract.
    return sample_contract_document(
        contract_no=f"XNCL20261123{i:05d}",
        verification_url=f"http://127.0.0.1:8000/v/AB{i:06d}?t=Zq3xK9vB2mLp7RtY_wE5nH8cJ-{i:06d}",
    )


def _naive(doc: ContractDocument) -> None:
    """Same template and inputs, but a fresh typst world (font scan and parse)
    for the compile and again for the slot query, as plain typst.compile does."""
    renderer = render._renderer(None)
    font_dirs = list(renderer.fonts.dirs)
    inputs = {
        "data": json.dumps(render.template_data(doc, renderer.families), ensure_ascii=False),
        "qr": qr_svg.__wrapped__(doc.verification_url, border=0),
    }
    stamp = datetime.combine(doc.issued_on, dtime(0), tzinfo=render._CHINA_TZ)
    pdf = typst.compile(
        str(render.TEMPLATE),
        root=str(render.TEMPLATE_DIR),
        font_paths=font_dirs,
        ignore_system_fonts=True,
        sys_inputs=inputs,
        pdf_standards=[render.PDF_STANDARD],
        timestamp=stamp,
    )
    slots = typst.query(
        str(render.TEMPLATE),
        "<signature-slot>",
        field="value",
        root=str(render.TEMPLATE_DIR),
        font_paths=font_dirs,
        ignore_system_fonts=True,
        sys_inputs=inputs,
    )
    assert pdf and json.loads(slots)


def main(runs: int = 30) -> None:
    doc = sample_contract_document()

    start = time.perf_counter()
    first = render.render_contract(doc)
    first_ms = (time.perf_counter() - start) * 1000

    same_cached = _timed(lambda: render.render_contract(doc), runs)
    same_naive = _timed(lambda: _naive(doc), runs)
    counter = iter(range(1, 10**6))
    new_cached = _timed(lambda: render.render_contract(_variant(next(counter))), runs)
    new_naive = _timed(lambda: _naive(_variant(next(counter))), runs)
    preview = _timed(lambda: render_page_png(first.pdf, 1, 750), runs)

    cpus = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cpus
    print(f"CPUs: {cpus} (usable by this process: {usable}); typst-py {typst.__version__}")
    print(f"Sample contract: {first.page_count} pages, {len(first.pdf) / 1024:.0f} KiB, PDF/A-2b")
    print(f"First render in a fresh process (fonts, cmaps, compiler): {first_ms:.0f} ms")
    print()
    print("| case | cached render_contract median / p90 ms | naive median / p90 ms | ratio |")
    print("|---|---:|---:|---:|")
    for name, cached, naive in (
        ("standard sample, re-rendered", same_cached, same_naive),
        ("new contract each run (number, URL)", new_cached, new_naive),
    ):
        ratio = statistics.median(naive) / statistics.median(cached)
        print(
            f"| {name} ({runs} runs) | {statistics.median(cached):.1f} / {_p90(cached):.1f} | "
            f"{statistics.median(naive):.1f} / {_p90(naive):.1f} | {ratio:.1f}x |"
        )
    print(
        f"| render_page_png page 1, 750 px ({runs} runs) | "
        f"{statistics.median(preview):.1f} / {_p90(preview):.1f} | | |"
    )
    print()
    print("naive = typst.compile + typst.query per contract, each scanning and parsing the fonts.")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
