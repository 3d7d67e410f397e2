"""The house check (权属验证 + 限转验证), recorded every time, for every caller.

Other services use :class:`HouseChecks` (on ``app.ctx.houses``):

* the mini-program's ``POST /properties/check``: ``check_house(user_id, cert)``;
* contract drafting: ``check_house(user_id, cert, seller_id_index=..., or
  seller_id_indexes=[...],
  buyer_id_indexes=[...], mortgage_lender=..., purpose="draft",
  contract_id=..., require_all_owners=True)``;
* the filing step, inside its own transaction, with the unit row locked until
  that transaction ends: ``async with in_transaction(): outcome = await
  check_house(..., purpose="filing", lock=True)``; then, still in the
  transaction, set ``RegistrationUnit.filed_contract_id``. A restriction
  arriving meanwhile waits for the lock, so it lands after the filing.
* the contract's parties and text: ``unit, owners = await load_unit(cert)``.

Every call writes a :class:`~server.models.PropertyCheck`. With ``lock=True``
it is written in the caller's transaction; if that transaction then rolls back
(e.g. the filing raises because the check refused), call
``await houses.ensure_recorded(outcome)`` afterwards to keep the record.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from tortoise import connections
from tortoise.backends.base.client import TransactionalDBClient
from tortoise.transactions import in_transaction

from server.domain import clock
from server.domain.eligibility import Verdict, evaluate
from server.domain.units import normalize_certificate_no, normalize_lender
from server.errors import Forbidden
from server.identity_crypto import IdentityCipher
from server.models import Owner, PropertyCheck, RegistrationUnit, User
from server.services.houses.state import UnitState, read_consistent, read_locked
from server.services.houses.views import owner_unit_view

IDENTITY_NOT_BOUND = "identity_not_bound"


@dataclass(frozen=True)
class CheckOutcome:
    """The answer of one recorded check. ``unit`` is None unless the sellers own the house."""

    check_id: str
    eligible: bool
    reasons: list[dict[str, Any]]  # [{code, message, ...}], JSON-ready
    unit: dict[str, Any] | None
    unit_no: str | None
    data_version: str | None
    checked_at: datetime
    purpose: str
    record: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def reason_codes(self) -> list[str]:
        return [r["code"] for r in self.reasons]

    def as_dict(self) -> dict[str, Any]:
        """The mini-program's answer."""
        return {"check_id": self.check_id, "eligible": self.eligible,
                "reasons": self.reasons, "unit": self.unit,
                "data_version": self.data_version, "purpose": self.purpose,
                "checked_at": clock.rfc3339(self.checked_at)}

    def timeline_data(self) -> dict[str, Any]:
        """What a contract timeline keeps of the check (no unit details, no identities)."""
        return {"check_id": self.check_id, "purpose": self.purpose, "eligible": self.eligible,
                "reasons": self.reasons, "data_version": self.data_version,
                "checked_at": clock.rfc3339(self.checked_at)}


@dataclass(frozen=True)
class OwnerRecord:
    """A registered owner in the clear, for the contract's seller list (never log it)."""

    name: str
    id_number: str
    id_index: str
    share: Decimal | None
    kind: str


def _in_transaction() -> bool:
    return isinstance(connections.get("default"), TransactionalDBClient)


