"""A whole sale through the H5 client alone, in headless Chromium at a phone's size.

Two browser contexts at 375×812 — the seller and the buyer, each on their own
"phone" — log in, bind their identities with the sandbox's face scan, check
the house, fill in the contract, invite and accept, read and confirm, sign on
the signature pad, and reach the filed screen; the verification QR on that
screen is decoded (zxing-cpp) and its page shows 已备案. Only the registry
office's push of the house happens outside the UI (that is the office's
system, not a phone). Every screen is checked for console errors, requests
leaving 127.0.0.1, horizontal scroll, unlabelled inputs and tap targets
under 44 px, and kept as a screenshot under ``test-artifacts/app/``.
"""

from __future__ import annotations

import io
import re
import secrets
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests import flows
from tests import sale as s
from tests.backends import backend_name
from tests.browser import ARGS, CHROMIUM, cjk_font_env, need_chromium
from tests.live import ROOT

ARTIFACTS = ROOT / "test-artifacts" / "app"
FIRST_SCREEN_BUDGET = 200 * 1024

HERE = Path(__file__).resolve().parent
PAGE_CHECKS = (HERE / "page_checks.js").read_text(encoding="utf-8")
FIRST_SCREEN_BYTES = (HERE / "first_screen_bytes.js").read_text(encoding="utf-8")
HIDE_TOAST = "() => { const t = document.getElementById('toast'); if (t) t.hidden = true; }"


class Phone:
    """One person's browser context, with the checks every screen must pass."""

    def __init__(self, browser, who: str, base_url: str) -> None:
        self.who = who
        self.base_url = base_url
        self.context = browser.new_context(viewport={"width": 375, "height": 812},
                                           device_scale_factor=2, is_mobile=True, has_touch=True,
                                           locale="zh-CN", timezone_id="Asia/Shanghai")
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.outside: list[str] = []
        # Answers a step provokes on purpose, as (path, status): Chromium logs them as errors.
        self.expected_failures: set[tuple[str, int]] = set()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.problems.append(f"pageerror: {e}"))
        self.page.on("request", self._request)
        self.shots = 0

    def _console(self, message) -> None:
        if message.type != "error":
            return
        path = urlsplit(message.location.get("url") or "").path
        for expected, status in self.expected_failures:
            if path == expected and f"status of {status} " in message.text:
                return
        self.problems.append(f"console: {message.text} ({path})")

    def _request(self, request) -> None:
        url = request.url
        if url.startswith(("data:", "blob:")):
            return
        if urlsplit(url).hostname != "127.0.0.1":
            self.outside.append(url)

    def shot(self, name: str, full_page: bool = True) -> None:
        self.page.wait_for_timeout(150)  # let images settle
        issues = self.page.evaluate(PAGE_CHECKS)
        self.problems.extend(f"{self.who}/{name}: {i}" for i in issues)
        self.shots += 1
        path = ARTIFACTS / f"{backend_name()}-{self.who}-{self.shots:02d}-{name}.png"
        # A passing toast ("签名成功") would cover part of the screen in the picture.
        self.page.evaluate(HIDE_TOAST)
        self.page.screenshot(path=str(path), full_page=full_page)

    def login_and_bind(self, code: str, name: str, id_number: str,
                       first_try: str | None = None) -> None:
        from playwright.sync_api import expect

        page = self.page
        expect(page.get_by_label("沙盒登录码")).to_be_visible()
        self.shot("login")
        page.get_by_label("沙盒登录码").fill(code)
        page.get_by_role("button", name="登录", exact=True).click()
        expect(page.locator("#title")).to_have_text("实名认证")
        page.get_by_label("姓名").fill(name)
        page.get_by_label("身份证号码").fill(id_number)
        page.get_by_label("我已阅读并同意《人脸识别信息处理告知书》").check()
        self.shot("bind")
        page.get_by_role("button", name="同意并开始人脸核身").click()
        if first_try is not None:
            self.face_fails(first_try)
        self.face_scan("face-bind")

    def face_scan(self, name: str) -> None:
        from playwright.sync_api import expect

        dialog = self.page.get_by_role("dialog", name="人脸核身")
        expect(dialog).to_be_visible()
        self.shot(name)
        dialog.get_by_role("button", name="开始刷脸").click()
        expect(dialog).to_have_count(0, timeout=30_000)

    def face_fails(self, outcome: str) -> None:
        """The sandbox scan with a failing ``outcome``: a plain reason, then 重新核验."""
        from playwright.sync_api import expect

        dialog = self.page.get_by_role("dialog", name="人脸核身")
        dialog.get_by_label(outcome).check()
        dialog.get_by_role("button", name="开始刷脸").click()
        expect(dialog.get_by_text("核验未通过")).to_be_visible(timeout=30_000)
        expect(dialog).to_contain_text("相似度不足，请在光线充足处正对镜头重试")
        self.shot("face-failed")
        dialog.get_by_role("button", name="重新核验").click()

    def draw_signature(self) -> None:
        box = self.page.locator("canvas.pad").bounding_box()
        assert box is not None
        mouse = self.page.mouse
        x0, y0 = box["x"] + 30, box["y"] + box["height"] / 2
        mouse.move(x0, y0)
        mouse.down()
        for i in range(1, 25):
            mouse.move(x0 + i * 11, y0 + (30 if i % 2 else -30), steps=3)
        mouse.up()


