"""Agent-assisted signing at a service point (代理签约, seed 003): staff draft a contract for
the parties at the counter and show each party an invitation QR code; the parties
join, confirm and sign on their own phones, each with their own face verification.

Staff act only through this module, and nothing here confirms, signs or accepts
for anyone: every party starts unjoined and unconfirmed, and the staff API has no
such step (staff tokens are refused by the mini-program routes that do). Each
staff action is a timeline event whose actor is ``staff:<id>`` and whose data
names the staff member and the service point. A staff member sees only contracts
drafted at a counter of their own region; anything else is "not found".
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from tortoise.transactions import in_transaction

from server.domain import clock
from server.domain.contract import Step, advance
from server.domain.errors import RuleRefused
from server.domain.units import normalize_certificate_no
from server.errors import NotFound
from server.models import Contract, Party, RegistrationUnit, User
from server.services import timeline
from server.services.contracts import invitations
from server.services.contracts.deps import ContractDeps
from server.services.contracts.drafting import (
    _party_rows,
    _registered_sellers,
    _store_parties,
    insert_draft,
    new_contract_id,
    parse_draft,
)
from server.services.contracts.views import contract_view
from server.services.staff import StaffPrincipal

INITIATOR_ROLE = "staff"
MAX_LIST = 200


async def _house_region(certificate_no: str) -> str | None:
    regions = await RegistrationUnit.filter(
        certificate_no=normalize_certificate_no(certificate_no)).values_list("region_code",
                                                                             flat=True)
    return regions[0] if regions else None


async def create(deps: ContractDeps, staff: StaffPrincipal, payload: dict[str, Any]) -> str:
    """A draft for the parties at the counter: every seller is a registered owner, the
    house lies in the staff member's region, and it passes the house check."""
    certificate_no, _, parties, terms = parse_draft(deps, payload, with_role=False)
    region = await _house_region(certificate_no)
    if region is not None and region != staff.region_code:
        raise RuleRefused("该房屋不在本服务网点所辖区域，请到房屋所在地办理",
                          code="house_outside_region")
    rows = _party_rows(deps, parties)
    account = await User.get(id=staff.user_id)
    contract_id = new_contract_id()
    lender = (terms.get("mortgage_transfer") or {}).get("lender")
    outcome, unit = await _registered_sellers(deps, account, certificate_no, rows, lender,
                                              contract_id, "counter_draft", all_sellers=True)
    async with in_transaction():
        contract = await insert_draft(deps, contract_id, account, INITIATOR_ROLE, certificate_no,
                                      unit, terms, rows, staff_id=staff.staff_id,
                                      service_point=staff.service_point)
        await _store_parties(deps, contract, rows, keep={})
        await timeline.append(contract.id, "created", staff.actor, {
            "initiator_role": INITIATOR_ROLE, "version": 1,
            "content_hash": contract.content_hash, "replaces": None,
            "staff": staff.timeline_data()})
        await timeline.append(contract.id, "house_checked", "system",
                              {**outcome.timeline_data(), "staff": staff.timeline_data()})
    return contract_id


async def _visible(staff: StaffPrincipal, contract_id: str, *, lock: bool = False) -> Contract:
    """A contract drafted at a counter of the staff member's region; 404 for any other."""
    query = Contract.filter(id=contract_id, region_code=staff.region_code,
                            staff_id__isnull=False)
    if lock:
        query = query.select_for_update()
    contract = await query.first()
    if contract is None:
        raise NotFound()
    return contract


async def _view(deps: ContractDeps, contract: Contract) -> dict[str, Any]:
    parties = await Party.filter(contract_id=contract.id).order_by("position")
    unit = await RegistrationUnit.get_or_none(unit_no=contract.unit_id)  # type: ignore[attr-defined]
    return contract_view(contract, parties, unit, None, deps.cipher,
                         deps.settings.public_base_url)


async def get(deps: ContractDeps, staff: StaffPrincipal, contract_id: str) -> dict[str, Any]:
    return await _view(deps, await _visible(staff, contract_id))


async def list_region(deps: ContractDeps, staff: StaffPrincipal, limit: int
                      ) -> list[dict[str, Any]]:
    """The newest counter drafts of the region (any service point: colleagues take over)."""
    rows = await Contract.filter(region_code=staff.region_code, staff_id__isnull=False) \
        .order_by("-created_at").limit(min(limit, MAX_LIST))
    return [await _view(deps, c) for c in rows]


def invitation_links(base_url: str, token: str) -> dict[str, str]:
    """The H5 client's link for the invitee's phone, and the QR code the counter shows."""
    url = f"{base_url}/app/#/invite/{token}"
    return {"invitation_url": url, "qr_svg_url": f"/app/qr.svg?u={quote(url, safe='')}"}


async def invite(deps: ContractDeps, staff: StaffPrincipal, contract_id: str, party_id: Any
                 ) -> dict[str, Any]:
    invitations.party_id_problem(party_id)
    async with in_transaction():
        contract = await _visible(staff, contract_id, lock=True)
        out = await invitations.issue(deps, contract, party_id, created_by_id=staff.user_id,
                                      actor=staff.actor,
                                      extra={"staff": staff.timeline_data()})
    return {**out, **invitation_links(deps.settings.public_base_url, out["token"])}


async def cancel(deps: ContractDeps, staff: StaffPrincipal, contract_id: str) -> None:
    """Before filing, as the initiator may (the parties change their minds at the counter)."""
    async with in_transaction():
        contract = await _visible(staff, contract_id, lock=True)
        contract.status = advance(contract.status, Step.CANCEL).value
        contract.cancelled_at = clock.now()
        await contract.save(update_fields=["status", "cancelled_at", "updated_at"])
        await timeline.append(contract.id, "cancelled", staff.actor,
                              {"reason": "staff", "staff": staff.timeline_data()})
