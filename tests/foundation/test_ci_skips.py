"""Under ``CI=true`` a skipped test fails the run; backend-specific tests are deselected."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.live import ROOT

_PROBE = '''
import pytest

def test_passes():
    pass

def test_skips():
    pytest.skip("pdfsig is missing")

@pytest.mark.skipif(True, reason="a tool is missing")
def test_skipif():
    pass

@pytest.mark.xfail(reason="known", strict=False)
def test_xfails():
    assert False

@pytest.mark.backend("no-such-backend")
def test_elsewhere():
    assert False
'''


def _run(tmp_path: Path, ci: str) -> subprocess.CompletedProcess[str]:
    probe = tmp_path / "test_probe.py"
    probe.write_text(_PROBE)
    env = {**os.environ, "CI": ci, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "tests.conftest", "-p", "no:cacheprovider",
         "--rootdir", str(tmp_path), "-c", os.devnull, str(probe)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def test_a_skip_fails_under_ci(tmp_path):
    out = _run(tmp_path, "true")
    assert out.returncode == 1, out.stdout + out.stderr
    # A skip in the call fails the test; one at setup (skipif, a fixture) is an error.
    assert "1 failed, 1 passed, 1 deselected, 1 xfailed, 1 error" in out.stdout, out.stdout
    assert "skipped under CI=true" in out.stdout and "pdfsig is missing" in out.stdout


def test_a_skip_is_a_skip_elsewhere(tmp_path):
    out = _run(tmp_path, "")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 passed, 2 skipped, 1 deselected, 1 xfailed" in out.stdout, out.stdout
