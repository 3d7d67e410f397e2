"""What does an evidence report (证据报告) cost, against rendering the contract itself?

Run: ``.venv/bin/python benchmarks/bench_evidence.py [--runs 30]``

In one process, one after the other, with the fonts and compilers warm:

(a) baseline: :func:`signing.render.render_contract` of the standard sample
    contract (6 pages, a new contract number each time);
(b) the report rendered (typst, PDF/A-2b) for a filed sale's worth of facts:
    17 timeline events, 4 house checks, 6 face verifications, 5 document
    versions (no contract PDF to read signatures from: reading them is
    pyHanko parsing, small next to rendering);
(c) the same, rendered and sealed: platform certification (B-T with OCSP
    data), validation data and the document timestamp (B-LTA) — what the
    endpoint does in the CPU pool when the facts changed.

Prints a markdown table of median / p90 milliseconds and the ratio to (a).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from signing.evidence_report import (  # noqa: E402
    ChainCheck,
    DocumentVersion,
    EvidenceReport,
    FaceEvidence,
    HouseCheckEntry,
    Signer,
    TimelineEntry,
    build_report,
    render_report,
)
from signing.pki import Pki  # noqa: E402
from signing.render import render_contract  # noqa: E402
from tests.samples import sample_contract_document  # noqa: E402


def _facts() -> EvidenceReport:
    now = datetime.now(UTC).replace(microsecond=0)
    hexes = [f"{n:064x}" for n in range(1, 40)]
    certificate_no = "鄂(2024)咸宁市不动产权第8696713号"
    return EvidenceReport(
        contract_id="c0ffee00c0ffee00", contract_no="WQ4212022026120100001",
        filing_no="4212022026000001", filing_authority="咸宁市住房和城乡建设局",
        status_label="已备案", certificate_no=certificate_no,
        house_location="咸宁市咸安区温泉花园3栋2单元1202室",
        current_document_sha256=hexes[0],
        parties=(Signer("party-a", "出卖人", "王*国", "4212**********1234"),
                 Signer("party-b", "出卖人", "李*英", "4212**********2345"),
                 Signer("party-c", "买受人", "周*", "4212**********3456")),
        timeline=tuple(TimelineEntry(n, now, "当事人签署", "出卖人 王*国",
                                     "文件：0123456789abcdef…；服务商：sandbox", hexes[n],
                                     hexes[n - 1]) for n in range(1, 18)),
        chain=ChainCheck(True, 17),
        house_checks=tuple(HouseCheckEntry(f"check{n}", now, "备案", certificate_no,
                                           ("王*国", "李*英"), ("周*",), None, True, True, (),
                                           "v3-r2") for n in range(4)),
        face_verifications=tuple(FaceEvidence(f"fv_{n:024x}", "王*国", "4212**********1234",
                                              "签署合同", "tencent", now, now, "passed", None,
                                              hexes[n]) for n in range(6)),
        documents=tuple(DocumentVersion("签署", now, 234_000 + n, hexes[n]) for n in range(5)),
        generated_at=now,
    )


def _time(fn: Callable[[], object], runs: int) -> list[float]:
    fn()  # warm
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        pki = Pki.load_or_create(Path(tmp) / "pki", b"bench passphrase", "http://127.0.0.1:8000")
        facts = _facts()
        counter = iter(range(10**6))

        def contract() -> object:
            return render_contract(sample_contract_document(
                contract_no=f"WQ42120220261201{next(counter):05d}"))

        def report() -> object:
            return render_report(replace(facts, generated_at=facts.generated_at
                                         + timedelta(seconds=next(counter))), None)

        def sealed() -> object:
            return build_report(replace(facts, generated_at=facts.generated_at
                                        + timedelta(seconds=next(counter))), None, None, pki=pki)

        rows = [("baseline: render the contract (6 pages)", _time(contract, args.runs)),
                ("evidence report, rendered (5 pages)", _time(report, args.runs)),
                ("evidence report, rendered and sealed (B-LTA)", _time(sealed, args.runs))]
    base = statistics.median(rows[0][1])
    print("| case | median ms | p90 ms | / baseline |")
    print("|---|---:|---:|---:|")
    for name, samples in rows:
        median = statistics.median(samples)
        p90 = statistics.quantiles(samples, n=10)[-1]
        print(f"| {name} | {median:.1f} | {p90:.1f} | {median / base:.2f} |")


if __name__ == "__main__":
    main()
