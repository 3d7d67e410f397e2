"""Public verification (no login): the QR code's page, its JSON, and the PDF check.

``GET /v/{code}?t=`` (HTML), ``GET /api/v1/verify/{code}?t=`` (JSON) and
``POST /api/v1/verify/{code}/document?t=`` (a PDF body → report). Handlers
stay thin: rate limit, gate, then :mod:`server.services.verification`.
The page and its JSON are the hot path (every scan of a QR code): one
key-value round trip (quota and cache generation), then, for a caller with
the right token, this worker's ready answer (:mod:`.answers`), else the gate.

The rate limit comes first, before the gate, so guessing codes or tokens
costs the guesser quota like any other request. The page and its JSON share
one bucket; the PDF check, which costs a pool process for a while, has its
own, smaller one.
"""

from __future__ import annotations

import asyncio

from sanic import Blueprint, Request, Sanic
from sanic.response import HTTPResponse, html, raw

from server.domain import clock
from server.errors import ApiError
from server.http.body import media_type, read_streamed
from server.http.operations import operation
from server.http.peer import client_address
from server.http.render import json
from server.schemas.types import VerifyCode
from server.schemas.verify import DocumentReport, VerificationFacts, VerifyQuery
from server.services.verification import answers, documents, gate, page

bp = Blueprint("verify")
TAG = "public verification"
# Path and token are not validated as 400s here: a malformed code or token is just one
# more code that does not exist (the same 404), and the gate never sends it to the database.

_UPLOAD_TYPES = ("application/pdf", "application/octet-stream")


