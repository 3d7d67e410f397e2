"""``/contracts``, ``/invitations``: thin handlers over :mod:`server.services.contracts`."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, raw

from server.errors import InvalidInput, NotFound
from server.http.auth import authenticated, identity_bound
from server.http.operations import Header, operation
from server.http.render import json
from server.schemas.miniapp import (
    ConfirmBody,
    ContractCreateBody,
    ContractEditBody,
    ContractList,
    ContractView,
    DocumentQuery,
    InvitationView,
    InviteBody,
    RevocationBody,
    RevocationConfirmBody,
    SignBody,
    Timeline,
)
from server.schemas.types import ContractId, token
from server.services.contracts import (
    confirmation,
    drafting,
    evidence,
    filing,
    invitations,
    queries,
    revocation,
    signing,
)

bp = Blueprint("miniapp_contracts")
TAG = "mini-program: contracts"
_ID = {"contract_id": ContractId}
IfMatch = Annotated[str, Field(max_length=24, pattern=r'^(W/)?"?[0-9]{1,19}"?$',
                               examples=['"3"'])]
PageName = Annotated[str, Field(max_length=8, pattern=r"^[0-9]{1,3}\.png$", examples=["1.png"],
                                description="页码加 .png，如 1.png")]
InvitationToken = token(64, description="邀请令牌（分享卡片中的 token）")
_FACE_CONSUME = ("face_verification_not_found, face_verification_not_passed, "
                 "face_verification_used, face_verification_expired, "
                 "face_verification_wrong_purpose, face_verification_wrong_contract")


def _deps(request: Request):
    return request.app.ctx.contract_deps


@bp.post("/contracts")
@authenticated
@identity_bound
@operation(
    "Create a draft (seller- or buyer-initiated)", tag=TAG, body=ContractCreateBody,
    description="Every term with its allowed values is in the `Terms` schema; the README "
    "has a body that works as written. Structure is checked first (all fields at once), "
    "then the rules between fields (dates not in the past, installments summing to the "
    "price, deposit at most 20%, shares summing to 100, the sellers being every "
    "registered owner).",
    responses={201: ContractView}, security="bearer",
    errors={403: "identity_not_bound",
            422: "house_not_eligible, sellers_mismatch, initiator_not_party, "
                 "original_not_revoked"})
async def create(request: Request, body: ContractCreateBody) -> HTTPResponse:
    contract_id = await drafting.create(_deps(request), request.ctx.user_id,
                                        body.model_dump(exclude_unset=True))
    view = await queries.get(_deps(request), request.ctx.user_id, contract_id)
    return json(view, status=201, headers={"ETag": f'"{view["version"]}"'})


@bp.get("/contracts")
@authenticated
@operation("The caller's contracts", tag=TAG, responses={200: ContractList},
           security="bearer")
async def list_contracts(request: Request) -> HTTPResponse:
    return json({"items": await queries.list_mine(_deps(request), request.ctx.user_id)})


@bp.get("/contracts/<contract_id:str>")
@authenticated
@operation("One contract (parties only; masked identities)", tag=TAG, path=_ID,
           responses={200: ContractView}, security="bearer")
async def get_contract(request: Request, contract_id: str) -> HTTPResponse:
    view = await queries.get(_deps(request), request.ctx.user_id, contract_id)
    return json(view, headers={"ETag": f'"{view["version"]}"'})


@bp.patch("/contracts/<contract_id:str>")
@authenticated
@operation(
    "Edit terms or parties (If-Match: version); clears all confirmations", tag=TAG,
    path=_ID, body=ContractEditBody,
    headers={"if_match": Header("If-Match", IfMatch, "合同当前的 version（或 ETag）",
                                required=True)},
    responses={200: ContractView}, security="bearer",
    errors={400: "invalid_input, invalid_json, invalid_if_match", 409: "invalid_state",
            412: "version_mismatch", 422: "cannot_remove_self, sellers_mismatch, "
            "seller_not_joined, house_not_eligible", 428: "if_match_required"})
async def edit_contract(request: Request, contract_id: str, body: ContractEditBody,
                        if_match: str | None) -> HTTPResponse:
    await drafting.edit(_deps(request), request.ctx.user_id, contract_id, if_match,
                        body.model_dump(exclude_unset=True))
    view = await queries.get(_deps(request), request.ctx.user_id, contract_id)
    return json(view, headers={"ETag": f'"{view["version"]}"'})


@bp.post("/contracts/<contract_id:str>/cancel")
@authenticated
@operation("The initiator cancels before filing", tag=TAG, path=_ID,
           responses={200: ContractView}, security="bearer",
           errors={403: "not_initiator", 409: "invalid_state"})
async def cancel_contract(request: Request, contract_id: str) -> HTTPResponse:
    await drafting.cancel(_deps(request), request.ctx.user_id, contract_id)
    return json(await queries.get(_deps(request), request.ctx.user_id, contract_id))


@bp.post("/contracts/<contract_id:str>/invitations", ctx_carries_token=True)
@authenticated
@operation("Invite a party: a single-use share token bound to their ID number", tag=TAG,
           path=_ID, body=InviteBody, responses={201: InvitationView}, security="bearer",
           errors={409: "invalid_state, party_already_joined"})
async def invite(request: Request, contract_id: str, body: InviteBody) -> HTTPResponse:
    out = await invitations.invite(_deps(request), request.ctx.user_id, contract_id,
                                   body.party_id)
    return json(out, status=201)


@bp.post("/invitations/<token:str>/accept")
@authenticated
@operation("Accept an invitation (the bound identity must be the invitee's)", tag=TAG,
           path={"token": InvitationToken}, responses={200: ContractView}, security="bearer",
           errors={403: "identity_not_bound, invitee_mismatch",
                   404: "not_found, invitation_not_found",
                   409: "invitation_used, invitation_expired, already_a_party, invalid_state"})
async def accept(request: Request, token: str) -> HTTPResponse:
    contract_id = await invitations.accept(_deps(request), request.ctx.user_id, token)
    return json(await queries.get(_deps(request), request.ctx.user_id, contract_id))


@bp.post("/contracts/<contract_id:str>/confirm")
@authenticated
@operation("Confirm this exact version; the last confirmation freezes the contract", tag=TAG,
           path=_ID, body=ConfirmBody, responses={200: ContractView}, security="bearer",
           errors={409: "invalid_state", 412: "version_mismatch", 422: "house_not_eligible"})
async def confirm(request: Request, contract_id: str, body: ConfirmBody) -> HTTPResponse:
    await confirmation.confirm(_deps(request), request.ctx.user_id, contract_id, body.version)
    return json(await queries.get(_deps(request), request.ctx.user_id, contract_id))


@bp.get("/contracts/<contract_id:str>/timeline")
@authenticated
@operation("Every event of the contract, oldest first (hash-chained)", tag=TAG, path=_ID,
           responses={200: Timeline}, security="bearer")
async def contract_timeline(request: Request, contract_id: str) -> HTTPResponse:
    return json({"events": await queries.events(_deps(request), request.ctx.user_id,
                                                contract_id)})


@bp.get("/contracts/<contract_id:str>/document.pdf")
@authenticated
@operation("The current PDF of one document of the sale (a marked draft preview before "
           "freezing)", tag=TAG, path=_ID, query=DocumentQuery,
           description="`?kind=` chooses the document (the contract by default); the "
           "contract's `documents[].url` are these addresses. 404 `document_not_found` for a "
           "document the sale does not carry (no funds custody: no agreement).",
           responses={200: "application/pdf"}, security="bearer",
           errors={404: "not_found, house_not_linked, document_not_found"})
async def document(request: Request, contract_id: str, query: DocumentQuery) -> HTTPResponse:
    pdf, sha = await queries.document(_deps(request), request.ctx.user_id, contract_id,
                                      query.kind)
    return _private_pdf(pdf, sha)


def _private_pdf(pdf: bytes, sha: str, **headers: str) -> HTTPResponse:
    return raw(pdf, content_type="application/pdf",
               headers={"ETag": f'"{sha}"', "X-Content-SHA256": sha,
                        "Cache-Control": "private, no-store", **headers})


@bp.get("/contracts/<contract_id:str>/evidence.pdf")
@authenticated
@operation("The evidence report (证据报告): a sealed PDF/A of everything that happened",
           tag=TAG, path=_ID, responses={200: "application/pdf"}, security="bearer",
           errors={404: "not_found"})
async def evidence_report(request: Request, contract_id: str) -> HTTPResponse:
    pdf, sha = await evidence.for_party(_deps(request), request.ctx.user_id, contract_id)
    return _private_pdf(pdf, sha, **{"Content-Disposition":
                                     'attachment; filename="evidence.pdf"'})


@bp.get("/contracts/<contract_id:str>/pages/<page:str>")
@authenticated
@operation("A page preview for phones: /pages/{n}.png", tag=TAG,
           description="750 px wide PNG of page n of the current PDF (`?kind=`: of that "
           "document of the sale); `X-Page-Count` says how many pages there are. 404 "
           "`page_not_found` past the last page.",
           path={**_ID, "page": PageName}, query=DocumentQuery, responses={200: "image/png"},
           security="bearer",
           errors={404: "not_found, house_not_linked, document_not_found, page_not_found"})
async def page(request: Request, contract_id: str, page: str, query: DocumentQuery
               ) -> HTTPResponse:
    number = int(page.removesuffix(".png"))
    if not 1 <= number <= 500:
        if number == 0:
            raise InvalidInput({"page": "页码无效"})
        raise NotFound("页码超出范围", code="page_not_found")
    preview = await queries.page_png(_deps(request), request.ctx.user_id, contract_id, number,
                                     query.kind)
    return raw(preview.png, content_type="image/png",
               headers={"Cache-Control": "private, max-age=300",
                        "X-Page-Count": str(preview.page_count)})


@bp.post("/contracts/<contract_id:str>/signatures")
@authenticated
@operation("Sign every document of the sale (needs a passed `sign` face verification); the "
           "last signature files", tag=TAG, path=_ID, body=SignBody,
           description="One face verification signs all of the caller's documents "
           "(`documents[]`: the contract, the funds-custody agreement, the transaction "
           "notice) at once, all or none: if any one cannot be signed (e.g. 503 "
           "`timestamp_unavailable`) no document is signed and the face verification stays "
           "unused, so the same request can be repeated.",
           responses={201: ContractView}, security="bearer",
           errors={400: "invalid_input, invalid_json, invalid_signature_image",
                   409: f"invalid_state, already_signed, filing_in_progress, {_FACE_CONSUME}, "
                        "concurrent_signature (other parties kept signing meanwhile: retry)",
                   422: "house_not_eligible"})
async def sign(request: Request, contract_id: str, body: SignBody) -> HTTPResponse:
    deps = _deps(request)
    if await signing.sign(deps, request.ctx.user_id, contract_id, body.model_dump()):
        await filing.file_after_last_signature(deps, contract_id)
    return json(await queries.get(deps, request.ctx.user_id, contract_id), status=201)


@bp.post("/contracts/<contract_id:str>/revocation")
@authenticated
@operation("Ask to revoke a filed contract (every party then confirms)", tag=TAG, path=_ID,
           body=RevocationBody, body_optional=True, responses={202: ContractView},
           security="bearer",
           errors={409: "invalid_state, filing_in_progress, revocation_already_requested"})
async def request_revocation(request: Request, contract_id: str, body: RevocationBody
                             ) -> HTTPResponse:
    await revocation.request(_deps(request), request.ctx.user_id, contract_id,
                             body.model_dump())
    return json(await queries.get(_deps(request), request.ctx.user_id, contract_id), status=202)


@bp.post("/contracts/<contract_id:str>/revocation/confirm")
@authenticated
@operation("Confirm the revocation with a passed `revoke` face verification", tag=TAG,
           path=_ID, body=RevocationConfirmBody, responses={200: ContractView},
           security="bearer",
           errors={409: "invalid_state, revocation_not_requested, "
                        f"revocation_already_confirmed, {_FACE_CONSUME}"})
async def confirm_revocation(request: Request, contract_id: str, body: RevocationConfirmBody
                             ) -> HTTPResponse:
    await revocation.confirm(_deps(request), request.ctx.user_id, contract_id,
                             body.model_dump())
    return json(await queries.get(_deps(request), request.ctx.user_id, contract_id))