def _fill_party(box, person: s.Person) -> None:
    box.get_by_label("姓名").fill(person.name)
    box.get_by_label("身份证号码").fill(person.id_number)
    box.get_by_label("手机号码").fill(person.phone)
    box.get_by_label("通讯地址").fill(person.address)


def _decode_qr(img) -> str:
    """The text of the QR code an <img> shows, as a phone camera would read it off the screen."""
    import zxingcpp
    from PIL import Image
    from playwright.sync_api import expect

    expect(img.page.locator("#toast")).to_be_hidden(timeout=10_000)  # it may cover the code
    img.scroll_into_view_if_needed()
    for _ in range(100):  # the SVG arrives after the element is visible
        if img.evaluate("el => el.complete && el.naturalWidth > 0"):
            break
        time.sleep(0.1)
    png = img.screenshot()
    found = [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]
    assert len(found) == 1, found
    return found[0]


@pytest.mark.browser
def test_a_whole_sale_on_two_phones(live_server, api, tmp_path):
    need_chromium()
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    base = live_server.base_url
    # The registry office pushes the seller's house (its system, not a phone).
    seller = s.Person(s.random_name(), flows.make_id_number(birth="19780416"), token="")
    buyer = s.Person(s.random_name(), flows.make_id_number(birth="19910923"), token="")
    client = s.registry_client(live_server, api)
    _, cert = s.register_house(api, client, [seller])

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True,
                                     env=cjk_font_env(tmp_path))
        try:
            sp, bp = Phone(browser, "seller", base), Phone(browser, "buyer", base)
            seller_page, buyer_page = sp.page, bp.page

            # --- the first screen: what it costs a phone to get there
            started = time.perf_counter()
            seller_page.goto(base + "/app/")
            expect(seller_page.get_by_role("button", name="登录", exact=True)).to_be_enabled()
            first_screen_s = time.perf_counter() - started
            count, first_bytes = seller_page.evaluate(FIRST_SCREEN_BYTES)
            print(f"first screen: {first_bytes} bytes in {count} responses, "
                  f"interactive after {first_screen_s * 1000:.0f} ms")
            assert first_bytes <= FIRST_SCREEN_BUDGET, first_bytes

            # --- seller: log in, bind, my houses, the house check
            sp.login_and_bind("t-" + secrets.token_hex(6), seller.name, seller.id_number)
            expect(seller_page.locator("#title")).to_have_text("我的房屋")
            expect(seller_page.get_by_text(cert)).to_be_visible()
            sp.shot("houses")
            seller_page.get_by_role("link", name="核验并出售这套房").click()
            expect(seller_page.get_by_text("核验通过，可以出售")).to_be_visible()
            sp.shot("check")
            seller_page.get_by_role("link", name="起草买卖合同").click()

            # --- the contract form
            expect(seller_page.locator("#title")).to_have_text("填写买卖合同")
            parties = seller_page.locator("fieldset.party")
            _fill_party(parties.nth(0), seller)
            seller_page.get_by_label("成交价（元）").fill("1234567")
            expect(seller_page.locator(".capital").first).to_contain_text("壹佰贰拾叁万肆仟伍佰陆拾柒元整")
            seller_page.get_by_label("定金（元）").fill("50000")
            rows = seller_page.locator("fieldset.installment")
            rows.nth(0).get_by_label("金额（元）").fill("434567")
            rows.nth(1).get_by_label("金额（元）").fill("800000")
            expect(seller_page.get_by_text("与成交价一致")).to_be_visible()
            seller_page.get_by_label("监管银行").fill("中国建设银行咸宁分行")
            # Without the buyer: the API's reasons appear next to the buyer's fields.
            sp.expected_failures.add(("/api/v1/contracts", 400))
            seller_page.get_by_role("button", name="提交合同草稿").click()
            expect(parties.nth(1).locator(".field.invalid .err").first).to_be_visible()
            expect(seller_page.locator("#toast")).to_contain_text("买受人")
            sp.shot("contract-form-errors", full_page=False)
            _fill_party(parties.nth(1), buyer)
            sp.shot("contract-form")
            seller_page.locator("h2", has_text="四、成交价与付款").scroll_into_view_if_needed()
            seller_page.evaluate("() => window.scrollBy(0, -60)")  # below the sticky title bar
            sp.shot("contract-price", full_page=False)
            seller_page.get_by_role("button", name="提交合同草稿").click()

            # --- invitation: a share link and its QR code
            expect(seller_page.locator("#title")).to_have_text("邀请签约方")
            seller_page.get_by_role("button", name="生成邀请").click()
            share = seller_page.locator("[data-share-link]")
            expect(share).to_be_visible()
            link = share.inner_text().strip()
            assert link.startswith(base + "/app/#/invite/")
            qr = seller_page.get_by_role("img", name="签约邀请二维码")
            expect(qr).to_be_visible()
            assert _decode_qr(qr) == link
            sp.shot("invite")

            # --- buyer: opens the link, logs in, binds, accepts
            buyer_page.goto(link)
            bp.login_and_bind("t-" + secrets.token_hex(6), buyer.name, buyer.id_number,
                              first_try="相似度不足")
            expect(buyer_page.locator("#title")).to_have_text("签约邀请")
            bp.shot("accept")
            buyer_page.get_by_role("button", name="接受邀请并查看合同").click()
            expect(buyer_page.get_by_role("link", name="阅读并确认合同")).to_be_visible()
            bp.shot("contract-hub")

            # --- both read the pages and confirm the same version
            expect(seller_page.get_by_text("全部签约方已加入")).to_be_visible()
            for phone in (bp, sp):
                page = phone.page
                page.get_by_role("link", name="阅读并确认合同").click(timeout=30_000)
                expect(page.get_by_role("img", name="合同第1页")).to_be_visible(timeout=30_000)
                expect(page.get_by_role("img", name="合同第2页")).to_be_visible(timeout=30_000)
                # the funds-custody agreement and the notice, read on demand
                page.get_by_role("button", name="查看《存量房交易告知书及承诺书》全文").click()
                expect(page.get_by_role("img", name="存量房交易告知书及承诺书第1页")).to_be_visible(
                    timeout=30_000)
                page.get_by_label("我已阅读合同全部条款，确认内容无误").check()
                phone.shot("read")
                page.get_by_role("button", name=re.compile("确认合同")).click()
                expect(page.locator("#title")).to_have_text("合同详情")

            # --- each signs on the pad, after a sign face verification; the last files
            for phone in (sp, bp):
                page = phone.page
                page.get_by_role("link", name="去签名").click(timeout=30_000)
                expect(page.locator("canvas.pad")).to_be_visible()
                # one face verification signs the contract, the agreement and the notice
                expect(page.locator("#sign-documents li")).to_have_count(3)
                phone.draw_signature()
                phone.shot("sign")
                page.get_by_role("button", name="刷脸核验并签署").click()
                phone.face_scan("face-sign")
            expect(buyer_page.locator("#filed-status")).to_have_text("✓ 已网签备案", timeout=60_000)
            filing_no = buyer_page.locator("#filing-no").inner_text()
            assert re.fullmatch(r"\d{6}\d{4}\d{6}", filing_no), filing_no
            expect(buyer_page.get_by_text("备案机构电子签章已加盖")).to_be_visible(timeout=30_000)
            expect(buyer_page.locator("#filed-documents li")).to_have_count(2)
            bp.shot("filed")
            seller_page.get_by_role("link", name="查看备案结果").click(timeout=30_000)
            expect(seller_page.locator("#filing-no")).to_have_text(filing_no)
            sp.shot("filed")

            # --- the timeline (一号查询)
            seller_page.get_by_role("link", name="一号查询：办理记录").click()
            expect(seller_page.get_by_text("网签备案")).to_be_visible()
            sp.shot("timeline")

            # --- the verification QR on the filed screen leads to the page that says 已备案
            qr = buyer_page.get_by_role("img", name="合同核验二维码")
            url = _decode_qr(qr)
            assert url == buyer_page.locator("#verify-link").get_attribute("href")
            assert url.startswith(base + "/v/")
            buyer_page.goto(url)
            expect(buyer_page.locator("#status")).to_have_text("已备案")
            assert filing_no in buyer_page.inner_text("body")
            bp.shot("verify-page")

            # --- revocation: the seller asks and confirms, the buyer agrees; both by face
            seller_page.get_by_role("button", name="返回").click()
            seller_page.get_by_role("link", name="申请注销备案").click()
            seller_page.get_by_label("注销原因").fill("双方协商一致解除合同")
            sp.shot("revoke")
            seller_page.get_by_role("button", name="申请注销并刷脸确认").click()
            sp.face_scan("face-revoke")
            expect(seller_page.get_by_text("待确认注销")).to_be_visible()
            buyer_page.go_back()
            buyer_page.get_by_role("button", name="返回").click()
            buyer_page.get_by_role("link", name="处理注销申请").click(timeout=30_000)
            bp.shot("revoke")
            buyer_page.get_by_role("button", name="同意注销并刷脸确认").click()
            bp.face_scan("face-revoke")
            expect(buyer_page.get_by_text("已注销").first).to_be_visible(timeout=30_000)
            buyer_page.get_by_role("link", name="查看注销结果").click()
            expect(buyer_page.locator("#view").get_by_text("备案已注销")).to_be_visible()
            bp.shot("revoked")
        finally:
            browser.close()

    problems = sp.problems + bp.problems
    assert not problems, problems
    assert not sp.outside and not bp.outside, sp.outside + bp.outside