@bp.before_server_start
async def _slots(app: Sanic) -> None:
    # PDF checks may take at most half of this worker's pool processes, so
    # uploads can slow signing and filing down but never stall them.
    app.ctx.verify_slots = asyncio.Semaphore(max(1, app.ctx.settings.cpu_workers // 2))
    # This worker's ready answers for callers with the right token (the hot path).
    app.ctx.verify_answers = answers.Answers()


async def _limited(request: Request, bucket: str, per_minute: int) -> bool:
    return await gate.over_limit(request.app.ctx.kv, bucket, client_address(request), per_minute)


async def _checked_in(request: Request, code: str) -> tuple[bool, bytes | None]:
    """The page's quota (shared by page and JSON) and the code's cache generation."""
    ctx = request.app.ctx
    return await gate.check_in(ctx.kv, "page", client_address(request),
                               ctx.settings.verify_rate_limit_per_minute, code)


async def _answer(request: Request, code: str, generation: bytes | None) -> answers.Answer:
    ctx = request.app.ctx
    return await answers.answer(ctx.verify_answers, ctx.kv, ctx.settings, code,
                                _token(request), generation)


_HTML = "text/html; charset=utf-8"
_JSON = "application/json"
_RATE_LIMITED_HEADERS = {**page.HTML_HEADERS, "Retry-After": str(gate.RATE_WINDOW_S)}

_DOC = {"path": {"code": VerifyCode}, "query": VerifyQuery, "tag": TAG}


def _token(request: Request) -> str | None:
    return request.args.get("t")


def _kind(request: Request) -> str | None:
    """Which document of the sale the QR code was on (``d``; none: the contract)."""
    return request.args.get("d")


@bp.get("/v/<code:str>")
@operation("Verification page for the QR code (HTML, Chinese); 404 for unknown or wrong",
           responses={200: "text/html"}, errors={404: "not_found (an HTML page)",
                                                  429: "rate_limited (an HTML page)"},
           validate=False, **_DOC)
async def verify_page(request: Request, code: str) -> HTTPResponse:
    over, generation = await _checked_in(request, code)
    if over:
        return html(page.RATE_LIMITED_HTML, status=429, headers=_RATE_LIMITED_HEADERS)
    try:
        body = (await _answer(request, code, generation)).page_body(_kind(request), clock.now())
    except gate.VerificationNotFound:
        return html(page.NOT_FOUND_HTML, status=404, headers=page.HTML_HEADERS)
    return raw(body, content_type=_HTML, headers=page.HTML_HEADERS)


@bp.get("/api/v1/verify/<code:str>")
@operation(
    "The verification page's facts as JSON (masked)", responses={200: VerificationFacts},
    errors={404: "not_found", 429: "rate_limited"}, validate=False, **_DOC,
    description=
    "`{code, status, status_label, sealing, note, times: {filed_at, registration_accepted_at, "
    "registered_at, revoked_at}, filing_no, filed_at, contract_no, filing_authority, "
    "house: {city, district, community, building, unit, room_masked, location_masked}, "
    "parties: [{role, role_label, name_masked, signed, signed_at}], "
    "signatures: [{kind: party|seal, role, role_label, signer_masked, signed_at}], "
    "document: {kind, title, sha256, size, sealed_at} (the document whose QR code this is: "
    "`d`, the contract by default), documents: [the same for every document of the sale], "
    "notice, checked_at}`. Only filed, "
    "registration_accepted, registered and revoked contracts; anything else, an unknown code "
    "or a wrong token: the same 404. 429 `rate_limited` with Retry-After.")
async def verify_json(request: Request, code: str) -> HTTPResponse:
    over, generation = await _checked_in(request, code)
    if over:
        raise gate.rate_limited()
    body = (await _answer(request, code, generation)).json_body(_kind(request), clock.now())
    return raw(body, content_type=_JSON, headers=page.SECURITY_HEADERS)


@bp.post("/api/v1/verify/<code:str>/document", stream=True)
@operation(
    "Check a PDF against the filed original: identical, revision, signatures",
    raw_body={"application/pdf": {"type": "string", "contentMediaType": "application/pdf"}},
    responses={200: DocumentReport},
    errors={400: "invalid_pdf, empty_body", 404: "not_found", 413: "payload_too_large",
            415: "unsupported_media_type", 429: "rate_limited"}, validate=False, **_DOC,
    description=
    "Body: the PDF (`Content-Type: application/pdf`), checked against the document `d` "
    "(the contract by default) of the sale. → `{document_kind, identical, matches_stage "
    "(prepared | signed:<party_id> | filed | null), matched_revision: {kind, stage, sha256, "
    "size, signed_by} (another document of the sale is named by its kind), "
    "bytes_after_match, added_after_filing, readable, signatures_valid, "
    "signatures: [{field_name, kind, signer (masked), signer_id_masked, signing_time, "
    "timestamp_time, intact, valid, trusted, revocation, modification_level, coverage, "
    "indication, ok, algorithm (ECDSA/SHA-256 | SM2/SM3), checked_by}], checked_by (who "
    "checked what: pyHanko for ECDSA; OpenSSL 3 libcrypto for SM2, which pyHanko does not "
    "support), signatures_checked_at (when those signatures were validated), filed_sha256, "
    "uploaded_sha256, uploaded_size, status, "
    "conclusion: {level: ok|warn|bad, text}}`. 400 `invalid_pdf` / `empty_body`, "
    "413 `payload_too_large`, 415 `unsupported_media_type`, 429 `rate_limited`.")
async def verify_document(request: Request, code: str) -> HTTPResponse:
    ctx = request.app.ctx
    settings = ctx.settings
    if await _limited(request, "document", settings.verify_document_rate_limit_per_minute):
        raise gate.rate_limited()
    opened = await gate.open_gate(code, _token(request))
    await documents.ensure_document(opened, _kind(request))
    if media_type(request) not in _UPLOAD_TYPES:
        raise ApiError("请以 application/pdf 上传 PDF 文件", code="unsupported_media_type",
                       status=415, details={"accepted": list(_UPLOAD_TYPES)})
    # Streamed: read only now, after the rate limit and the gate, under its own limit.
    body = await read_streamed(request, settings.max_pdf_upload_bytes)
    report = await documents.check(ctx.kv, ctx.cpu, ctx.verify_slots, ctx.revocations, opened,
                                   body, _kind(request))
    return json(report, headers=page.SECURITY_HEADERS)
