"""The H5 client's first screen on a phone: time until it can be used, and bytes transferred.

Starts a real server on the embedded default (``python -m server serve``, as the tests do)
and opens ``/app/`` in headless Chromium at 375×812, each time in a fresh browser context
(nothing cached, a first visit), ``--runs`` times. "Interactive" is the moment the login
button is enabled: the page, its stylesheet and modules are loaded, the router has run and
the first screen is drawn; "test driver" times it from Playwright (with its round trips),
"in the browser" from the browser's own navigation start to the app's ``app:first-screen``
mark (for the baseline: its load event). The baseline, measured the same way in the same run, is the
public verification page's "not found" HTML (one small self-contained document, no
scripts to load): what any navigation costs on this machine and browser.

Run: ``python benchmarks/bench_app.py [--runs N]``. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.backends import Backend  # noqa: E402
from tests.browser import ARGS, CHROMIUM, cjk_font_env  # noqa: E402
from tests.live import LiveServer  # noqa: E402

BYTES = (ROOT / "tests" / "app" / "first_screen_bytes.js").read_text(encoding="utf-8")


# In the browser's own clock, from the start of navigation: when the app marked its first
# screen drawn (app.js), else when the document finished loading.
IN_PAGE_MS = """() => {
  const mark = performance.getEntriesByName('app:first-screen')[0];
  const nav = performance.getEntriesByType('navigation')[0];
  return mark ? mark.startTime : nav.loadEventEnd;
}"""


def _measure(browser, url: str, ready: str, runs: int
             ) -> tuple[list[float], list[float], int]:
    times: list[float] = []
    in_page: list[float] = []
    transferred = 0
    for _ in range(runs):
        context = browser.new_context(viewport={"width": 375, "height": 812},
                                      device_scale_factor=2, is_mobile=True, has_touch=True,
                                      locale="zh-CN")
        page = context.new_page()
        started = time.perf_counter()
        page.goto(url)
        page.wait_for_selector(ready, state="visible")
        times.append((time.perf_counter() - started) * 1000)
        page.wait_for_load_state("load")
        in_page.append(page.evaluate(IN_PAGE_MS))
        transferred = page.evaluate(BYTES)[1]
        context.close()
    return times, in_page, transferred


def _median_p90(values: list[float]) -> tuple[float, float]:
    return statistics.median(values), sorted(values)[max(0, round(0.9 * (len(values) - 1)))]


def _row(name: str, times: list[float], in_page: list[float], transferred: int,
         baseline: float | None) -> str:
    median, p90 = _median_p90(times)
    page_median, page_p90 = _median_p90(in_page)
    ratio = f"{median / baseline:.2f}" if baseline else ""
    return (f"| {name} | {median:.0f} / {p90:.0f} | {page_median:.0f} / {page_p90:.0f} | "
            f"{transferred / 1024:.1f} | {ratio} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        backend = Backend("embedded", Path(tmp))
        server = LiveServer(backend.new_database_env(Path(tmp) / "data"))
        server.migrate()
        server.start()
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS,
                                             headless=True, env=cjk_font_env(Path(tmp)))
                try:
                    base = server.base_url
                    _measure(browser, base + "/app/", "text=登录", 2)  # warm the server up
                    b_times, b_page, b_bytes = _measure(browser, base + "/v/unknown?t=x", "body",
                                                        args.runs)
                    a_times, a_page, a_bytes = _measure(
                        browser, base + "/app/", "button.btn:not([disabled])", args.runs)
                finally:
                    browser.close()
        finally:
            server.stop()
    baseline = statistics.median(b_times)
    print(f"{args.runs} cold loads each, 375×812, headless Chromium, embedded default\n")
    print("| page | test driver ms, median / p90 | in the browser ms, median / p90 | "
          "transferred kB | ratio to baseline |")
    print("|---|---:|---:|---:|---:|")
    print(_row("baseline: verification page, not found (static HTML)", b_times, b_page,
               b_bytes, None))
    print(_row("/app/ first screen interactive (login)", a_times, a_page, a_bytes, baseline))


if __name__ == "__main__":
    main()
