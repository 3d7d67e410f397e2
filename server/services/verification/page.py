"""The HTML of the verification page: one self-contained document, no external assets.

Rendered with :class:`string.Template` from ``templates/verify``; every
value that comes from data goes through :func:`html.escape`. The stylesheet
and the small upload script are inlined, and the Content-Security-Policy
allows exactly those two by their SHA-256 (computed once, at import), so
nothing else can run or load on the page — no nonce to thread through, and
the policy stays the same for every response.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from html import escape
from pathlib import Path
from string import Template
from typing import Any

from server.domain import clock
from server.services.verification.facts import DOES_NOT_PROVE, PRIVACY, PROVES

TEMPLATE_DIR = Path(__file__).resolve().parents[3] / "templates" / "verify"

_CSS = (TEMPLATE_DIR / "verify.css").read_text(encoding="utf-8")
_JS = (TEMPLATE_DIR / "verify.js").read_text(encoding="utf-8")
_PAGE = Template((TEMPLATE_DIR / "page.html").read_text(encoding="utf-8"))
_MESSAGE = Template((TEMPLATE_DIR / "message.html").read_text(encoding="utf-8"))


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'none'",
    f"style-src {_csp_hash(_CSS)}",
    f"script-src {_csp_hash(_JS)}",
    "connect-src 'self'",  # the PDF check posts to /api/v1/verify/... on this origin
    "img-src data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
])

# Headers for everything the verification endpoints answer, HTML or JSON: the
# URL carries the token, so nothing may leak it onwards or keep it in a shared cache.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "private, no-cache",
    "X-Robots-Tag": "noindex, nofollow",
}

HTML_HEADERS = {
    **SECURITY_HEADERS,
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
}

_STATUS_HINTS = {
    "filed": "合同已网签备案，备案有效",
    "registration_accepted": "登记机构已受理转移登记，合同不能再注销",
    "registered": "不动产转移登记已完成",
    "revoked": "该合同备案已注销，不再有效",
}

_TIME_ROWS = (
    ("filed_at", "备案时间"),
    ("registration_accepted_at", "受理登记时间"),
    ("registered_at", "登记完成时间"),
    ("revoked_at", "注销时间"),
)


def display_time(value: str | None) -> str:
    """``2026-01-15T14:03:09+08:00`` → ``2026-01-15 14:03`` (Beijing time)."""
    if not value:
        return "—"
    return datetime.fromisoformat(value).astimezone(clock.CST).strftime("%Y-%m-%d %H:%M")


def _row(label: str, value: str) -> str:
    return f'<div class="row"><dt>{escape(label)}</dt><dd>{escape(value)}</dd></div>'


def _location(house: dict[str, Any]) -> str:
    """The location in pieces that wrap between, never inside: "2单元", "****室" stay whole."""
    if not house:
        return "—"
    head = f"{house['city']}{house['district']}{house['community']}{house['building']}"
    tail = [x for x in (house["unit"], house["room_masked"]) if x]
    return " ".join([escape(head), *(f'<span class="nw">{escape(x)}</span>' for x in tail)])


def _parties(facts: dict[str, Any]) -> str:
    items = []
    for p in facts["parties"]:
        when = (f"已签名 · {display_time(p['signed_at'])}" if p["signed"] else "未签名")
        items.append(
            '<li class="party">'
            f'<span class="role">{escape(p["role_label"])}</span>'
            f'<span class="who"><b>{escape(p["name_masked"])}</b>'
            f'<span>{escape(when)}</span></span>'
            f'<span class="ok">{"✓" if p["signed"] else ""}</span></li>')
    seal = next((s for s in facts["signatures"] if s["kind"] == "seal"), None)
    if seal is not None:
        items.append(
            '<li class="party"><span class="role">备案签章</span>'
            f'<span class="who"><b>{escape(seal["signer_masked"])}</b>'
            f'<span>已加盖电子签章 · {escape(display_time(seal["signed_at"]))}</span></span>'
            '<span class="ok">✓</span></li>')
    return "".join(items)


def _document(facts: dict[str, Any]) -> str:
    sha = facts["document"]["sha256"]
    if not sha:
        return '<p class="explain">备案机构电子签章加盖完成后显示。</p>'
    return (f'<p class="hash" id="sha256">{escape(sha)}</p>'
            '<p class="muted">用任意 SHA-256 工具计算您手中 PDF 文件的指纹，'
            '与此值一致即为备案原件。</p>')


def _title(facts: dict[str, Any]) -> str:
    return facts["document"].get("title") or "存量房买卖合同"


def _other_documents(facts: dict[str, Any]) -> str:
    """The sale's other documents, each signed and sealed like this one."""
    kind = facts["document"].get("kind")
    others = [d for d in facts.get("documents", ()) if d.get("kind") != kind]
    if not others:
        return ""
    items = "".join(
        f'<li class="doc"><b>{escape(d["title"])}</b>'
        + (f'<span class="hash">{escape(d["sha256"])}</span>' if d.get("sha256") else
           '<span class="muted">电子签章加盖完成后显示</span>') + "</li>"
        for d in others)
    return ('<h3>本交易的其他备案文件</h3>'
            f'<ul class="docs" id="other-documents">{items}</ul>'
            '<p class="muted">每份文件印有各自的二维码，扫描即可核验该文件。</p>')


