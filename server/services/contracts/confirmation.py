"""Confirmation of an exact version; the last confirmation freezes the contract.

Freezing: re-check the house, give the contract its number, render and
prepare every document of the sale (the contract, the funds-custody agreement
when the terms choose custody, the transaction notice; one CPU-pool job),
record them, and move to ``signing``, all in the last confirmation's
transaction. If anything fails, nothing of it stays (but unreferenced bytes in
the content-addressed store: the documents are written before the transaction).

The rendering is done *before* that transaction, when the confirmation is
about to complete the set (:func:`_render_ahead`), so no transaction waits on
the pool: the embedded database has one connection per worker, held by a
transaction for its whole length, and PostgreSQL would hold the number
counter's row lock meanwhile. The documents print the number, so the number
is drawn first, in a short transaction of its own, and kept by the contract
(:func:`_reserve_number`): a freeze that fails keeps it for the next try, a
cancelled draft keeps it unused, and no number is drawn twice or skipped.
Until the contract is frozen, nobody sees the number (the views show it from
``frozen_at`` on). If the set changed meanwhile (an edit, another
confirmation), the transaction renders again itself, as before.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.transactions import in_transaction

from server.domain import clock
from server.domain.contract import Status, Step, advance, all_confirmed
from server.domain.documents import CONTRACT, kinds_for
from server.domain.errors import RuleRefused
from server.errors import InvalidInput, VersionMismatch
from server.models import Contract, Party, User
from server.services import sequences, timeline
from server.services.contracts.access import bound_user, expire_if_due, visible_contract
from server.services.contracts.deps import ContractDeps
from server.services.contracts.documents import (
    build_documents,
    put_documents,
    record_documents,
)

_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I


def new_verify_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))


@dataclass(frozen=True)
class _Rendered:
    """The sale's prepared documents, rendered for one version under one number."""

    version: int
    contract_no: str
    at: datetime
    pdfs: dict[str, bytes]
    digests: list[str]  # the same, in order, already in the document store


async def confirm(deps: ContractDeps, user_id: str, contract_id: str, version: Any) -> None:
    if isinstance(version, bool) or not isinstance(version, int):
        raise InvalidInput({"version": "必填，应为当前合同版本号"})
    await bound_user(user_id)
    ahead = await _render_ahead(deps, contract_id, user_id, version)
    async with in_transaction():
        contract, me = await visible_contract(contract_id, user_id, lock=True)
        await expire_if_due(contract, deps.settings.draft_ttl_days)
        advance(contract.status, Step.CONFIRM)
        if contract.version != version:
            raise VersionMismatch(details={"current_version": contract.version})
        me.confirmed_version = contract.version
        me.confirmed_hash = contract.content_hash
        me.confirmed_at = clock.now()
        await me.save(update_fields=["confirmed_version", "confirmed_hash", "confirmed_at"])
        await timeline.append(contract.id, "confirmed", me.id,
                              {"version": contract.version, "content_hash": contract.content_hash})
        parties = await Party.filter(contract_id=contract.id)
        joined = all(p.user_id is not None for p in parties)  # type: ignore[attr-defined]
        if joined and all_confirmed([p.confirmed_version for p in parties], contract.version):
            await _freeze(deps, contract, parties, ahead)


async def _render_ahead(deps: ContractDeps, contract_id: str, user_id: str, version: int
                        ) -> _Rendered | None:
    """The documents the freeze will store, rendered now if this confirmation completes
    the set; None otherwise (or if anything is off: the transaction then says what)."""
    contract, me = await visible_contract(contract_id, user_id)
    if contract.status != Status.DRAFT.value or contract.version != version:
        return None
    parties = await Party.filter(contract_id=contract.id)
    if not all(p.user_id is not None for p in parties):  # type: ignore[attr-defined]
        return None
    if not all_confirmed([version if p.id == me.id else p.confirmed_version for p in parties],
                         version):
        return None
    contract = await _reserve_number(contract.id)
    if contract is None or contract.version != version:
        return None
    return await _render(deps, contract)


