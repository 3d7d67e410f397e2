"""``/registry/v1/contracts``: the feed, shared data, signed PDFs, acceptance and completion."""

from __future__ import annotations

import base64

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, raw

from server.http.operations import operation
from server.http.registry_auth import registry_scope
from server.http.render import json
from server.schemas.miniapp import DocumentQuery
from server.schemas.registry import AcceptanceBody, Feed, FeedQuery, SharedData, StatusAnswer
from server.schemas.types import FilingNo
from server.services import registry_share
from server.services.contracts import evidence
from server.services.verification_cache import forget_facts

bp = Blueprint("registry_contracts", url_prefix="/registry/v1")
TAG = "registry: contracts"
_FILING = {"filing_no": FilingNo}
_READ = ("registry", "contracts:read")
_WRITE = ("registry", "contracts:write")


@bp.get("/contracts")
@registry_scope("contracts:read")
@operation("Change feed of filed / accepted / registered / revoked contracts", tag=TAG,
           description="Oldest first; pass the answer's `next_cursor` as `cursor` to resume.",
           query=FeedQuery, responses={200: Feed}, security=_READ)
async def feed(request: Request, query: FeedQuery) -> HTTPResponse:
    after, limit = registry_share.parse_cursor(query.cursor, query.limit)
    return json(await registry_share.feed(request.ctx.registry.region_code, after, limit,
                                          request.app.ctx.settings.public_base_url))


@bp.get("/contracts/<filing_no:str>")
@registry_scope("contracts:read")
@operation("The shared data items of a filed contract (full identities)", tag=TAG,
           path=_FILING, responses={200: SharedData}, security=_READ)
async def shared(request: Request, filing_no: str) -> HTTPResponse:
    return json(await registry_share.shared_data(request.app.ctx.cipher,
                                                 request.ctx.registry.region_code, filing_no,
                                                 request.app.ctx.settings.public_base_url))


@bp.get("/contracts/<filing_no:str>/document.pdf")
@registry_scope("contracts:read")
@operation("The filed, signed PDF of one document of the sale (ETag, Digest, X-Content-SHA256)",
           tag=TAG, path=_FILING, query=DocumentQuery,
           description="`?kind=` chooses the document (the contract by default); the shared "
           "data's and the feed's `documents[].url` are these addresses.",
           responses={200: "application/pdf", 304: None}, security=_READ,
           errors={404: "not_found, document_not_found", 409: "document_sealing"})
async def document(request: Request, filing_no: str, query: DocumentQuery
                   ) -> HTTPResponse | None:
    sha = await registry_share.filed_document(request.ctx.registry.region_code, filing_no,
                                              query.kind)
    etag = f'"{sha}"'
    if request.headers.get("if-none-match") == etag:
        return HTTPResponse(status=304, headers={"ETag": etag})
    files = request.app.ctx.contract_deps.files
    digest = base64.b64encode(bytes.fromhex(sha)).decode()
    # streamed from the document store: a registry pulling many PDFs keeps memory flat
    response = await request.respond(
        content_type="application/pdf",
        headers={"ETag": etag, "X-Content-SHA256": sha, "Digest": f"sha-256={digest}",
                 "Content-Length": str(await files.size(sha)),
                 "Content-Disposition":
                 f'attachment; filename="{_file_name(filing_no, query.kind)}"'})
    async for chunk in files.stream(sha):
        await response.send(chunk)
    await response.eof()
    return None


def _file_name(filing_no: str, kind: str) -> str:
    return f"{filing_no}.pdf" if kind == "contract" else f"{filing_no}-{kind}.pdf"


@bp.get("/contracts/<filing_no:str>/evidence.pdf")
@registry_scope("contracts:read")
@operation("The evidence report (证据报告) of a filed contract: a sealed PDF/A", tag=TAG,
           path=_FILING, responses={200: "application/pdf"}, security=_READ,
           errors={404: "not_found"})
async def evidence_report(request: Request, filing_no: str) -> HTTPResponse:
    pdf, sha = await evidence.for_registry(request.app.ctx.contract_deps,
                                           request.ctx.registry.region_code, filing_no)
    return raw(pdf, content_type="application/pdf",
               headers={"ETag": f'"{sha}"', "X-Content-SHA256": sha,
                        "Content-Disposition":
                        f'attachment; filename="{filing_no}-evidence.pdf"'})


@bp.post("/contracts/<filing_no:str>/acceptance")
@registry_scope("contracts:write")
@operation("The registration was accepted: locks the contract (no revocation)", tag=TAG,
           path=_FILING, body=AcceptanceBody, responses={200: StatusAnswer}, security=_WRITE,
           errors={409: "invalid_state, conflict"})
async def acceptance(request: Request, filing_no: str, body: AcceptanceBody) -> HTTPResponse:
    out, stale = await registry_share.accept(request.ctx.registry.region_code, filing_no,
                                             request.ctx.registry.client_id, body.case_no)
    await forget_facts(request.app.ctx.kv, stale)
    return json(out)


@bp.post("/contracts/<filing_no:str>/completion")
@registry_scope("contracts:write")
@operation("The transfer registration was completed", tag=TAG, path=_FILING,
           responses={200: StatusAnswer}, security=_WRITE, errors={409: "invalid_state"})
async def completion(request: Request, filing_no: str) -> HTTPResponse:
    out, stale = await registry_share.complete(request.ctx.registry.region_code, filing_no,
                                               request.ctx.registry.client_id)
    await forget_facts(request.app.ctx.kv, stale)
    return json(out)