# Stands for the check time while a page is rendered ahead of its requests. The
# footer's is the last one: after it come only the code (letters, digits, - and _)
# and the constant script, so splitting at the last occurrence is safe whatever the data.
_CHECKED_AT_SLOT = "\x00checked_at\x00"


def render_page(facts: dict[str, Any], checked_at: datetime) -> str:
    return _render(facts, escape(checked_time(checked_at)))


def checked_time(checked_at: datetime) -> str:
    """The check time as the page shows it: Beijing time, to the minute."""
    return checked_at.astimezone(clock.CST).strftime("%Y-%m-%d %H:%M")


def render_halves(facts: dict[str, Any]) -> tuple[bytes, bytes]:
    """The page, UTF-8, before and after its check time: the only part that differs
    from one request to the next, so a cached page costs one join per request."""
    head, _, tail = _render(facts, _CHECKED_AT_SLOT).rpartition(_CHECKED_AT_SLOT)
    return head.encode(), tail.encode()


def _render(facts: dict[str, Any], checked_at: str) -> str:
    times = facts["times"]
    note = ""
    if facts.get("note"):
        note = f'<p class="note">{escape(facts["note"])}</p>'
    elif facts["status"] == "revoked":
        note = '<p class="note warn">该合同已注销备案，不能再作为办理业务的依据。</p>'
    house = facts.get("house") or {}
    return _PAGE.substitute(
        css=_CSS,
        js=_JS,
        authority=escape(facts["filing_authority"]),
        status=escape(facts["status"]),
        status_label=escape(facts["status_label"]),
        status_hint=escape(_STATUS_HINTS.get(facts["status"], "")),
        note=note,
        times="".join(_row(label, display_time(times[key]))
                      for key, label in _TIME_ROWS if times.get(key)),
        filing_no=escape(facts["filing_no"] or "—"),
        filed_date=escape(display_time(facts["filed_at"])[:10]),
        contract_no=escape(facts["contract_no"] or "—"),
        location=_location(house),
        parties=_parties(facts),
        document=_document(facts),
        document_title=escape(_title(facts)),
        other_documents=_other_documents(facts),
        proves="".join(f"<li>{escape(x)}</li>" for x in PROVES),
        does_not_prove="".join(f"<li>{escape(x)}</li>" for x in DOES_NOT_PROVE),
        privacy=escape(PRIVACY),
        checked_at=checked_at,
        code=escape(facts["code"] or ""),
    )


def render_message(title: str, text: str) -> str:
    """The small page for 404 and 429: the same stylesheet, no script."""
    return _MESSAGE.substitute(css=_CSS, title=escape(title), text=escape(text))


NOT_FOUND_HTML = render_message(
    "未找到该合同",
    "核验链接无效、不完整或已失效。请直接扫描合同上的二维码，或核对链接是否完整。")
RATE_LIMITED_HTML = render_message("访问过于频繁", "请一分钟后再试。")
