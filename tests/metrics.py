"""Reading a server's ``/metrics`` (Prometheus text format) in tests and benchmarks."""

from __future__ import annotations

import re


def totals_by_label(text: str, metric: str, label: str) -> dict[str, float]:
    """``metric``'s samples summed by the value of its one ``label`` (a counter aggregated
    over worker processes may appear once per process)."""
    sample = re.compile(rf'^{re.escape(metric)}\{{{re.escape(label)}="([^"]+)"\}} (\S+)$', re.M)
    out: dict[str, float] = {}
    for value_of_label, value in sample.findall(text):
        out[value_of_label] = out.get(value_of_label, 0.0) + float(value)
    return out
