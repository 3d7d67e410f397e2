"""How a unit is shown: to its owners in the mini-program, and to the registry office.

Both views mask names and ID numbers: an owner sees the co-owners as 张*三 /
4212**********1234, and the office gets back what it pushed only masked (it
has the originals). ``is_caller`` lets the phone highlight the caller's own row
without showing anyone's full number.
"""

from __future__ import annotations

from collections.abc import Collection
from decimal import Decimal
from typing import Any

from server.domain import clock
from server.domain.identity import mask_id_number, mask_name
from server.domain.units import OWNERSHIP_KINDS, RESTRICTION_KINDS, STRUCTURES
from server.identity_crypto import IdentityCipher
from server.models import Owner, RegistrationUnit, Restriction
from server.services.houses.state import UnitState


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def location(unit: RegistrationUnit) -> dict[str, Any]:
    parts = [unit.city, unit.district, unit.community, unit.building, unit.unit,
             f"{unit.room}室" if unit.room and not unit.room.endswith("室") else unit.room]
    return {"city": unit.city, "district": unit.district, "community": unit.community,
            "building": unit.building, "unit": unit.unit, "room": unit.room,
            "floor": unit.floor, "total_floors": unit.total_floors,
            "address": "".join(p for p in parts if p)}


def restriction_view(r: Restriction) -> dict[str, Any]:
    return {"restriction_id": r.restriction_id, "kind": r.kind,
            "kind_name": RESTRICTION_KINDS.get(r.kind, r.kind), "active": r.active,
            **{k: v for k, v in (r.details or {}).items()},
            "source_time": clock.rfc3339(r.source_time),
            "lifted_at": clock.rfc3339(r.lifted_at)}


def owner_view(o: Owner, cipher: IdentityCipher,
               caller_indexes: Collection[str] = ()) -> dict[str, Any]:
    view: dict[str, Any] = {
        "name_masked": mask_name(o.name),
        "id_number_masked": mask_id_number(cipher.decrypt(o.id_number_enc)),
        "share": _number(o.share), "kind": o.kind,
    }
    if caller_indexes:
        view["is_caller"] = o.id_index in caller_indexes
    return view


def unit_facts(unit: RegistrationUnit) -> dict[str, Any]:
    return {
        "unit_no": unit.unit_no, "region_code": unit.region_code, "house_no": unit.house_no,
        "certificate_no": unit.certificate_no, "location": location(unit),
        "building_area": _number(unit.building_area), "inner_area": _number(unit.inner_area),
        "structure": {"code": unit.structure, "name": STRUCTURES.get(unit.structure, "")},
        "planned_use": unit.planned_use,
        "ownership_kind": unit.ownership_kind,
        "ownership_kind_name": OWNERSHIP_KINDS.get(unit.ownership_kind, ""),
    }


def owner_unit_view(state: UnitState, cipher: IdentityCipher,
                    caller_indexes: Collection[str]) -> dict[str, Any]:
    """The unit as its owner sees it in the mini-program (active restrictions only)."""
    return {
        **unit_facts(state.unit),
        "owners": [owner_view(o, cipher, caller_indexes) for o in state.owners],
        "restrictions": [restriction_view(r) for r in state.restrictions],
        "under_filed_contract": bool(state.filed_contract_ids),
        "registration_accepted": state.unit.registration_accepted,
        "data_version": state.data_version,
    }


def registry_unit_view(state: UnitState, lifted: list[Restriction],
                       cipher: IdentityCipher) -> dict[str, Any]:
    """The unit as the office sees it: every restriction, lifted ones included."""
    return {
        **unit_facts(state.unit),
        "source_version": state.unit.source_version,
        "restriction_seq": state.unit.restriction_seq,
        "owners": [owner_view(o, cipher) for o in state.owners],
        "restrictions": [restriction_view(r) for r in [*state.restrictions, *lifted]],
        "under_filed_contract": bool(state.filed_contract_ids),
        "registration_accepted": state.unit.registration_accepted,
        "updated_at": clock.rfc3339(state.unit.updated_at),
    }
