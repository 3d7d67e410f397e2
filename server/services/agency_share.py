"""What an agency reads of a filed contract, by its contract number: only the items of
its kind (:mod:`server.domain.sharing`), and every read written on the contract's
timeline (which agency, when, which items), where the parties see it.

Lookups are scoped to the agency's region: a contract of another region, one
never filed, or one that does not exist are all "not found", alike.
"""

from __future__ import annotations

from typing import Any

from tortoise.transactions import in_transaction

from server.domain import clock
from server.domain.sharing import AGENCY_KINDS, ITEMS, items_for
from server.errors import NotFound, RateLimited
from server.identity_crypto import IdentityCipher
from server.kv import KeyValueStore
from server.models import Contract, Party, RegistrationUnit
from server.services import timeline

EVENT = "agency_accessed"


async def _filed(region_code: str, contract_no: str) -> Contract:
    contract = await Contract.filter(contract_no=contract_no, region_code=region_code,
                                     filed_at__isnull=False).first()
    if contract is None:
        raise NotFound("合同不存在", code="not_found")
    return contract


def _people(parties: list[Party], roles: tuple[str, ...], items: tuple[str, ...],
            cipher: IdentityCipher) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {f"{role}s": [] for role in roles}
    for p in parties:
        if p.role not in roles:
            continue  # an agent (代理人) is nobody's business here
        person: dict[str, Any] = {"name": p.name,
                                  "share": float(p.share) if p.share is not None else None}
        if "id_numbers" in items:
            person["id_number"] = cipher.decrypt(p.id_number_enc)
        if "addresses" in items:
            person["address"] = p.address
        out[f"{p.role}s"].append(person)
    return out


async def _answer(contract: Contract, kind: str, items: tuple[str, ...],
                  cipher: IdentityCipher) -> dict[str, Any]:
    terms = contract.terms
    out: dict[str, Any] = {
        "contract_no": contract.contract_no, "filing_no": contract.filing_no,
        "status": contract.status, "filed_at": clock.rfc3339(contract.filed_at),
        "region_code": contract.region_code, "agency_kind": kind, "items": list(items)}
    if "price" in items:
        out["price_fen"] = terms["price_fen"]
    if "payment" in items:
        out["payment"] = {"payment_method": terms["payment_method"],
                          "payment_schedule": terms["payment_schedule"],
                          "deposit_fen": terms.get("deposit_fen", 0)}
    if "mortgage" in items:
        out["mortgage"] = {"mortgage_transfer": terms.get("mortgage_transfer"),
                           "funds_custody": terms.get("funds_custody", False),
                           "custody_bank": terms.get("custody_bank")}
    if "taxes" in items:
        out["taxes_borne_by"] = terms.get("taxes_borne_by", "by_law")
    if {"house", "areas"} & set(items):
        unit = await RegistrationUnit.get(unit_no=contract.unit_id)  # type: ignore[attr-defined]
        if "house" in items:
            out["house"] = {"unit_no": unit.unit_no, "house_no": unit.house_no,
                            "certificate_no": unit.certificate_no,
                            "location": {"city": unit.city, "district": unit.district,
                                         "community": unit.community,
                                         "building": unit.building, "unit": unit.unit,
                                         "room": unit.room}}
        if "areas" in items:
            out["areas"] = {"building_area": float(unit.building_area),
                            "inner_area": float(unit.inner_area),
                            "structure": unit.structure, "planned_use": unit.planned_use}
    roles = ("seller", "buyer") if "parties" in items else ("buyer",) if "buyers" in items \
        else ()
    if roles:
        parties = await Party.filter(contract_id=contract.id).order_by("position")
        out.update(_people(parties, roles, items, cipher))
    return out


async def _within_quota(kv: KeyValueStore, client_id: str, per_minute: int) -> None:
    if await kv.hit(f"agency:reads:{client_id}", 60) > per_minute:
        raise RateLimited(headers={"Retry-After": "60"}, details={"scope": "agency_client"})


async def read_contract(cipher: IdentityCipher, kv: KeyValueStore, agency: Any,
                        contract_no: str, *, per_minute: int) -> dict[str, Any]:
    """The agency's items of a filed contract of its region; the read is on the timeline
    before the answer leaves (no record, no data)."""
    await _within_quota(kv, agency.client_id, per_minute)
    contract = await _filed(agency.region_code, contract_no)
    items = items_for(agency.kind, contract.status)
    answer = await _answer(contract, agency.kind, items, cipher)
    async with in_transaction():
        # The row lock serialises this append with the contract's other events.
        await Contract.filter(id=contract.id).select_for_update().first()
        await timeline.append(contract.id, EVENT, f"agency:{agency.client_id}", {
            "agency_client_id": agency.client_id, "agency_name": agency.name,
            "agency_kind": agency.kind, "agency_kind_label": AGENCY_KINDS[agency.kind],
            "items": list(items), "item_labels": [ITEMS[i] for i in items]})
    return answer
