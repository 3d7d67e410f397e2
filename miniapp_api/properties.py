"""``/properties/*``: may I sell this house? and which houses are mine?"""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from server.domain.errors import FieldProblems
from server.domain.identity import normalize_id_number
from server.http.auth import authenticated, identity_bound
from server.http.operations import operation
from server.http.render import json
from server.schemas.miniapp import OwnedHouses, PropertyCheck, PropertyCheckBody

bp = Blueprint("miniapp_properties")
TAG = "mini-program: houses"


def _check_inputs(body: PropertyCheckBody) -> tuple[str | None, list[str]]:
    """The mortgage lender (带押过户) and the buyers' normalised ID numbers."""
    if problems := PropertyCheckBody.rule_problems(body.model_dump()):
        raise FieldProblems(problems)
    lender = body.mortgage_transfer.lender.strip() if body.mortgage_transfer else None
    return lender, [normalize_id_number(b.id_number) for b in body.buyers]


@bp.post("/properties/check")
@authenticated
@identity_bound
@operation(
    "Check that the caller may sell a house (recorded)", tag=TAG, body=PropertyCheckBody,
    description="The caller's bound identity must be a registered owner (403 "
    "`identity_not_bound` without one). Answers `{check_id, eligible, reasons: [{code, "
    "message}], unit}`; reason codes: `not_owner` (also for an unknown certificate: `unit` "
    "is then null and nothing else is said), `under_filed_contract`, "
    "`registration_accepted`, `seized`, `objection`, `advance_notice` (its beneficiary is "
    "not among `buyers`), `mortgaged` (unless `mortgage_transfer.lender` names the "
    "mortgage's lender: 带押过户). Every check is stored with its inputs, result and data "
    "version.",
    responses={200: PropertyCheck}, security="bearer",
    errors={403: "identity_not_bound", 429: "rate_limited"})
async def check(request: Request, body: PropertyCheckBody) -> HTTPResponse:
    lender, buyers = _check_inputs(body)
    cipher = request.app.ctx.cipher
    outcome = await request.app.ctx.houses.check_house(
        request.ctx.user_id, body.certificate_no.strip(), mortgage_lender=lender,
        buyer_id_indexes=[cipher.index(b) for b in buyers], purpose="check")
    return json(outcome.as_dict())


@bp.get("/properties/mine")
@authenticated
@operation("Houses the caller's bound identity owns", tag=TAG, responses={200: OwnedHouses},
           security="bearer", errors={403: "identity_not_bound"})
async def mine(request: Request) -> HTTPResponse:
    units = await request.app.ctx.houses.owned_by(request.ctx.user_id)
    return json({"items": units})
