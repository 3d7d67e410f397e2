"""Confirmation of an exact version; the last confirmation freezes the contract.

Freezing happens in one transaction: re-check the house, draw the contract
number, render and prepare every document of the sale (the contract, the
funds-custody agreement when the terms choose custody, the transaction notice;
one CPU-pool job), store them, and move to ``signing``. If anything fails,
nothing of it stays (the number goes back).
"""

from __future__ import annotations

import secrets
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
from server.services.contracts.documents import build_documents, store_document

_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I


def new_verify_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))


async def confirm(deps: ContractDeps, user_id: str, contract_id: str, version: Any) -> None:
    if isinstance(version, bool) or not isinstance(version, int):
        raise InvalidInput({"version": "必填，应为当前合同版本号"})
    await bound_user(user_id)
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
            await _freeze(deps, contract, parties)


async def _freeze(deps: ContractDeps, contract: Contract, parties: list[Party]) -> None:
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
    now = clock.now()
    day = now.astimezone(clock.CST).strftime("%Y%m%d")
    seq = await sequences.next_value(f"contract_no:{contract.region_code}:{day}")
    contract.contract_no = f"WQ{contract.region_code}{day}{seq:05d}"
    contract.verify_code = new_verify_code()
    contract.verify_token = secrets.token_urlsafe(24)
    contract.frozen_at = now
    contract.status = advance(contract.status, Step.FREEZE).value
    from signing.freeze import render_and_prepare_all

    docs = await build_documents(deps, contract, kinds_for(contract.terms), draft=False)
    pdfs = await deps.sign_in_pool(render_and_prepare_all, docs, deps.fonts_dirs())
    stored = {kind: await store_document(deps, contract, "prepared", pdfs[kind], kind)
              for kind, _ in docs}
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
