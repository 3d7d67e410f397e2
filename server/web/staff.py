"""``/api/v1/staff``: service-point staff log in, draft contracts for the parties at the
counter and show them their invitation QR codes (代理签约). Thin handlers over
:mod:`server.services.staff` and :mod:`server.services.contracts.counter`."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from server.errors import InvalidInput
from server.http.operations import operation
from server.http.peer import client_address
from server.http.render import json
from server.http.staff_auth import staff_authenticated
from server.schemas.miniapp import ContractView, InviteBody
from server.schemas.staff import (
    CounterDraftBody,
    StaffContractList,
    StaffContractsQuery,
    StaffInvitationView,
    StaffLoginBody,
    StaffPasswordBody,
    StaffSession,
)
from server.schemas.types import ContractId
from server.services.contracts import counter

bp = Blueprint("staff", url_prefix="/api/v1/staff")
TAG = "staff (代理签约)"
_ID = {"contract_id": ContractId}
_CREDENTIALS = {401: "invalid_credentials", 429: "rate_limited"}


def _deps(request: Request):
    return request.app.ctx.contract_deps


@bp.post("/login", ctx_carries_token=True)
@operation(
    "Staff log-in with the staff id and password → a staff access token", tag=TAG,
    description="The one-time password printed by `staff create` is refused here with 403 "
    "`password_change_required`: set your own with `POST /api/v1/staff/password` first. "
    "Failed attempts are throttled per staff id and per address (429). The token's audience "
    "is `staff`: no mini-program route accepts it.",
    body=StaffLoginBody, responses={200: StaffSession},
    errors={**_CREDENTIALS, 403: "password_change_required"})
async def login(request: Request, body: StaffLoginBody) -> HTTPResponse:
    session = await request.app.ctx.staff.login(body.staff_id, body.password,
                                                client_address(request))
    return json(session.as_dict())


@bp.post("/password", ctx_carries_token=True)
@operation(
    "Set one's own password (with the one-time or current one) → a staff access token",
    tag=TAG, description="The one-time password works once: after this it is gone. Tokens "
    "issued before the change stop working.",
    body=StaffPasswordBody, responses={200: StaffSession}, errors=_CREDENTIALS)
async def change_password(request: Request, body: StaffPasswordBody) -> HTTPResponse:
    session = await request.app.ctx.staff.change_password(
        body.staff_id, body.password, body.new_password, client_address(request))
    return json(session.as_dict())


@bp.post("/logout")
@staff_authenticated
@operation("End this staff token", tag=TAG, responses={204: None}, security="staff")
async def logout(request: Request) -> HTTPResponse:
    claims = request.ctx.staff_claims
    await request.app.ctx.staff.logout(str(claims.get("jti")), int(claims["exp"]))
    return HTTPResponse(status=204)


@bp.post("/contracts")
@staff_authenticated
@operation(
    "Draft a contract for the parties at the counter", tag=TAG, body=CounterDraftBody,
    description="As `POST /api/v1/contracts` without `initiator_role`: the staff member is "
    "no party. The house must lie in the staff member's region (422 "
    "`house_outside_region`), every seller be a registered owner, and the house pass the "
    "check, which is recorded. Every party starts unjoined: invite each with "
    "`…/invitations` and show them the QR code; they confirm and sign on their own phones.",
    responses={201: ContractView}, security="staff",
    errors={422: "house_not_eligible, sellers_mismatch, house_outside_region"})
async def create(request: Request, body: CounterDraftBody) -> HTTPResponse:
    staff = request.ctx.staff
    contract_id = await counter.create(_deps(request), staff, body.model_dump(exclude_unset=True))
    view = await counter.get(_deps(request), staff, contract_id)
    return json(view, status=201, headers={"ETag": f'"{view["version"]}"'})


@bp.get("/contracts")
@staff_authenticated
@operation("Counter drafts of the staff member's region, newest first", tag=TAG,
           query=StaffContractsQuery, responses={200: StaffContractList}, security="staff")
async def list_contracts(request: Request, query: StaffContractsQuery) -> HTTPResponse:
    limit = int(query.limit) if query.limit else 50
    if not 1 <= limit <= counter.MAX_LIST:
        raise InvalidInput({"limit": f"应为1至{counter.MAX_LIST}"})
    return json({"items": await counter.list_region(_deps(request), request.ctx.staff, limit)})


@bp.get("/contracts/<contract_id:str>")
@staff_authenticated
@operation("One counter draft of the region (masked identities)", tag=TAG, path=_ID,
           responses={200: ContractView}, security="staff")
async def get_contract(request: Request, contract_id: str) -> HTTPResponse:
    view = await counter.get(_deps(request), request.ctx.staff, contract_id)
    return json(view, headers={"ETag": f'"{view["version"]}"'})


@bp.post("/contracts/<contract_id:str>/invitations", ctx_carries_token=True)
@staff_authenticated
@operation(
    "Invite a party: the link and QR code to show at the counter", tag=TAG, path=_ID,
    body=InviteBody, responses={201: StaffInvitationView}, security="staff",
    description="The party scans the QR code with their own phone, logs in, binds their "
    "identity by face verification and accepts; only a bound identity with the invited "
    "party's ID number can.", errors={409: "invalid_state, party_already_joined"})
async def invite(request: Request, contract_id: str, body: InviteBody) -> HTTPResponse:
    out = await counter.invite(_deps(request), request.ctx.staff, contract_id, body.party_id)
    return json(out, status=201)


@bp.post("/contracts/<contract_id:str>/cancel")
@staff_authenticated
@operation("Cancel a counter draft before filing", tag=TAG, path=_ID,
           responses={200: ContractView}, security="staff", errors={409: "invalid_state"})
async def cancel(request: Request, contract_id: str) -> HTTPResponse:
    await counter.cancel(_deps(request), request.ctx.staff, contract_id)
    return json(await counter.get(_deps(request), request.ctx.staff, contract_id))
