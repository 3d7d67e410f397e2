"""``/registry/v1/contracts``: the feed, shared data, signed PDFs, acceptance and completion."""

from __future__ import annotations

import base64

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, raw
from sanic_ext import openapi

from server.http.body import json_object
from server.http.registry_auth import registry_scope
from server.http.render import json
from server.services import registry_share
from server.services.contracts import evidence
from server.services.verification_cache import forget_facts

bp = Blueprint("registry_contracts", url_prefix="/registry/v1")


@bp.get("/contracts")
@openapi.summary("Change feed of filed / accepted / registered / revoked contracts")
@registry_scope("contracts:read")
async def feed(request: Request) -> HTTPResponse:
    after, limit = registry_share.parse_cursor(request.args.get("cursor"),
                                               request.args.get("limit"))
    return json(await registry_share.feed(request.ctx.registry.region_code, after, limit))


@bp.get("/contracts/<filing_no:str>")
@openapi.summary("The shared data items of a filed contract (full identities)")
@registry_scope("contracts:read")
async def shared(request: Request, filing_no: str) -> HTTPResponse:
    return json(await registry_share.shared_data(request.app.ctx.cipher,
                                                 request.ctx.registry.region_code, filing_no))


@bp.get("/contracts/<filing_no:str>/document.pdf")
@openapi.summary("The filed, signed PDF (ETag, Digest, X-Content-SHA256)")
@registry_scope("contracts:read")
async def document(request: Request, filing_no: str) -> HTTPResponse:
    sha = await registry_share.filed_document(request.ctx.registry.region_code, filing_no)
    etag = f'"{sha}"'
    if request.headers.get("if-none-match") == etag:
        return HTTPResponse(status=304, headers={"ETag": etag})
    pdf = await request.app.ctx.contract_deps.files.get(sha)
    digest = base64.b64encode(bytes.fromhex(sha)).decode()
    return raw(pdf, content_type="application/pdf",
               headers={"ETag": etag, "X-Content-SHA256": sha, "Digest": f"sha-256={digest}",
                        "Content-Disposition": f'attachment; filename="{filing_no}.pdf"'})


@bp.get("/contracts/<filing_no:str>/evidence.pdf")
@openapi.summary("The evidence report (证据报告) of a filed contract: a sealed PDF/A")
@registry_scope("contracts:read")
async def evidence_report(request: Request, filing_no: str) -> HTTPResponse:
    pdf, sha = await evidence.for_registry(request.app.ctx.contract_deps,
                                           request.ctx.registry.region_code, filing_no)
    return raw(pdf, content_type="application/pdf",
               headers={"ETag": f'"{sha}"', "X-Content-SHA256": sha,
                        "Content-Disposition":
                        f'attachment; filename="{filing_no}-evidence.pdf"'})


@bp.post("/contracts/<filing_no:str>/acceptance")
@openapi.summary("The registration was accepted: locks the contract (no revocation)")
@openapi.body({"application/json": {"case_no": str}})
@registry_scope("contracts:write")
async def acceptance(request: Request, filing_no: str) -> HTTPResponse:
    data = json_object(request)
    out, stale = await registry_share.accept(request.ctx.registry.region_code, filing_no,
                                             request.ctx.registry.client_id, data.get("case_no"))
    await forget_facts(request.app.ctx.kv, stale)
    return json(out)


@bp.post("/contracts/<filing_no:str>/completion")
@openapi.summary("The transfer registration was completed")
@registry_scope("contracts:write")
async def completion(request: Request, filing_no: str) -> HTTPResponse:
    out, stale = await registry_share.complete(request.ctx.registry.region_code, filing_no,
                                               request.ctx.registry.client_id)
    await forget_facts(request.app.ctx.kv, stale)
    return json(out)
