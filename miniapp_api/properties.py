"""``/properties/*``: may I sell this house? and which houses are mine?"""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi

from server.domain.errors import Problems
from server.domain.identity import id_number_problem, normalize_id_number
from server.http.auth import authenticated
from server.http.body import json_object
from server.http.render import json

bp = Blueprint("miniapp_properties")
MAX_BUYERS = 10


def _check_request(data: dict[str, Any]) -> tuple[str, str | None, list[str]]:
    problems = Problems()
    cert = data.get("certificate_no")
    if not isinstance(cert, str) or not cert.strip():
        problems.add("certificate_no", "必填")
    elif len(cert) > 64:
        problems.add("certificate_no", "长度不能超过64")
    lender: str | None = None
    transfer = data.get("mortgage_transfer")
    if transfer is not None:
        raw = transfer.get("lender") if isinstance(transfer, dict) else None
        if not isinstance(raw, str) or not raw.strip() or len(raw) > 128:
            problems.add("mortgage_transfer.lender", "带押过户须注明抵押权人（不超过128字）")
        else:
            lender = raw.strip()
    buyers: list[str] = []
    raw_buyers = data.get("buyers") or []
    if not isinstance(raw_buyers, list) or len(raw_buyers) > MAX_BUYERS:
        problems.add("buyers", f"应为不超过{MAX_BUYERS}项的数组")
    else:
        for i, buyer in enumerate(raw_buyers):
            number = buyer.get("id_number") if isinstance(buyer, dict) else None
            if (reason := id_number_problem(number)) is not None:
                problems.add(f"buyers[{i}].id_number", reason)
            else:
                buyers.append(normalize_id_number(str(number)))
    problems.raise_if_any()
    return str(cert), lender, buyers


@bp.post("/properties/check")
@openapi.summary("Check that the caller may sell a house (recorded)")
@openapi.description(
    "The caller's bound identity must be a registered owner (403 `identity_not_bound` "
    "without one). Answers `{check_id, eligible, reasons: [{code, message}], unit}`; reason "
    "codes: `not_owner` (also for an unknown certificate: `unit` is then null and nothing "
    "else is said), `under_filed_contract`, `registration_accepted`, `seized`, `objection`, "
    "`advance_notice` (its beneficiary is not among `buyers`), `mortgaged` (unless "
    "`mortgage_transfer.lender` names the mortgage's lender: 带押过户). Every check is "
    "stored with its inputs, result and data version.")
@openapi.body({"application/json": {"certificate_no": "鄂(2023)咸宁市不动产权第0012345号",
                                    "mortgage_transfer": {"lender": "中国建设银行咸宁分行"},
                                    "buyers": [{"id_number": "..."}]}})
@authenticated
async def check(request: Request) -> HTTPResponse:
    cert, lender, buyers = _check_request(json_object(request))
    checks = request.app.ctx.houses
    cipher = request.app.ctx.cipher
    outcome = await checks.check_house(
        request.ctx.user_id, cert, mortgage_lender=lender,
        buyer_id_indexes=[cipher.index(b) for b in buyers], purpose="check")
    return json(outcome.as_dict())


@bp.get("/properties/mine")
@openapi.summary("Houses the caller's bound identity owns")
@authenticated
async def mine(request: Request) -> HTTPResponse:
    units = await request.app.ctx.houses.owned_by(request.ctx.user_id)
    return json({"items": units})
