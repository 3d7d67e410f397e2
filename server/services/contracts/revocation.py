"""Revocation (注销): every party agrees, each with a fresh ``revoke`` face verification.

Refused once the registration office has accepted the transfer. Revoking
releases the house (the unique ``active_unit_no`` is cleared in the same
transaction), and is announced on the feed and the webhooks like a filing.
A change (变更) is a revocation plus a new contract that names the old one in
``replaces``.
"""

from __future__ import annotations

from typing import Any

from tortoise.transactions import in_transaction

from server.domain import clock
from server.domain.contract import Step, advance
from server.errors import Conflict, InvalidInput
from server.models import Party, RegistrationUnit
from server.services import timeline
from server.services.contracts.access import (
    bound_user,
    ensure_can_confirm_revocation,
    visible_contract,
)
from server.services.contracts.deps import ContractDeps
from server.services.outbox import announce
from server.services.verification_cache import forget_facts


async def request(deps: ContractDeps, user_id: str, contract_id: str, payload: dict[str, Any]
                  ) -> None:
    await bound_user(user_id)
    reason = payload.get("reason", "")
    if not isinstance(reason, str) or len(reason) > 200:
        raise InvalidInput({"reason": "注销原因不超过200字"})
    async with in_transaction():
        contract, me = await visible_contract(contract_id, user_id, lock=True)
        advance(contract.status, Step.REQUEST_REVOCATION)
        if contract.filing_state != "done":
            raise Conflict("备案尚未完成，请稍后再试", code="filing_in_progress")
        if contract.revocation_requested_at is not None:
            raise Conflict("已有注销申请在进行中", code="revocation_already_requested")
        contract.revocation_requested_at = clock.now()
        await contract.save(update_fields=["revocation_requested_at", "updated_at"])
        await Party.filter(contract_id=contract.id).update(revocation_confirmed_at=None)
        await timeline.append(contract.id, "revocation_requested", me.id, {"reason": reason})


async def confirm(deps: ContractDeps, user_id: str, contract_id: str, payload: dict[str, Any]
                  ) -> bool:
    """This party agrees; returns True when that made the contract revoked."""
    await bound_user(user_id)
    fv_id = payload.get("face_verification_id")
    if not isinstance(fv_id, str) or not fv_id:
        raise InvalidInput({"face_verification_id": "必填：本次注销的人脸核身编号"})
    async with in_transaction():
        contract, me = await visible_contract(contract_id, user_id, lock=True)
        ensure_can_confirm_revocation(contract, me)
        fv = await deps.face.consume(user_id, fv_id, "revoke", contract.id,
                                     f"revocation:{contract.id}:{me.id}")
        me.revocation_confirmed_at = clock.now()
        await me.save(update_fields=["revocation_confirmed_at"])
        await timeline.append(contract.id, "revocation_confirmed", me.id,
                              {"face_verification_id": fv.id, "provider": fv.provider})
        if await Party.filter(contract_id=contract.id,
                              revocation_confirmed_at__isnull=True).exists():
            return False
        contract.status = advance(contract.status, Step.REVOKE).value
        contract.revoked_at = clock.now()
        contract.active_unit_no = None
        await contract.save(update_fields=["status", "revoked_at", "active_unit_no",
                                           "updated_at"])
        await RegistrationUnit.filter(filed_contract_id=contract.id).update(
            filed_contract_id=None)
        await announce(contract, "revoked")
        await timeline.append(contract.id, "revoked", "system",
                              {"filing_no": contract.filing_no})
    await forget_facts(deps.kv, contract.verify_code)
    return True
