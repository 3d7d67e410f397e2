"""``/docs`` works offline: Swagger UI from the installed package, under a strict CSP.

The browser test loads the page in headless Chromium with every request that is
not to 127.0.0.1 aborted (and recorded: none may even be attempted), and checks
that every path of the OpenAPI document is listed, with no console error and no
CSP violation.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import httpx
import pytest

from tests.backends import backend_name
from tests.browser import ARGS, CHROMIUM, need_chromium
from tests.live import ROOT, LiveServer

# Recorded before any page script runs (init scripts are not subject to the page's CSP).
_CSP_PROBE = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI);
});
"""


def test_docs_page_is_self_contained_with_a_strict_csp(api: httpx.Client):
    resp = api.get("/docs")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/html")
    csp = resp.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["connect-src"] == "'self'"
    assert "unsafe" not in csp and "http" not in csp
    # Every asset the page names is on this origin and is served.
    refs = re.findall(r'(?:src|href)="([^"]+)"', resp.text)
    assert refs and all(r.startswith("/docs/") for r in refs), refs
    for ref in refs:
        asset = api.get(ref)
        assert asset.status_code == 200, ref
        if ref.startswith("/docs/assets/"):
            assert asset.headers["x-content-type-options"] == "nosniff"
    assert api.get("/docs/assets/swagger-ui-bundle.js").headers["content-type"].startswith(
        "text/javascript")


def test_docs_assets_are_a_closed_list(api: httpx.Client):
    for name in ("swagger-editor-bundle.js", "LICENSE", "..%2F..%2Fpyproject.toml",
                 "index.html"):
        resp = api.get(f"/docs/assets/{name}")
        assert resp.status_code == 404, name
        assert resp.json()["error"]["code"] == "not_found"


def test_openapi_document_is_still_served(api: httpx.Client):
    doc = api.get("/docs/openapi.json")
    assert doc.status_code == 200
    body = doc.json()
    assert body["openapi"].startswith("3.")
    assert "/api/v1/contracts" in body["paths"]
    # The docs UI's own routes are not API operations.
    assert not any(p.startswith("/docs") for p in body["paths"])


def _load_docs_offline(server: LiveServer, document: dict | None = None
                       ) -> tuple[list[str], list[str], list[str], str]:
    """(paths listed on the page, outside requests attempted, problems, page text).

    ``document``, if given, is answered for ``/docs/openapi.json`` instead of the server's.
    """
    from playwright.sync_api import Route, sync_playwright

    outside: list[str] = []
    problems: list[str] = []

    def only_localhost(route: Route) -> None:
        url = urlsplit(route.request.url)
        if url.hostname != "127.0.0.1":
            outside.append(route.request.url)
            route.abort()
        elif document is not None and url.path == "/docs/openapi.json":
            route.fulfill(status=200, content_type="application/json", body=json.dumps(document))
        else:
            route.continue_()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.route("**/*", only_localhost)
            context.add_init_script(_CSP_PROBE)
            page = context.new_page()
            page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
                    if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
            resp = page.goto(server.base_url + "/docs")
            assert resp is not None and resp.status == 200
            page.wait_for_selector(".opblock-summary-path", timeout=30_000)
            # Open one operation: its parameters and responses render under the same CSP.
            page.locator('.opblock-summary-path[data-path="/api/v1/contracts"]').first.click()
            page.wait_for_selector(".opblock.is-open .responses-wrapper", timeout=10_000)
            listed = page.eval_on_selector_all(".opblock-summary-path",
                                               "els => els.map(e => e.dataset.path)")
            text = page.inner_text("body")
            problems.extend(page.evaluate("window.__cspViolations"))
            (ROOT / "test-artifacts").mkdir(exist_ok=True)
            page.screenshot(path=str(ROOT / "test-artifacts" / f"docs-{backend_name()}.png"))
        finally:
            browser.close()
    return listed, outside, problems, text


@pytest.mark.browser
def test_docs_render_offline_in_chromium(live_server: LiveServer, api: httpx.Client):
    need_chromium()
    document = api.get("/docs/openapi.json").json()
    listed, outside, problems, text = _load_docs_offline(live_server)
    assert outside == [], f"the docs page reached outside 127.0.0.1: {outside}"
    assert problems == [], problems
    missing = set(document["paths"]) - set(listed)
    assert not missing, f"operations of the document not on the page: {missing}"
    for path in ("/api/v1/contracts", "/api/v1/contracts/{contract_id}/signatures",
                 "/registry/v1/token", "/api/v1/verify/{code}"):
        assert path in listed
    assert document["info"]["title"].split()[-1] in text


@pytest.mark.browser
def test_docs_render_an_openapi_3_1_document(live_server: LiveServer, api: httpx.Client):
    """The bundled Swagger UI reads OpenAPI 3.1 too (what typed models generate)."""
    need_chromium()
    document = {**api.get("/docs/openapi.json").json(), "openapi": "3.1.0",
                "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base"}
    listed, outside, problems, text = _load_docs_offline(live_server, document)
    assert outside == [] and problems == [], (outside, problems)
    assert set(document["paths"]) <= set(listed)
    assert "OAS 3.1" in text
