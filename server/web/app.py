"""The mobile H5 client at ``/app/``: static files from ``templates/app``, and its QR codes.

The client is plain ES modules (no build step) that use only the public API.
Files are read once at import; their URLs carry a hash of the whole set
(``/app/a/<build>/app.js``), so they are cached for good and a new release
is a new URL, while the page itself (``/app/``) is revalidated every time.
Relative imports between modules stay inside the same build directory.

The Content-Security-Policy allows scripts, styles and connections to this
origin only, and images from this origin plus ``blob:`` (page previews are
fetched with the bearer token and shown as blobs) and ``data:`` (the
signature pad's export). No inline script or style exists on the page.
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from html import escape
from pathlib import Path

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, redirect

from server.config import Settings
from server.errors import InvalidInput, NotFound

APP_DIR = Path(__file__).resolve().parents[2] / "templates" / "app"
_SERVED = {".js", ".css", ".svg", ".png", ".webmanifest"}
QR_MAX_URL = 512

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' blob: data:",
    "connect-src 'self'",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
])

_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    # ?code= may be in the address until the client strips it: never send it onwards.
    "Referrer-Policy": "no-referrer",
}


@dataclass(frozen=True)
class Asset:
    body: bytes
    content_type: str
    etag: str


def _load_assets(root: Path) -> tuple[str, dict[str, Asset]]:
    assets: dict[str, Asset] = {}
    build = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if not path.is_file() or path.suffix not in _SERVED or rel.startswith("screenshots/"):
            continue
        body = path.read_bytes()
        digest = hashlib.sha256(body).hexdigest()
        build.update(rel.encode() + b"\0" + digest.encode())
        ctype = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
                 ".webmanifest": "application/manifest+json"}.get(
            path.suffix, mimetypes.guess_type(path.name)[0] or "application/octet-stream")
        assets[rel] = Asset(body, ctype, f'"{digest[:32]}"')
    return build.hexdigest()[:16], assets


BUILD, ASSETS = _load_assets(APP_DIR)
_INDEX = (APP_DIR / "index.html").read_text(encoding="utf-8")


def host_login_provider(settings: Settings) -> str:
    """The provider whose code a host app passes in ``/app/?code=``."""
    if settings.gov_oauth_token_url and settings.gov_oauth_client_id:
        return settings.gov_oauth_provider_name
    if settings.wechat_app_id:
        return "wechat"
    return "sandbox"


def render_index(settings: Settings) -> str:
    """The page, with the asset build and what the client must know before its first call."""
    return (_INDEX.replace("{{build}}", BUILD)
            .replace("{{sandbox}}", "1" if settings.sandbox_enabled else "0")
            .replace("{{provider}}", escape(host_login_provider(settings))))


bp = Blueprint("h5_app")


@bp.get("/app", strict_slashes=True)
async def app_no_slash(request: Request) -> HTTPResponse:
    query = f"?{request.query_string}" if request.query_string else ""
    return redirect(f"/app/{query}", status=301)


@bp.get("/app/", strict_slashes=True)
async def app_index(request: Request) -> HTTPResponse:
    body = render_index(request.app.ctx.settings)
    return HTTPResponse(body, content_type="text/html; charset=utf-8", headers={
        **_SECURITY_HEADERS, "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Frame-Options": "DENY", "Cache-Control": "no-cache"})


@bp.get("/app/a/<build:str>/<name:path>")
async def app_asset(request: Request, build: str, name: str) -> HTTPResponse:
    asset = ASSETS.get(name)
    if asset is None or build != BUILD:
        raise NotFound("没有这个文件", code="not_found")
    headers = {**_SECURITY_HEADERS, "ETag": asset.etag,
               "Cache-Control": "public, max-age=31536000, immutable"}
    if request.headers.get("if-none-match") == asset.etag:
        return HTTPResponse(status=304, headers=headers)
    return HTTPResponse(asset.body, content_type=asset.content_type, headers=headers)


def _qr_target(settings: Settings, url: str | None) -> str:
    """Only this service's own client links and verification pages get a QR code."""
    base = settings.public_base_url
    if not isinstance(url, str) or not url or len(url) > QR_MAX_URL:
        raise InvalidInput({"u": f"必填，不超过{QR_MAX_URL}个字符"})
    if not (url.startswith(base + "/app/") or url.startswith(base + "/v/")):
        raise InvalidInput({"u": "只能为本服务的签约邀请或核验地址生成二维码"})
    return url


@bp.get("/app/qr.svg")
async def app_qr(request: Request) -> HTTPResponse:
    from signing.qr import qr_svg

    url = _qr_target(request.app.ctx.settings, request.args.get("u"))
    svg = await request.app.ctx.cpu.run(qr_svg, url)
    # The URL can carry an invitation or verification token: private, not stored by proxies.
    return HTTPResponse(svg, content_type="image/svg+xml", headers={
        **_SECURITY_HEADERS, "Cache-Control": "private, max-age=3600",
        "Content-Security-Policy": "default-src 'none'"})
