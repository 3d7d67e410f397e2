"""The parties' rating of the service (好差评, seed 004): once per party, after filing.

A rating belongs to the party (not the account), so a party rates once whatever
happens; the unique (contract, party) pair makes the database refuse a second
one even when two arrive at once; the statistics' read model counts it in the same
transaction. Ratings are not on the timeline: they are
the party's opinion of the service, not a step of the contract, and the other
parties need not see them; the housing authority sees them only aggregated
(:mod:`server.services.statistics`).
"""

from __future__ import annotations

from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server.domain import clock
from server.errors import Conflict
from server.models import ServiceRating
from server.services import filing_facts
from server.services.contracts.access import visible_contract

_ALREADY = ("您已评价过本次服务", "already_rated")


def rating_view(row: ServiceRating) -> dict[str, Any]:
    return {"contract_id": row.contract_id, "party_id": row.party_id,  # type: ignore[attr-defined]
            "score": row.score, "comment": row.comment,
            "rated_at": clock.rfc3339(row.created_at)}


async def rate(user_id: str, contract_id: str, score: int, comment: str) -> dict[str, Any]:
    """404 for anyone but a party; 409 ``not_filed`` before filing, ``already_rated`` after
    the party's first rating."""
    try:
        async with in_transaction():
            contract, me = await visible_contract(contract_id, user_id, lock=True)
            if contract.filed_at is None:
                raise Conflict("合同备案后才能评价", code="not_filed")
            if await ServiceRating.exists(contract_id=contract.id, party_id=me.id):
                raise Conflict(_ALREADY[0], code=_ALREADY[1])
            row = await ServiceRating.create(contract_id=contract.id, party_id=me.id,
                                             score=score, comment=comment.strip())
            await filing_facts.record_rating(contract.id, score)
    except IntegrityError:
        raise Conflict(_ALREADY[0], code=_ALREADY[1]) from None
    return rating_view(row)
