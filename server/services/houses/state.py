"""Reading one unit's facts as a consistent whole: never owners of one push with
restrictions of another.

Every writer changes ``source_version`` (unit pushes) or ``restriction_seq``
(restriction changes) in the same transaction as the rows it changes, and the
filing step changes ``filed_contract_id`` on the unit row. So a lock-free read
is consistent when the unit row's stamp is the same before and after reading
the owners and restrictions; otherwise it is read again, and as a last resort
under a row lock. Under a lock (``lock=True``, the caller's transaction) the
stamp cannot move at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tortoise.transactions import in_transaction

from server.domain.eligibility import RestrictionFact, UnitFacts
from server.models import Contract, Owner, RegistrationUnit, Restriction

_OPTIMISTIC_TRIES = 3


@dataclass
class UnitState:
    unit: RegistrationUnit
    owners: list[Owner]
    restrictions: list[Restriction]  # active ones
    filed_contract_ids: tuple[str, ...]

    @property
    def data_version(self) -> str:
        return f"v{self.unit.source_version}-r{self.unit.restriction_seq}"

    def facts(self) -> UnitFacts:
        return UnitFacts(
            owner_indexes=tuple(o.id_index for o in self.owners),
            restrictions=tuple(
                RestrictionFact(r.restriction_id, r.kind, lender=(r.details or {}).get("lender"),
                                beneficiary_index=r.beneficiary_index)
                for r in self.restrictions),
            filed_contract_ids=self.filed_contract_ids,
            registration_accepted=self.unit.registration_accepted,
        )

    def snapshot(self) -> dict[str, Any]:
        """What a check record keeps of the facts it saw (no names, no ID numbers)."""
        return {
            "source_version": self.unit.source_version,
            "restriction_seq": self.unit.restriction_seq,
            "active_restrictions": [
                {"restriction_id": r.restriction_id, "kind": r.kind,
                 **({"lender": r.details["lender"]} if (r.details or {}).get("lender") else {})}
                for r in self.restrictions],
            "filed_contract_ids": list(self.filed_contract_ids),
            "registration_accepted": self.unit.registration_accepted,
            "owner_count": len(self.owners),
        }


def _stamp(unit: RegistrationUnit) -> tuple[Any, ...]:
    return (unit.source_version, unit.restriction_seq, unit.filed_contract_id,
            unit.registration_accepted, unit.certificate_no)


async def _read(unit: RegistrationUnit) -> UnitState:
    owners = await Owner.filter(unit_id=unit.unit_no).order_by("position", "id")
    restrictions = await Restriction.filter(unit_id=unit.unit_no, active=True).order_by("id")
    filed = set(await Contract.filter(active_unit_no=unit.unit_no).values_list("id", flat=True))
    if unit.filed_contract_id:
        filed.add(unit.filed_contract_id)
    return UnitState(unit, list(owners), list(restrictions), tuple(sorted(filed)))


async def read_locked(certificate_no: str | None = None, *,
                      unit_no: str | None = None) -> UnitState | None:
    """Lock the unit row (FOR NO KEY UPDATE; the caller's transaction) and read it."""
    query = RegistrationUnit.filter(**_where(certificate_no, unit_no))
    unit = await query.select_for_update(no_key=True).first()
    return None if unit is None else await _read(unit)


async def read_consistent(certificate_no: str | None = None, *,
                          unit_no: str | None = None) -> UnitState | None:
    """A consistent read without holding a lock in the common case."""
    where = _where(certificate_no, unit_no)
    for _ in range(_OPTIMISTIC_TRIES):
        unit = await RegistrationUnit.filter(**where).first()
        if unit is None:
            return None
        state = await _read(unit)
        again = await RegistrationUnit.filter(unit_no=unit.unit_no).first()
        if again is not None and _stamp(again) == _stamp(unit):
            return state
    async with in_transaction():
        return await read_locked(certificate_no, unit_no=unit_no)


def _where(certificate_no: str | None, unit_no: str | None) -> dict[str, str]:
    if (certificate_no is None) == (unit_no is None):
        raise ValueError("give exactly one of certificate_no and unit_no")
    return {"certificate_no": certificate_no} if certificate_no is not None \
        else {"unit_no": unit_no or ""}
