"""``/contracts``, ``/invitations``: thin handlers over :mod:`server.services.contracts`."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, raw
from sanic_ext import openapi

from server.errors import InvalidInput, NotFound
from server.http.auth import authenticated
from server.http.body import json_object
from server.http.render import json
from server.services.contracts import (
    confirmation,
    drafting,
    filing,
    invitations,
    queries,
    revocation,
    signing,
)

bp = Blueprint("miniapp_contracts")


def _deps(request: Request):
    return request.app.ctx.contract_deps


@bp.post("/contracts")
@openapi.summary("Create a draft (seller- or buyer-initiated)")
@openapi.body({"application/json": {"kind": str, "certificate_no": str, "initiator_role": str,
                                     "sellers": list, "buyers": list, "agent": dict,
                                     "terms": dict}})
@authenticated
async def create(request: Request) -> HTTPResponse:
    contract_id = await drafting.create(_deps(request), request.ctx.user_id, json_object(request))
    view = await queries.get(_deps(request), request.ctx.user_id, contract_id)
    return json(view, status=201, headers={"ETag": f'"{view["version"]}"'})


@bp.get("/contracts")
@openapi.summary("The caller's contracts")
@authenticated
async def list_contracts(request: Request) -> HTTPResponse:
    return json({"items": await queries.list_mine(_deps(request), request.ctx.user_id)})


@bp.get("/contracts/<contract_id:str>")
@openapi.summary("One contract (parties only; masked identities)")
@authenticated
async def get_contract(request: Request, contract_id: str) -> HTTPResponse:
    view = await queries.get(_deps(request), request.ctx.user_id, contract_id)
    return json(view, headers={"ETag": f'"{view["version"]}"'})


@bp.patch("/contracts/<contract_id:str>")
@openapi.summary("Edit terms or parties (If-Match: version); clears all confirmations")
@authenticated
async def edit_contract(request: Request, contract_id: str) -> HTTPResponse:
    await drafting.edit(_deps(request), request.ctx.user_id, contract_id,
                        request.headers.get("if-match"), json_object(request))
    view = await queries.get(_deps(request), request.ctx.user_id, contract_id)
    return json(view, headers={"ETag": f'"{view["version"]}"'})


@bp.post("/contracts/<contract_id:str>/cancel")
@openapi.summary("The initiator cancels before filing")
@authenticated
async def cancel_contract(request: Request, contract_id: str) -> HTTPResponse:
    await drafting.cancel(_deps(request), request.ctx.user_id, contract_id)
    return json(await queries.get(_deps(request), request.ctx.user_id, contract_id))


@bp.post("/contracts/<contract_id:str>/invitations")
@openapi.summary("Invite a party: a single-use share token bound to their ID number")
@openapi.body({"application/json": {"party_id": str}})
@authenticated
async def invite(request: Request, contract_id: str) -> HTTPResponse:
    data = json_object(request)
    out = await invitations.invite(_deps(request), request.ctx.user_id, contract_id,
                                   data.get("party_id"))
    return json(out, status=201)


@bp.post("/invitations/<token:str>/accept")
@openapi.summary("Accept an invitation (the bound identity must be the invitee's)")
@authenticated
async def accept(request: Request, token: str) -> HTTPResponse:
    contract_id = await invitations.accept(_deps(request), request.ctx.user_id, token)
    return json(await queries.get(_deps(request), request.ctx.user_id, contract_id))


@bp.post("/contracts/<contract_id:str>/confirm")
@openapi.summary("Confirm this exact version; the last confirmation freezes the contract")
@openapi.body({"application/json": {"version": int}})
@authenticated
async def confirm(request: Request, contract_id: str) -> HTTPResponse:
    data = json_object(request)
    await confirmation.confirm(_deps(request), request.ctx.user_id, contract_id,
                               data.get("version"))
    return json(await queries.get(_deps(request), request.ctx.user_id, contract_id))


@bp.get("/contracts/<contract_id:str>/timeline")
@openapi.summary("Every event of the contract, oldest first (hash-chained)")
@authenticated
async def contract_timeline(request: Request, contract_id: str) -> HTTPResponse:
    return json({"events": await queries.events(_deps(request), request.ctx.user_id,
                                                contract_id)})


@bp.get("/contracts/<contract_id:str>/document.pdf")
@openapi.summary("The current PDF (a marked draft preview before freezing)")
@authenticated
async def document(request: Request, contract_id: str) -> HTTPResponse:
    pdf, sha = await queries.document(_deps(request), request.ctx.user_id, contract_id)
    return raw(pdf, content_type="application/pdf",
               headers={"ETag": f'"{sha}"', "X-Content-SHA256": sha,
                        "Cache-Control": "private, no-store"})


@bp.get("/contracts/<contract_id:str>/pages/<page:str>")
@openapi.summary("A page preview for phones: /pages/{n}.png")
@openapi.description("750 px wide PNG of page n of the current PDF; `X-Page-Count` says how many "
                     "pages there are. 404 `page_not_found` past the last page.")
@authenticated
async def page(request: Request, contract_id: str, page: str) -> HTTPResponse:
    number = page.removesuffix(".png")
    if not page.endswith(".png") or not number.isdigit():
        raise NotFound()
    if not 1 <= int(number) <= 500:
        raise InvalidInput({"page": "页码无效"})
    preview = await queries.page_png(_deps(request), request.ctx.user_id, contract_id,
                                     int(number))
    return raw(preview.png, content_type="image/png",
               headers={"Cache-Control": "private, max-age=300",
                        "X-Page-Count": str(preview.page_count)})


@bp.post("/contracts/<contract_id:str>/signatures")
@openapi.summary("Sign (needs a passed `sign` face verification); the last signature files")
@openapi.body({"application/json": {"face_verification_id": str, "signature_image": str}})
@authenticated
async def sign(request: Request, contract_id: str) -> HTTPResponse:
    deps = _deps(request)
    if await signing.sign(deps, request.ctx.user_id, contract_id, json_object(request)):
        await filing.file_after_last_signature(deps, contract_id)
    return json(await queries.get(deps, request.ctx.user_id, contract_id), status=201)


@bp.post("/contracts/<contract_id:str>/revocation")
@openapi.summary("Ask to revoke a filed contract (every party then confirms)")
@authenticated
async def request_revocation(request: Request, contract_id: str) -> HTTPResponse:
    await revocation.request(_deps(request), request.ctx.user_id, contract_id,
                             json_object(request, optional=True))
    return json(await queries.get(_deps(request), request.ctx.user_id, contract_id), status=202)


@bp.post("/contracts/<contract_id:str>/revocation/confirm")
@openapi.summary("Confirm the revocation with a passed `revoke` face verification")
@openapi.body({"application/json": {"face_verification_id": str}})
@authenticated
async def confirm_revocation(request: Request, contract_id: str) -> HTTPResponse:
    await revocation.confirm(_deps(request), request.ctx.user_id, contract_id,
                             json_object(request))
    return json(await queries.get(_deps(request), request.ctx.user_id, contract_id))
