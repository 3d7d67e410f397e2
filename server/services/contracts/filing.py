"""Submission is filing (提交即备案): when the last party has signed.

Two steps, each safe to repeat:

1. **Record** (one transaction): lock the house row, re-run the check, draw
   the filing number (region + year + gap-free sequence), mark the house and
   the contract (the unique ``active_unit_no`` makes the database itself
   refuse a second active filing), append the feed entry and the webhook
   outbox rows, and the timeline event. ``filing_state = "sealing"``.
2. **Seal** (CPU pool): the authority's seal signature, validation data and
   the archive timestamp on every document of the sale (one job: all of them
   or none); then ``filing_state = "done"``.

A crash between the two leaves ``sealing``; :func:`resume_pending` (run at
start and periodically) finishes it. A contract whose last signature landed
but whose record step never ran is found the same way. The loser of a race
for one house gets 409 ``house_already_filed`` and keeps its signatures.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server.domain import clock
from server.domain.contract import Status, Step, advance
from server.domain.documents import CONTRACT
from server.errors import Conflict, TimestampServiceDown
from server.models import Contract, Party, RegistrationUnit
from server.services import sequences, timeline
from server.services.contracts.deps import ContractDeps
from server.services.contracts.documents import (
    current_versions,
    put_documents,
    record_documents,
)
from server.services.contracts.hooks import test_hook
from server.services.outbox import announce
from server.services.verification import filed_reports
from server.services.verification_cache import forget_facts

log = logging.getLogger("server.filing")


class FilingRefused(Conflict):
    code = "house_already_filed"
    message = "该房屋已有其他已备案合同，本合同不能备案"


async def record(deps: ContractDeps, contract_id: str) -> bool:
    """Step 1. Returns False if already recorded; raises a 409 if the house refuses.

    Two guards refuse the loser of a race for one house, named in the 409's
    ``details.guard``: ``house_check`` (the re-check under the house's row lock
    finds the winner's filing) and, as the backstop, ``unique_active_unit`` (the
    database's unique ``active_unit_no``).
    """
    await test_hook(deps, "entered", contract_id)
    try:
        async with in_transaction():
            contract = await Contract.filter(id=contract_id).select_for_update().first()
            if contract is None or contract.status != Status.SIGNING.value:
                return False
            if await Party.filter(contract_id=contract.id, signed_at__isnull=True).exists():
                return False
            parties = await Party.filter(contract_id=contract.id)
            lender = (contract.terms.get("mortgage_transfer") or {}).get("lender")
            outcome = await deps.houses.check_house(
                None, contract.certificate_no,
                seller_id_indexes=[p.id_index for p in parties if p.role == "seller"],
                buyer_id_indexes=[p.id_index for p in parties if p.role == "buyer"],
                mortgage_lender=lender, purpose="filing", contract_id=contract.id, lock=True,
                require_all_owners=True)
            if not outcome.eligible:
                # Recorded after this transaction rolls back (see _record_refusal).
                raise _Refused([r["code"] for r in outcome.reasons], outcome.reasons,
                               outcome.check_id, outcome)
            await timeline.append(contract.id, "house_checked", "system",
                                  outcome.timeline_data())
            await test_hook(deps, "checked", contract_id)
            now = clock.now()
            year = now.astimezone(clock.CST).year
            seq = await sequences.next_value(f"filing_no:{contract.region_code}:{year}")
            contract.filing_no = f"{contract.region_code}{year}{seq:06d}"
            contract.status = advance(contract.status, Step.FILE).value
            contract.filed_at = now
            contract.filing_state = "sealing"
            contract.active_unit_no = contract.unit_id  # type: ignore[attr-defined]
            await contract.save(update_fields=["filing_no", "status", "filed_at", "filing_state",
                                               "active_unit_no", "updated_at"])
            await RegistrationUnit.filter(unit_no=contract.unit_id).update(  # type: ignore[attr-defined]
                filed_contract_id=contract.id)
            await announce(contract, "filed")
            await timeline.append(contract.id, "filed", "system",
                                  {"filing_no": contract.filing_no,
                                   "filing_authority": deps.settings.filing_authority_name})
    except _Refused as refused:
        if refused.check is not None:
            # The check's record went with the rolled-back transaction: keep it.
            await deps.houses.ensure_recorded(refused.check)
        await _record_refusal(contract_id, refused, "house_check")
        raise FilingRefused(details={"reasons": refused.reasons, "check_id": refused.check_id,
                                     "guard": "house_check"}) from None
    except IntegrityError:
        # The unique active_unit_no: another filing for this house won the race.
        await _record_refusal(contract_id, _Refused(["under_filed_contract"], [], None, None),
                              "unique_active_unit")
        raise FilingRefused(details={"guard": "unique_active_unit"}) from None
    return True


class _Refused(Exception):
    def __init__(self, codes: list[str], reasons: list[dict], check_id: str | None,
                 check: Any) -> None:
        super().__init__(codes)
        self.codes = codes
        self.reasons = reasons
        self.check_id = check_id
        self.check = check


async def _record_refusal(contract_id: str, refused: _Refused, guard: str) -> None:
    async with in_transaction():
        contract = await Contract.filter(id=contract_id).select_for_update().first()
        if contract is None or contract.filing_state == "refused":
            return
        contract.filing_state = "refused"
        await contract.save(update_fields=["filing_state", "updated_at"])
        if refused.check is not None:
            await timeline.append(contract.id, "house_checked", "system",
                                  refused.check.timeline_data())
        await timeline.append(contract.id, "filing_refused", "system",
                              {"guard": guard, "reasons": refused.reasons or
                               [{"code": c, "message": "该房屋已有其他已备案合同"}
                                for c in refused.codes]})


async def seal(deps: ContractDeps, contract_id: str) -> bool:
    """Step 2: the seal, validation data and archive timestamp. Idempotent."""
    from signing import worker

    lock_key = f"sealing:{contract_id}"
    async with deps.kv.lock(lock_key, ttl=120, wait=60):
        contract = await Contract.get_or_none(id=contract_id)
        if contract is None or contract.filing_state != "sealing":
            return False
        versions = await current_versions(contract.id)
        pdfs = [await deps.files.get(v.sha256) for v in versions.values()]
        filed_on = (contract.filed_at or clock.now()).astimezone(clock.CST).date()
        sealed = await deps.sign_in_pool(worker.file_all, pdfs,
                                         deps.settings.filing_authority_name,
                                         contract.filing_no, filed_on)
        stored = await put_documents(deps, sealed)
        async with in_transaction():
            contract = await Contract.filter(id=contract_id).select_for_update().first()
            if contract is None or contract.filing_state != "sealing":
                return False
            digests = await record_documents(contract, "filed", versions, stored, sealed)
            contract.document_sha256 = digests[CONTRACT]
            contract.filing_state = "done"
            await contract.save(update_fields=["document_sha256", "filing_state", "updated_at"])
            await timeline.append(contract.id, "sealed", "system",
                                  {"document_sha256": digests[CONTRACT], "documents": digests,
                                   "pades_level": "B-LTA"})
    # their public validation reports, off this request (see filed_reports)
    filed_reports.wake()
    return True


def _crash_if(deps: ContractDeps, point: str) -> None:
    """Crash-recovery tests stop the process here (CRASH_POINT; refused in production)."""
    if deps.settings.crash_point == point:
        log.warning("crashing on purpose", extra={"crash_point": point})
        os._exit(70)


async def file_after_last_signature(deps: ContractDeps, contract_id: str) -> None:
    await test_hook(deps, "all_signed", contract_id)
    _crash_if(deps, "before_filing")
    if await record(deps, contract_id):
        _crash_if(deps, "before_sealing")
        await _forget(deps, contract_id)
    # Sealed here even when record() found the filing recorded already: a worker's
    # resume_pending may have recorded it between the last signature's commit and this
    # call, and this request answers "filed", so the seal is done (here, or by the other
    # worker while this one waits for the sealing lock) before it answers. Otherwise the
    # registry's first pull of the PDF met 409 document_sealing.
    try:
        await seal(deps, contract_id)
    except TimestampServiceDown:
        # Filed (the number is drawn, the feed announced it); only the seal waits
        # for the TSA. filing_state stays "sealing" and resume_pending retries.
        log.warning("sealing postponed: no timestamp", extra={"contract_id": contract_id})
    await _forget(deps, contract_id)


async def _forget(deps: ContractDeps, contract_id: str) -> None:
    contract = await Contract.get_or_none(id=contract_id)
    if contract is not None:
        await forget_facts(deps.kv, contract.verify_code)


async def resume_pending(deps: ContractDeps) -> int:
    """Finish filings a crash interrupted; returns how many were advanced."""
    done = 0
    # Every party signed but never recorded (crash right after the last signature).
    for contract in await Contract.filter(status=Status.SIGNING.value, filing_state__isnull=True):
        if not await Party.filter(contract_id=contract.id, signed_at__isnull=True).exists():
            try:
                if await record(deps, contract.id):
                    done += 1
            except FilingRefused:
                log.info("filing refused on resume", extra={"contract_id": contract.id})
    for contract in await Contract.filter(filing_state="sealing"):
        try:
            if await seal(deps, contract.id):
                await _forget(deps, contract.id)
                done += 1
        except Exception:  # noqa: BLE001 - retried on the next round
            log.exception("sealing failed; will retry", extra={"contract_id": contract.id})
    return done
