"""The verification page in a real browser, at a phone's size: headless Chromium via Playwright.

Keeps screenshots under ``test-artifacts/`` (gitignored) for people to look at.
"""

from __future__ import annotations

import pytest

from tests.backends import backend_name
from tests.browser import ARGS, CHROMIUM, cjk_font_env, need_chromium
from tests.live import ROOT
from tests.verify.conftest import FiledContract

ARTIFACTS = ROOT / "test-artifacts"


@pytest.mark.browser
def test_page_on_a_phone(verify_server, filed: FiledContract, tmp_path):
    need_chromium()
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"verify-page-{backend_name()}.png"
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True,
                                     env=cjk_font_env(tmp_path))
        try:
            context = browser.new_context(viewport={"width": 375, "height": 812},
                                          device_scale_factor=2, is_mobile=True,
                                          has_touch=True, locale="zh-CN")
            page = context.new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            resp = page.goto(verify_server.base_url + filed.page)
            assert resp is not None and resp.status == 200

            assert page.inner_text("#status") == "已备案"
            text = page.inner_text("body")
            assert filed.view["filing_no"] in text
            assert filed.view["contract_no"] in text
            assert "咸宁市咸安区温泉花园3栋 2单元 ****室" in text
            for person in filed.sale.people:
                assert person.name[0] + "*" + person.name[-1] in text
                assert person.name not in text
            sellers, buyers = text.count("出卖人"), text.count("买受人")
            assert (sellers, buyers) == (2, 1)

            width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            assert width[0] <= width[1], f"horizontal scroll: {width}"
            # The inline stylesheet was allowed by the CSP hash (else: default colours).
            assert page.evaluate("getComputedStyle(document.body).backgroundColor") == \
                "rgb(242, 244, 247)"
            page.screenshot(path=str(shot), full_page=True)

            # The PDF check from the page: the inline script, under the same CSP.
            page.set_input_files("#pdf", files=[{"name": "合同.pdf", "mimeType": "application/pdf",
                                                  "buffer": filed.filed_pdf}])
            # A locator, not wait_for_function: the page's CSP refuses eval of a string.
            expect(page.locator("#check-result")).to_contain_text("完全一致", timeout=60_000)
            assert "r-ok" in page.get_attribute("#check-result", "class")
            page.locator("#h-check").scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / f"verify-check-{backend_name()}.png"))
            width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            assert width[0] <= width[1]
        finally:
            browser.close()
    assert not problems, problems
    assert shot.stat().st_size > 10_000
