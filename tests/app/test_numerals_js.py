"""The H5 client's capital numerals (templates/app/numerals.js) agree with signing/numerals.py.

The form shows the price in capitals as it is typed; the contract prints the Python
version. Node runs the ES module on the same amounts and every answer must match.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess

import pytest

from signing.numerals import capital_amount, figures_amount
from tests.live import ROOT

MODULE = ROOT / "templates" / "app" / "numerals.js"

EDGES = [0, 1, 5, 10, 50, 99, 100, 105, 150, 1000, 1005, 10000, 100000, 1000000, 1000010,
         10_000_000, 10_000_100, 17_000_000, 100_100_000, 100_000_000_00, 100_000_000_100,
         123_456_700, 100_000_100_000, 99_999_999_999_999, 10**14 - 1, 30_000_000_07]


def _node() -> str:
    node = shutil.which("node")
    if node:
        return node
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("node is missing: the JS numerals must be checked in CI")
    pytest.skip("node is missing")


def test_capitals_and_figures_match_python():
    rnd = random.Random(14)
    amounts = EDGES + [rnd.randrange(0, 10**14) for _ in range(3000)] + [
        rnd.randrange(0, 10**6) * 10 ** rnd.randrange(0, 8) for _ in range(1000)]
    amounts = [a for a in amounts if a < 10**14]
    script = (
        f"import {{ capitalAmount, figuresAmount }} from {json.dumps(MODULE.as_uri())};\n"
        "import { readFileSync } from 'node:fs';\n"
        "const xs = JSON.parse(readFileSync(0, 'utf8'));\n"
        "console.log(JSON.stringify(xs.map((x) => [capitalAmount(x), figuresAmount(x)])));\n")
    out = subprocess.run([_node(), "--input-type=module", "-e", script], input=json.dumps(amounts),
                         capture_output=True, text=True, check=True, timeout=60)
    got = json.loads(out.stdout)
    for amount, (capital, figures) in zip(amounts, got, strict=True):
        assert capital == capital_amount(amount), amount
        assert figures == figures_amount(amount), amount


def test_typed_yuan_becomes_fen_without_floats():
    cases = {"1234567": 123456700, "1234567.8": 123456780, "0.05": 5, "1,234.56": 123456,
             " 12 ": 1200, "1.234": None, "abc": None, "": None, "-5": None, "1e5": None,
             "9999999999.99": 999999999999, "0.1": 10, "0.29": 29}
    script = (
        f"import {{ parseYuan }} from {json.dumps(MODULE.as_uri())};\n"
        f"console.log(JSON.stringify({json.dumps(list(cases))}.map(parseYuan)));\n")
    out = subprocess.run([_node(), "--input-type=module", "-e", script], capture_output=True,
                         text=True, check=True, timeout=60)
    assert dict(zip(cases, json.loads(out.stdout), strict=True)) == cases


def test_too_large_or_negative_is_refused_like_python():
    script = (
        f"import {{ capitalAmount }} from {json.dumps(MODULE.as_uri())};\n"
        "const r = [];\n"
        "for (const x of [-1, 1.5, 10 ** 14]) { try { capitalAmount(x); r.push('ok'); }"
        " catch (e) { r.push(e.name); } }\n"
        "console.log(JSON.stringify(r));\n")
    out = subprocess.run([_node(), "--input-type=module", "-e", script], capture_output=True,
                         text=True, check=True, timeout=60)
    assert json.loads(out.stdout) == ["RangeError"] * 3
    for bad in (-1, 10**14):
        with pytest.raises(ValueError):
            capital_amount(bad)
