"""Gap-free counters: filing numbers per region and year, contract numbers, feed positions.

The counter row is locked (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite
serialises writers anyway) and incremented inside the caller's transaction:
a rolled-back transaction gives its number back, and two transactions that
draw from the same counter commit in the order they drew.
"""

from __future__ import annotations

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from server.models import SequenceCounter


async def next_value(name: str) -> int:
    """The next number of counter ``name``; call inside the transaction that uses it."""
    for _ in range(3):
        row = await SequenceCounter.filter(name=name).select_for_update().first()
        if row is None:
            try:
                # A savepoint, so losing the creation race does not abort the caller.
                async with in_transaction():
                    await SequenceCounter.create(name=name, value=0)
            except IntegrityError:
                pass
            continue
        await SequenceCounter.filter(name=name).update(value=F("value") + 1)
        return row.value + 1
    raise RuntimeError(f"sequence {name} could not be created")
