"""Invitations: single-use share tokens bound to the invitee's ID number, expiring.

Only the hash of a token is stored. Accepting needs a bound identity whose
blind index equals the invited party's: a forwarded link is useless to
anyone else. In a buyer-initiated draft, the first seller to join runs the
house check; only then does the house become visible to the buyer.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from tortoise.transactions import in_transaction

from server.domain import clock
from server.domain.contract import Step, advance
from server.errors import Conflict, Forbidden, InvalidInput, NotFound
from server.models import Contract, Invitation, Party
from server.services import timeline
from server.services.contracts.access import bound_user, expire_if_due, visible_contract
from server.services.contracts.deps import ContractDeps


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def party_id_problem(party_id: Any) -> None:
    if not isinstance(party_id, str) or not 1 <= len(party_id) <= 16:
        raise InvalidInput({"party_id": "必填：合同中签约方的 party_id"})


async def invite(deps: ContractDeps, user_id: str, contract_id: str, party_id: Any
                 ) -> dict[str, Any]:
    party_id_problem(party_id)
    async with in_transaction():
        contract, me = await visible_contract(contract_id, user_id, lock=True)
        return await issue(deps, contract, party_id, created_by_id=user_id, actor=me.id)


async def issue(deps: ContractDeps, contract: Contract, party_id: str, *, created_by_id: str,
                actor: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """A new invitation of ``party_id`` to ``contract`` (locked by the caller, in its
    transaction), on the timeline as ``actor``'s (with ``extra`` data)."""
    await expire_if_due(contract, deps.settings.draft_ttl_days)
    advance(contract.status, Step.INVITE)
    party = await Party.get_or_none(id=party_id, contract_id=contract.id)
    if party is None:
        raise InvalidInput({"party_id": "该合同中没有此签约方"})
    if party.user_id is not None:  # type: ignore[attr-defined]
        raise Conflict("该签约方已加入合同", code="party_already_joined")
    token = secrets.token_urlsafe(24)
    expires = clock.now() + timedelta(seconds=deps.settings.invitation_ttl_s)
    await Invitation.create(token_hash=_hash(token), contract=contract, party=party,
                            created_by_id=created_by_id, expires_at=expires)
    await timeline.append(contract.id, "invited", actor, {"party_id": party.id,
                                                          "role": party.role, **(extra or {})})
    return {"token": token, "expires_at": clock.rfc3339(expires),
            "share_path": f"/pages/contract/accept?token={token}",
            "party_id": party.id}


async def accept(deps: ContractDeps, user_id: str, token: str) -> str:
    user = await bound_user(user_id)
    async with in_transaction():
        inv = await Invitation.filter(token_hash=_hash(token)).select_for_update().first()
        if inv is None:
            raise NotFound("邀请不存在或已失效", code="invitation_not_found")
        if inv.used_at is not None:
            raise Conflict("该邀请已被使用", code="invitation_used")
        if inv.expires_at <= clock.now():
            raise Conflict("该邀请已过期，请让对方重新邀请", code="invitation_expired")
        contract = await Contract.filter(id=inv.contract_id).select_for_update().first()  # type: ignore[attr-defined]
        assert contract is not None
        await expire_if_due(contract, deps.settings.draft_ttl_days)
        advance(contract.status, Step.INVITE)
        party = await Party.get(id=inv.party_id)  # type: ignore[attr-defined]
        if party.id_index != user.id_index or party.name != user.real_name:
            raise Forbidden("您的实名身份与被邀请人不一致", code="invitee_mismatch")
        if await Party.filter(contract_id=contract.id, user_id=user.id).exists():
            raise Conflict("您已是该合同的签约方", code="already_a_party")
        if party.role == "seller" and contract.unit_id is None:  # type: ignore[attr-defined]
            await _link_house(deps, contract, user)
        party.user = user
        await party.save(update_fields=["user_id"])
        inv.used_at = clock.now()
        inv.used_by = user
        await inv.save(update_fields=["used_at", "used_by_id"])
        await timeline.append(contract.id, "joined", party.id, {"role": party.role})
    return contract.id


async def _link_house(deps: ContractDeps, contract: Contract, seller) -> None:
    """A buyer-initiated draft meets its house when the first seller joins."""
    from server.domain.contract import content_hash
    from server.services.contracts.drafting import _registered_sellers, _rows_of, content_of

    parties = await Party.filter(contract_id=contract.id).order_by("position")
    rows = _rows_of(deps, parties)
    lender = (contract.terms.get("mortgage_transfer") or {}).get("lender")
    before = [r["share"] for r in rows]
    outcome, unit = await _registered_sellers(deps, seller, contract.certificate_no, rows,
                                              lender, contract.id, "join")
    contract.unit = unit
    contract.region_code = unit.region_code
    fields = ["unit_id", "region_code", "updated_at"]
    if before != [r["share"] for r in rows]:
        # The registry's shares replace what the buyer typed: a new version to confirm.
        for r, p in zip(rows, parties, strict=True):
            p.share = r["share"]
            p.confirmed_version = p.confirmed_hash = p.confirmed_at = None
            await p.save(update_fields=["share", "confirmed_version", "confirmed_hash",
                                        "confirmed_at"])
        contract.version += 1
        contract.content_hash = content_hash(content_of(
            {"kind": contract.kind, "certificate_no": contract.certificate_no,
             "terms": contract.terms}, rows))
        fields += ["version", "content_hash"]
    await contract.save(update_fields=fields)
    await timeline.append(contract.id, "house_checked", "system", outcome.timeline_data())
