"""A contract's timeline (一号查询): append-only, hash-chained.

Each event's hash covers its content and the hash of the event before, so a
later edit of any stored event breaks the chain from that point on, and
:func:`verify_chain` names the first broken link. Events never carry a plain
ID number or phone: only what the parties may see anyway.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from server.domain import clock
from server.models import ContractEvent

GENESIS = "0" * 64


def event_hash(contract_id: str, seq: int, kind: str, actor: str, data: dict[str, Any],
               created_at: datetime, prev_hash: str) -> str:
    body = {"contract_id": contract_id, "seq": seq, "kind": kind, "actor": actor, "data": data,
            "created_at": created_at.astimezone(clock.UTC).isoformat(timespec="microseconds"),
            "prev_hash": prev_hash}
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


async def append(contract_id: str, kind: str, actor: str, data: dict[str, Any] | None = None
                 ) -> ContractEvent:
    """Add an event. Call inside the transaction that changed the contract, with the
    contract row locked, so appends to one contract are serialised; the unique
    (contract, seq) pair refuses a fork regardless."""
    data = orjson.loads(orjson.dumps(data or {}, default=str))
    last = await ContractEvent.filter(contract_id=contract_id).order_by("-seq").first()
    seq = 1 if last is None else last.seq + 1
    prev = GENESIS if last is None else last.hash
    created = clock.now()
    created = created.replace(microsecond=created.microsecond)
    return await ContractEvent.create(
        contract_id=contract_id, seq=seq, kind=kind, actor=actor, data=data, created_at=created,
        prev_hash=prev, hash=event_hash(contract_id, seq, kind, actor, data, created, prev),
    )


@dataclass(frozen=True)
class ChainReport:
    contract_id: str
    events: int
    ok: bool
    first_broken_seq: int | None = None
    reason: str | None = None


async def verify_chain(contract_id: str) -> ChainReport:
    events = await ContractEvent.filter(contract_id=contract_id).order_by("seq")
    prev = GENESIS
    for expected_seq, ev in enumerate(events, start=1):
        if ev.seq != expected_seq:
            return ChainReport(contract_id, len(events), False, ev.seq, "missing event before")
        if ev.prev_hash != prev:
            return ChainReport(contract_id, len(events), False, ev.seq, "prev_hash mismatch")
        if event_hash(contract_id, ev.seq, ev.kind, ev.actor, ev.data, ev.created_at,
                      ev.prev_hash) != ev.hash:
            return ChainReport(contract_id, len(events), False, ev.seq, "content altered")
        prev = ev.hash
    return ChainReport(contract_id, len(events), True)


def event_view(ev: ContractEvent) -> dict[str, Any]:
    return {"seq": ev.seq, "kind": ev.kind, "actor": ev.actor, "data": ev.data,
            "at": clock.rfc3339(ev.created_at), "hash": ev.hash, "prev_hash": ev.prev_hash}