class HouseChecks:
    def __init__(self, cipher: IdentityCipher) -> None:
        self.cipher = cipher

    async def bound_index(self, user_id: str) -> str:
        """The caller's identity blind index; 403 ``identity_not_bound`` if none is bound."""
        user = await User.get_or_none(id=user_id)
        if user is None or not user.id_index or user.identity_bound_at is None:
            raise Forbidden("请先完成实名认证（人脸核身）", code=IDENTITY_NOT_BOUND)
        return user.id_index

    async def check_house(
        self, user_id: str | None, certificate_no: str, *,
        seller_id_index: str | None = None,
        seller_id_indexes: Collection[str] | None = None,
        buyer_id_indexes: Collection[str] = (),
        mortgage_lender: str | None = None,
        purpose: str = "check",
        contract_id: str | None = None,
        require_all_owners: bool = False,
        lock: bool = False,
    ) -> CheckOutcome:
        """Check and record. The sellers default to the caller's bound identity.

        Raises ``Forbidden(code="identity_not_bound")`` when no seller is given and
        the caller has no bound identity; ``RuntimeError`` for ``lock=True``
        outside a transaction (a programming error: the lock would end at once).
        """
        sellers = list(seller_id_indexes or ())
        if seller_id_index:
            sellers.append(seller_id_index)
        if not sellers:
            if user_id is None:
                raise ValueError("check_house needs user_id or seller id indexes")
            sellers = [await self.bound_index(user_id)]
        cert = normalize_certificate_no(certificate_no)
        lender = normalize_lender(mortgage_lender) if mortgage_lender else None
        inputs = {"certificate_no": cert, "mortgage_lender": lender,
                  "seller_id_indexes": sorted(set(sellers)),
                  "buyer_id_indexes": sorted(set(buyer_id_indexes)),
                  "require_all_owners": require_all_owners}
        if lock:
            if not _in_transaction():
                raise RuntimeError("check_house(lock=True) must run inside in_transaction()")
            async with in_transaction():
                state = await read_locked(cert)
                return await self._decide_and_record(state, user_id, inputs, purpose,
                                                     contract_id, sellers)
        state = await read_consistent(cert)
        return await self._decide_and_record(state, user_id, inputs, purpose, contract_id,
                                             sellers)

    def _verdict(self, state: UnitState | None, inputs: dict[str, Any],
                 contract_id: str | None) -> Verdict:
        return evaluate(
            state.facts() if state else None,
            seller_indexes=inputs["seller_id_indexes"],
            buyer_indexes=inputs["buyer_id_indexes"],
            mortgage_lender=inputs["mortgage_lender"], contract_id=contract_id,
            require_all_owners=inputs["require_all_owners"])

    async def _decide_and_record(self, state: UnitState | None, user_id: str | None,
                                 inputs: dict[str, Any], purpose: str,
                                 contract_id: str | None, sellers: list[str]) -> CheckOutcome:
        verdict = self._verdict(state, inputs, contract_id)
        values = dict(
            id=secrets.token_hex(12), user_id=user_id, purpose=purpose[:32],
            certificate_no=inputs["certificate_no"],
            unit_no=state.unit.unit_no if state else None, inputs=inputs,
            eligible=verdict.eligible, reasons=[r.as_dict() for r in verdict.reasons],
            data_version=state.data_version if state else "none",
            snapshot=state.snapshot() if state else {}, contract_id=contract_id,
            created_at=clock.now())
        record = await PropertyCheck.create(**values)
        visible = state is not None and verdict.owner_visible
        return CheckOutcome(
            check_id=record.id, eligible=verdict.eligible,
            reasons=[r.as_dict() for r in verdict.reasons],
            unit=owner_unit_view(state, self.cipher, sellers) if visible and state else None,
            unit_no=state.unit.unit_no if visible and state else None,
            data_version=state.data_version if visible and state else None,
            checked_at=record.created_at, purpose=purpose, record=values)

    async def ensure_recorded(self, outcome: CheckOutcome) -> None:
        """Write the outcome's record again if a rolled-back transaction took it along."""
        if outcome.record and not await PropertyCheck.exists(id=outcome.check_id):
            await PropertyCheck.create(**outcome.record)

    async def preview(self, certificate_no: str, seller_id_indexes: Collection[str], *,
                      buyer_id_indexes: Collection[str] = (),
                      mortgage_lender: str | None = None) -> Verdict:
        """The verdict without a record, for operator tooling (``seed-demo``'s summary).

        Not for users: a user's check must go through :meth:`check_house`.
        """
        inputs = {"certificate_no": normalize_certificate_no(certificate_no),
                  "seller_id_indexes": list(seller_id_indexes),
                  "buyer_id_indexes": list(buyer_id_indexes),
                  "mortgage_lender": mortgage_lender, "require_all_owners": False}
        state = await read_consistent(inputs["certificate_no"])
        return self._verdict(state, inputs, None)

    async def load_unit(self, certificate_no: str, *, lock: bool = False
                        ) -> tuple[RegistrationUnit | None, list[OwnerRecord]]:
        """``(unit row, owners decrypted)`` for the contract's text and parties;
        ``(None, [])`` for an unknown certificate.

        ``lock=True`` (inside the caller's transaction) locks the unit row like the
        check. Callers decide who may see it: run :meth:`check_house` first.
        """
        cert = normalize_certificate_no(certificate_no)
        if lock:
            if not _in_transaction():
                raise RuntimeError("load_unit(lock=True) must run inside in_transaction()")
            state = await read_locked(cert)
        else:
            state = await read_consistent(cert)
        if state is None:
            return None, []
        return state.unit, [
            OwnerRecord(o.name, self.cipher.decrypt(o.id_number_enc), o.id_index, o.share,
                        o.kind) for o in state.owners]

    async def owned_by(self, user_id: str) -> list[dict[str, Any]]:
        """The houses the caller's bound identity owns, as the owner sees them."""
        index = await self.bound_index(user_id)
        unit_nos = await Owner.filter(id_index=index).order_by("unit_id") \
            .values_list("unit_id", flat=True)
        views = []
        for unit_no in dict.fromkeys(unit_nos):
            state = await read_consistent(unit_no=str(unit_no))
            if state is not None and index in {o.id_index for o in state.owners}:
                views.append(owner_unit_view(state, self.cipher, [index]))
        return views

    async def checks_for_contract(self, contract_id: str) -> list[dict[str, Any]]:
        """The recorded checks of one contract, oldest first, for its timeline."""
        rows = await PropertyCheck.filter(contract_id=contract_id).order_by("created_at", "id")
        return [{"check_id": r.id, "purpose": r.purpose, "eligible": r.eligible,
                 "reasons": r.reasons, "data_version": r.data_version,
                 "checked_at": clock.rfc3339(r.created_at)} for r in rows]
