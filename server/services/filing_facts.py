"""The statistics' read model (:class:`~server.models.FilingFact`): one narrow row per filed
contract, written by :func:`server.services.outbox.announce` in the transaction that files
or revokes, and by the rating's transaction, so it always agrees with the contracts.

Everything a statistic groups or sums is stored ready to use: the month in China time,
the hours from draft to filing as seconds, the price, the area in hundredths of a square
metre (exact integer sums on both databases), the number and sum of ratings. The
query (:mod:`server.services.statistics`) then reads one index range of one table and
needs no JSON, date arithmetic or time zones in SQL.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from tortoise.expressions import F

from server.domain import clock
from server.models import Contract, FilingFact, RegistrationUnit


def month_of(at: datetime) -> str:
    return at.astimezone(clock.CST).strftime("%Y-%m")


def fact_values(contract_id: str, region_code: str, terms: dict[str, Any], created_at: datetime,
                filed_at: datetime, district: str, building_area: Decimal | float | str,
                revoked_at: datetime | None = None) -> dict[str, Any]:
    """The row of one filing (also the migration's backfill of earlier filings)."""
    return {"contract_id": contract_id, "region_code": region_code, "district": district,
            "filed_at": filed_at, "filed_month": month_of(filed_at),
            "revoked_at": revoked_at,
            "revoked_month": month_of(revoked_at) if revoked_at else None,
            "draft_to_filing_s": int((filed_at - created_at).total_seconds()),
            "price_fen": int(terms["price_fen"]),
            "building_area_dm2": int((Decimal(str(building_area)) * 100).to_integral_value())}


async def record_filing(contract: Contract) -> None:
    unit = await RegistrationUnit.get(unit_no=contract.unit_id)  # type: ignore[attr-defined]
    values = fact_values(contract.id, contract.region_code, contract.terms, contract.created_at,
                         contract.filed_at, unit.district, unit.building_area)
    contract_id = values.pop("contract_id")
    await FilingFact.update_or_create(defaults=values, contract_id=contract_id)


async def record_revocation(contract: Contract) -> None:
    revoked = contract.revoked_at or clock.now()
    await FilingFact.filter(contract_id=contract.id).update(revoked_at=revoked,
                                                            revoked_month=month_of(revoked))


async def record_rating(contract_id: str, score: int) -> None:
    await FilingFact.filter(contract_id=contract_id).update(
        ratings=F("ratings") + 1, rating_sum=F("rating_sum") + score)


async def backfill(contracts: Any = Contract, units: Any = RegistrationUnit,
                   facts: Any = FilingFact) -> int:
    """Write the row of every filing that has none (the migration that creates the table
    runs this over the filings made before it, with its own historical models)."""
    have = set(await facts.all().values_list("contract_id", flat=True))
    written = 0
    for c in await contracts.filter(filed_at__isnull=False).order_by("filed_at"):
        unit = await units.get_or_none(unit_no=c.unit_id)
        if c.id in have or unit is None:
            continue
        await facts.create(**fact_values(c.id, c.region_code, c.terms, c.created_at, c.filed_at,
                                         unit.district, unit.building_area, c.revoked_at))
        written += 1
    return written
