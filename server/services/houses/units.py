"""Keeping our copy of the registration office's units: pushes, ordering, restrictions.

An office pushes a unit whenever it changes, tagged with its own increasing
``source_version``. Pushes may arrive late or twice, so:

* an older version than the stored one is ignored (``stale_version``), never
  applied over newer data;
* the same version with the same content is a harmless repeat (``unchanged``);
  with different content it is a conflict (409 ``version_conflict``), because
  one version cannot mean two things;
* a newer version replaces the unit and its owners as a whole.

Restrictions change one at a time; each change bumps the unit's
``restriction_seq`` under the unit's row lock, which is what makes a check's
recorded data version (and its lock-free read) meaningful.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from server.domain import clock
from server.domain.units import RestrictionData, UnitData
from server.errors import ApiError, Conflict, NotFound
from server.identity_crypto import IdentityCipher
from server.models import Owner, RegistrationUnit, Restriction
from server.services.houses.state import read_consistent
from server.services.houses.views import registry_unit_view, restriction_view

UNIT_NOT_FOUND = "不动产单元不存在"


@dataclass(frozen=True)
class UpsertResult:
    unit_no: str
    result: str  # created | updated | unchanged | stale_version
    current_version: int

    @property
    def applied(self) -> bool:
        return self.result != "stale_version"

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"unit_no": self.unit_no, "applied": self.applied,
                                "result": self.result, "current_version": self.current_version}
        if not self.applied:
            body["reason"] = self.result
        return body


@dataclass(frozen=True)
class RestrictionResult:
    restriction: dict[str, Any]
    created: bool
    changed: bool
    data_version: str

    def as_dict(self) -> dict[str, Any]:
        return {**self.restriction, "changed": self.changed, "data_version": self.data_version}


class ImportFailed(Exception):
    """One line of an import could not be applied; nothing of the import was kept."""

    def __init__(self, line: int, error: ApiError) -> None:
        super().__init__(f"line {line}: {error.code}")
        self.line = line
        self.error = error


class _Rollback(Exception):
    pass


class UnitRegistry:
    def __init__(self, cipher: IdentityCipher) -> None:
        self.cipher = cipher

    # -- units -------------------------------------------------------------------------

    async def upsert(self, data: UnitData) -> UpsertResult:
        """Apply one push in its own transaction (see the module docstring for ordering)."""
        for attempt in range(2):
            try:
                async with in_transaction():
                    return await self.apply(data)
            except IntegrityError:
                # Two first pushes of one unit raced; the loser sees the winner's row.
                if attempt:
                    raise Conflict("并发写入冲突，请重试", code="concurrent_update") from None
        raise AssertionError("unreachable")

    async def apply(self, data: UnitData) -> UpsertResult:
        """Apply one push inside the caller's transaction (the import runs many in one)."""
        content_hash = self.cipher.keyed_hash(data.canonical().decode(), "unit-content")
        unit = await RegistrationUnit.filter(unit_no=data.unit_no) \
            .select_for_update(no_key=True).first()
        if unit is not None:
            if data.source_version < unit.source_version:
                return UpsertResult(data.unit_no, "stale_version", unit.source_version)
            if data.source_version == unit.source_version:
                if content_hash == unit.content_hash:
                    return UpsertResult(data.unit_no, "unchanged", unit.source_version)
                raise Conflict("同一版本号的数据内容不一致", code="version_conflict",
                               details={"current_version": unit.source_version})
        if await RegistrationUnit.filter(certificate_no=data.certificate_no) \
                .exclude(unit_no=data.unit_no).exists():
            raise Conflict("该不动产权证号已登记在其他不动产单元", code="certificate_no_in_use",
                           details={"fields": {"certificate_no": "已被其他不动产单元使用"}})
        values = {
            "region_code": data.region_code, "house_no": data.house_no,
            "certificate_no": data.certificate_no, "city": data.city,
            "district": data.district, "community": data.community,
            "building": data.building, "unit": data.unit, "room": data.room,
            "floor": data.floor, "total_floors": data.total_floors,
            "building_area": data.building_area, "inner_area": data.inner_area,
            "structure": data.structure, "planned_use": data.planned_use,
            "ownership_kind": data.ownership_kind, "source_version": data.source_version,
            "content_hash": content_hash,
        }
        if unit is None:
            unit = await RegistrationUnit.create(unit_no=data.unit_no, **values)
            result = "created"
        else:
            unit.update_from_dict(values)
            await unit.save()
            await Owner.filter(unit_id=data.unit_no).delete()
            result = "updated"
        await Owner.bulk_create([
            Owner(unit_id=data.unit_no, position=i, name=o.name,
                  id_number_enc=self.cipher.encrypt(o.id_number),
                  id_index=self.cipher.index(o.id_number), share=o.share, kind=o.kind)
            for i, o in enumerate(data.owners)
        ])
        return UpsertResult(data.unit_no, result, data.source_version)

    async def import_units(self, items: Sequence[tuple[int, UnitData]]
                           ) -> list[tuple[int, UpsertResult]]:
        """All lines in one transaction: the first line that fails rolls back every line."""
        results: list[tuple[int, UpsertResult]] = []
        async with in_transaction():
            for line, data in items:
                try:
                    async with in_transaction():  # a savepoint, so a failed line leaves no trace
                        results.append((line, await self.apply(data)))
                except ApiError as exc:
                    raise ImportFailed(line, exc) from None
                except IntegrityError:
                    raise ImportFailed(line, Conflict("数据库约束冲突", code="integrity_error")
                                       ) from None
        return results

    async def registry_view(self, unit_no: str) -> dict[str, Any]:
        state = await read_consistent(unit_no=unit_no)
        if state is None:
            raise NotFound(UNIT_NOT_FOUND)
        lifted = await Restriction.filter(unit_id=unit_no, active=False).order_by("id")
        return registry_unit_view(state, list(lifted), self.cipher)

    # -- restrictions ----------------------------------------------------------------------

    async def _locked_unit(self, unit_no: str) -> RegistrationUnit:
        unit = await RegistrationUnit.filter(unit_no=unit_no) \
            .select_for_update(no_key=True).first()
        if unit is None:
            raise NotFound(UNIT_NOT_FOUND)
        return unit

    async def _bump(self, unit: RegistrationUnit) -> str:
        await RegistrationUnit.filter(unit_no=unit.unit_no).update(
            restriction_seq=F("restriction_seq") + 1, updated_at=clock.now())
        seq = await RegistrationUnit.filter(unit_no=unit.unit_no) \
            .values_list("restriction_seq", flat=True)
        return f"v{unit.source_version}-r{seq[0]}"

    async def put_restriction(self, unit_no: str, restriction_id: str,
                              data: RestrictionData) -> RestrictionResult:
        """Add (or correct the details of) an active restriction; a lifted one stays lifted."""
        beneficiary = (self.cipher.index(data.beneficiary_id_number)
                       if data.beneficiary_id_number else None)
        async with in_transaction():
            unit = await self._locked_unit(unit_no)
            row = await Restriction.get_or_none(unit_id=unit_no, restriction_id=restriction_id)
            if row is None:
                row = await Restriction.create(
                    unit_id=unit_no, restriction_id=restriction_id, kind=data.kind,
                    details=data.details, beneficiary_index=beneficiary,
                    source_time=data.source_time)
                version = await self._bump(unit)
                return RestrictionResult(restriction_view(row), True, True, version)
            if not row.active:
                raise Conflict("该限制已注销，不能再次设立；请使用新的限制编号",
                               code="restriction_lifted")
            if row.kind != data.kind:
                raise Conflict("同一限制编号不能改变限制类型", code="restriction_kind_changed",
                               details={"current_kind": row.kind})
            same = (row.details == data.details and row.beneficiary_index == beneficiary
                    and row.source_time == data.source_time)
            if same:
                version = f"v{unit.source_version}-r{unit.restriction_seq}"
                return RestrictionResult(restriction_view(row), False, False, version)
            row.details = data.details
            row.beneficiary_index = beneficiary
            row.source_time = data.source_time
            await row.save()
            version = await self._bump(unit)
            return RestrictionResult(restriction_view(row), False, True, version)

    async def lift_restriction(self, unit_no: str, restriction_id: str) -> RestrictionResult:
        """Lift (注销): the row stays, inactive, with ``lifted_at``; repeats are no-ops."""
        async with in_transaction():
            unit = await self._locked_unit(unit_no)
            row = await Restriction.get_or_none(unit_id=unit_no, restriction_id=restriction_id)
            if row is None:
                raise NotFound("限制不存在", code="restriction_not_found")
            if not row.active:
                version = f"v{unit.source_version}-r{unit.restriction_seq}"
                return RestrictionResult(restriction_view(row), False, False, version)
            row.active = False
            row.lifted_at = clock.now()
            await row.save(update_fields=["active", "lifted_at", "updated_at"])
            version = await self._bump(unit)
            return RestrictionResult(restriction_view(row), False, True, version)
