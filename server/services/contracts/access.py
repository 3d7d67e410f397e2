"""Who may see and act on a contract: its parties, and nobody else (404 for anyone else)."""

from __future__ import annotations

from datetime import timedelta

from server.domain import clock
from server.domain.contract import Status, Step, advance
from server.errors import Conflict, Forbidden, NotFound
from server.models import Contract, Party, User
from server.services import timeline


async def bound_user(user_id: str) -> User:
    """The caller, who must have bound a real identity to create, confirm or sign."""
    user = await User.get_or_none(id=user_id)
    if user is None:
        raise NotFound()
    if user.identity_bound_at is None or not user.id_index:
        raise Forbidden("请先完成实名认证（人脸核身）", code="identity_not_bound")
    return user


async def my_party(contract_id: str, user_id: str) -> Party | None:
    return await Party.filter(contract_id=contract_id, user_id=user_id).first()


async def visible_contract(contract_id: str, user_id: str, *, lock: bool = False
                           ) -> tuple[Contract, Party]:
    """The contract and the caller's party; 404 when the caller is not a party."""
    if not isinstance(contract_id, str) or len(contract_id) > 32:
        raise NotFound()
    if not lock:
        # one query: every contract endpoint starts here
        party = await Party.filter(contract_id=contract_id, user_id=user_id
                                   ).select_related("contract").first()
        if party is None:
            raise NotFound()
        return party.contract, party
    # PostgreSQL locks no row on the nullable side of the join select_related makes
    party = await my_party(contract_id, user_id)
    if party is None:
        raise NotFound()
    contract = await Contract.filter(id=contract_id).select_for_update().first()
    if contract is None:
        raise NotFound()
    return contract, party


def ensure_can_sign(contract: Contract, me: Party) -> None:
    """409 unless ``me`` may sign ``contract`` now (signing, not yet signed, not filing)."""
    advance(contract.status, Step.SIGN)
    if me.signed_at is not None:
        raise Conflict("您已签署该合同", code="already_signed")
    if contract.filing_state is not None:
        raise Conflict("合同正在备案", code="filing_in_progress")


def ensure_can_confirm_revocation(contract: Contract, me: Party) -> None:
    """409 unless ``me`` may confirm the revocation of ``contract`` now."""
    advance(contract.status, Step.REVOKE)
    if contract.revocation_requested_at is None:
        raise Conflict("请先提出注销申请", code="revocation_not_requested")
    if me.revocation_confirmed_at is not None:
        raise Conflict("您已确认注销", code="revocation_already_confirmed")


async def face_step_gate(user_id: str, contract_id: str, purpose: str) -> None:
    """Before a ``sign``/``revoke`` face verification is started (a billable provider
    call): the caller is a party (404 otherwise) and the contract is at that step (409)."""
    contract, me = await visible_contract(contract_id, user_id)
    if purpose == "sign":
        ensure_can_sign(contract, me)
    else:
        ensure_can_confirm_revocation(contract, me)


async def expire_if_due(contract: Contract, draft_ttl_days: int) -> bool:
    """Drafts left too long end as cancelled; call with the row locked."""
    if contract.status != Status.DRAFT.value:
        return False
    created = contract.created_at
    expires = contract.expires_at or created + timedelta(days=draft_ttl_days)
    if expires > clock.now():
        return False
    contract.status = advance(contract.status, Step.EXPIRE).value
    contract.cancelled_at = clock.now()
    await contract.save(update_fields=["status", "cancelled_at", "updated_at"])
    await timeline.append(contract.id, "expired", "system", {"reason": "draft_expired"})
    return True