async def _reserve_number(contract_id: str) -> Contract | None:
    """The contract with its number, verification code and token, drawing them if it has
    none yet (committed at once: the contract keeps them whatever happens next)."""
    async with in_transaction():
        contract = await Contract.filter(id=contract_id).select_for_update().first()
        if contract is None or contract.status != Status.DRAFT.value:
            return None
        if contract.contract_no is None:
            await _draw_number(contract)
            # updated_at stays: the draft's content did not change
            await contract.save(update_fields=["contract_no", "verify_code", "verify_token"])
        return contract


async def _draw_number(contract: Contract) -> None:
    """The next contract number of the region and day, a verification code and token (on
    the instance; the caller's transaction saves them)."""
    day = clock.now().astimezone(clock.CST).strftime("%Y%m%d")
    seq = await sequences.next_value(f"contract_no:{contract.region_code}:{day}")
    contract.contract_no = f"WQ{contract.region_code}{day}{seq:05d}"
    contract.verify_code = new_verify_code()
    contract.verify_token = secrets.token_urlsafe(24)


async def _render(deps: ContractDeps, contract: Contract) -> _Rendered:
    from signing.freeze import render_and_prepare_all

    at = clock.now()
    contract.frozen_at = at  # the documents' date (not saved here)
    try:
        docs = await build_documents(deps, contract, kinds_for(contract.terms), draft=False)
    finally:
        contract.frozen_at = None
    pdfs = await deps.sign_in_pool(render_and_prepare_all, docs, deps.fonts_dirs())
    digests = await put_documents(deps, list(pdfs.values()))
    assert contract.contract_no is not None
    return _Rendered(contract.version, contract.contract_no, at, pdfs, digests)


async def _freeze(deps: ContractDeps, contract: Contract, parties: list[Party],
                  ahead: _Rendered | None) -> None:
    seller = next(p for p in parties if p.role == "seller")
    seller_user = await User.get(id=seller.user_id)  # type: ignore[attr-defined]
    lender = (contract.terms.get("mortgage_transfer") or {}).get("lender")
    outcome = await deps.houses.check_house(
        seller_user.id, contract.certificate_no,
        seller_id_indexes=[p.id_index for p in parties if p.role == "seller"],
        buyer_id_indexes=[p.id_index for p in parties if p.role == "buyer"],
        mortgage_lender=lender, purpose="freeze", contract_id=contract.id,
        require_all_owners=True)
    await timeline.append(contract.id, "house_checked", "system", outcome.timeline_data())
    if not outcome.eligible:
        raise RuleRefused("该房屋当前不能签约", code="house_not_eligible",
                          details={"check_id": outcome.check_id, "reasons": outcome.reasons})
    if contract.contract_no is None:
        # Nobody rendered ahead (the set completed by a race): draw the number here.
        await _draw_number(contract)
    if ahead is None or (ahead.version, ahead.contract_no) != (contract.version,
                                                               contract.contract_no):
        ahead = await _render(deps, contract)
    contract.frozen_at = ahead.at
    contract.status = advance(contract.status, Step.FREEZE).value
    stored = await record_documents(contract, "prepared", ahead.pdfs, ahead.digests,
                                    list(ahead.pdfs.values()))
    contract.document_sha256 = stored[CONTRACT]
    contract.expires_at = None
    await contract.save(update_fields=["contract_no", "verify_code", "verify_token", "frozen_at",
                                       "status", "document_sha256", "expires_at", "updated_at"])
    await timeline.append(contract.id, "frozen", "system",
                          {"contract_no": contract.contract_no, "version": contract.version,
                           "content_hash": contract.content_hash,
                           "document_sha256": contract.document_sha256,
                           "documents": stored})
    assert contract.status == Status.SIGNING.value
