"""How /app/ is served: CSP and cache headers, immutable asset URLs, the QR endpoint's limits."""

from __future__ import annotations

import io
import posixpath
import re
from urllib.parse import quote

import zxingcpp
from PIL import Image

from server.web import app as h5


def _asset_urls(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/app/a/[^"]+)"', html)


def test_the_page_has_a_strict_csp_and_no_inline_code(api):
    resp = api.get("/app/")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/html")
    csp = resp.headers["content-security-policy"]
    for directive in ("default-src 'none'", "script-src 'self'", "style-src 'self'",
                      "connect-src 'self'", "frame-ancestors 'none'"):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert resp.headers["cache-control"] == "no-cache"
    assert resp.headers["referrer-policy"] == "no-referrer"
    html = resp.text
    assert "<script>" not in html and "<style" not in html and " style=" not in html
    assert 'data-sandbox="1"' in html  # the tests' server has the sandbox on
    urls = _asset_urls(html)
    assert urls and all(u.startswith(f"/app/a/{h5.BUILD}/") for u in urls)


def test_assets_are_immutable_under_their_build_and_revalidate(api):
    first = api.get(f"/app/a/{h5.BUILD}/app.js")
    assert first.status_code == 200
    assert first.headers["content-type"].startswith("text/javascript")
    assert "immutable" in first.headers["cache-control"]
    again = api.get(f"/app/a/{h5.BUILD}/app.js", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    # Another build's URL, unknown files and the README screenshots are not served.
    for path in (f"/app/a/{'0' * 16}/app.js", f"/app/a/{h5.BUILD}/nope.js",
                 f"/app/a/{h5.BUILD}/index.html", f"/app/a/{h5.BUILD}/../app.py"):
        resp = api.get(path)
        assert resp.status_code == 404, path
        assert resp.json()["error"]["code"] == "not_found"


def test_every_module_the_app_imports_is_served(api):
    """Relative imports resolve inside the build directory: each must answer 200."""
    seen, todo = set(), ["app.js"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        resp = api.get(f"/app/a/{h5.BUILD}/{name}")
        assert resp.status_code == 200, name
        for spec in re.findall(r'(?:from |import\()\s*["`](\.\.?/[^"`$]+\.js)["`]', resp.text):
            todo.append(posixpath.normpath(posixpath.join(posixpath.dirname(name), spec)))
        if "./screens/${mod}.js" in resp.text:  # the router's dynamic import
            todo.extend(f"screens/{m}.js" for m in ("start", "draft", "contract"))
    assert {"app.js", "api.js", "ui.js", "numerals.js", "face.js", "sigpad.js",
            "screens/start.js", "screens/draft.js", "screens/contract.js"} <= seen


def test_app_without_slash_redirects_and_keeps_the_code(api):
    resp = api.get("/app?code=abc", follow_redirects=False)
    assert resp.status_code == 301
    assert resp.headers["location"] == "/app/?code=abc"


def test_qr_codes_only_for_this_service(api, live_server):
    link = f"{live_server.base_url}/app/#/invite/tok_123"
    resp = api.get("/app/qr.svg?u=" + quote(link, safe=""))
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "image/svg+xml"
    assert resp.headers["cache-control"].startswith("private")
    # The SVG is the contract's own QR encoder's, whose output zxing-cpp decodes back to the link
    # (the browser test decodes the on-screen image too).
    from signing.qr import qr_png, qr_svg

    assert resp.text == qr_svg(link)
    assert [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(qr_png(link))))] == [link]
    for bad in ("https://evil.example/app/", f"{live_server.base_url}/api/v1/me", "",
                f"{live_server.base_url}/app/" + "x" * 600):
        r = api.get("/app/qr.svg?u=" + quote(bad, safe=""))
        assert r.status_code == 400, bad
        assert r.json()["error"]["code"] == "invalid_input"
        assert "u" in r.json()["error"]["details"]["fields"]
    assert api.get("/app/qr.svg").status_code == 400
