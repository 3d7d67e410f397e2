"""Headless Chromium for the browser tests: Debian's ``chromium`` driven by Playwright.

Playwright never downloads a browser here; it launches the system one. Under CI a
missing Chromium fails the test instead of skipping it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]


def need_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{CHROMIUM} is missing: the browser test must run in CI")
    pytest.skip(f"{CHROMIUM} is missing (install Debian's chromium to run the browser test)")
