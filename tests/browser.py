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


def cjk_font_env(tmp: Path) -> dict[str, str]:
    """Chromium's environment with the CJK font the project already installs (pip) added to
    fontconfig, so screenshots show Chinese as a phone does on a machine without CJK fonts."""
    import pylopdf_fonts_zh_cn

    conf = tmp / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        '<include ignore_missing="yes">/etc/fonts/fonts.conf</include>'
        f"<dir>{Path(pylopdf_fonts_zh_cn.__file__).parent}</dir>"
        f"<cachedir>{tmp / 'fc-cache'}</cachedir></fontconfig>", encoding="utf-8")
    return {**os.environ, "FONTCONFIG_FILE": str(conf)}
