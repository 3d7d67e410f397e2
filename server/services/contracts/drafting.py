"""Drafting: create (seller- or buyer-initiated), edit with If-Match, cancel.

A seller-initiated draft starts from a passing house check, and its sellers
must be exactly the registered owners. A buyer-initiated draft names the
certificate and the sellers, but the buyer learns nothing about the house:
the draft links to the house only when a seller joins (see invitations).
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from decimal import Decimal
from typing import Any

from tortoise.transactions import in_transaction

from server.domain import clock
from server.domain.contract import Status, Step, advance, content_hash
from server.domain.errors import FieldProblems, Problems, RuleRefused
from server.domain.parties import PartyInput, validate_parties
from server.domain.terms import texts_of, validate_terms
from server.errors import ApiError, VersionMismatch
from server.models import Contract, Party, User
from server.services import timeline
from server.services.contracts.access import bound_user, expire_if_due, visible_contract
from server.services.contracts.deps import ContractDeps


def new_contract_id() -> str:
    return secrets.token_hex(8)


def new_party_id() -> str:
    return "p" + secrets.token_hex(5)


def check_renderable(deps: ContractDeps, parties: list[PartyInput], terms: dict[str, Any]
                     ) -> None:
    """Refuse text the contract font cannot print, at input, never as an empty box."""
    p = Problems()
    texts: dict[str, str] = dict(texts_of(terms))
    groups: dict[str, int] = {}
    for party in parties:
        key = f"{party.role}s" if party.role != "agent" else "agent"
        i = groups.get(key, 0)
        groups[key] = i + 1
        prefix = key if key == "agent" else f"{key}[{i}]"
        texts[f"{prefix}.name"] = party.name
        texts[f"{prefix}.address"] = party.address
    for path, text in texts.items():
        missing = deps.fonts.missing_glyphs(text)
        if missing:
            p.add(path, f"含有合同字体无法显示的字符：{''.join(missing)}（请联系窗口办理）")
    p.raise_if_any()


def content_of(contract_fields: dict[str, Any], parties: list[dict[str, Any]]) -> dict[str, Any]:
    """What the parties agree to, as hashed: the terms and who is who."""
    return {
        "kind": contract_fields["kind"],
        "certificate_no": contract_fields["certificate_no"],
        "terms": contract_fields["terms"],
        "parties": [{k: p[k] for k in ("role", "name", "id_index", "phone_index", "address",
                                       "share")} for p in parties],
    }


def _party_rows(deps: ContractDeps, parties: list[PartyInput]) -> list[dict[str, Any]]:
    cipher = deps.cipher
    rows = []
    for i, party in enumerate(parties):
        rows.append({
            "position": i,
            "role": party.role,
            "name": party.name,
            "id_index": cipher.index(party.id_number),
            "id_number": party.id_number,
            "phone": party.phone,
            "phone_index": cipher.keyed_hash(party.phone, "phone"),
            "address": party.address,
            "share": str(party.share) if party.share is not None else None,
        })
    return rows


async def _registered_sellers(deps: ContractDeps, user: User, certificate_no: str,
                              rows: list[dict[str, Any]], mortgage_lender: str | None,
                              contract_id: str | None, purpose: str, *,
                              all_sellers: bool = False):
    """Check the house as this seller and align the sellers with the registered owners.

    ``all_sellers``: check with every seller of ``rows`` instead (a draft at a service
    point, where ``user`` is the staff member's account, no seller).
    """
    sellers = [r["id_index"] for r in rows if r["role"] == "seller"]
    outcome = await deps.houses.check_house(
        user.id, certificate_no,
        seller_id_index=None if all_sellers else user.id_index,
        seller_id_indexes=sellers if all_sellers else None,
        buyer_id_indexes=[r["id_index"] for r in rows if r["role"] == "buyer"],
        mortgage_lender=mortgage_lender, purpose=purpose, contract_id=contract_id,
        require_all_owners=all_sellers)
    if not outcome.eligible:
        raise RuleRefused("该房屋当前不能签约", code="house_not_eligible",
                          details={"check_id": outcome.check_id, "reasons": outcome.reasons})
    unit, owners = await deps.houses.load_unit(certificate_no)
    owner_index = {o.id_index: o for o in owners}
    seller_index = set(sellers)
    if seller_index != set(owner_index):
        raise RuleRefused("出卖人应为该房屋的全部登记权利人（含共有人）", code="sellers_mismatch",
                          details={"registered_owners": len(owner_index),
                                   "missing": len(set(owner_index) - seller_index),
                                   "not_owners": len(seller_index - set(owner_index))})
    for r in rows:
        if r["role"] == "seller":
            # The registry's share is the truth, whatever was typed.
            r["share"] = str(owner_index[r["id_index"]].share)
    return outcome, unit


def parse_draft(deps: ContractDeps, payload: dict[str, Any], *, with_role: bool = True
                ) -> tuple[str, str | None, list[PartyInput], dict[str, Any]]:
    """``(certificate_no, initiator_role, parties, terms)`` of a new draft, every problem
    of every field at once; ``with_role``: the body names the initiator's side."""
    p = Problems()
    if payload.get("kind", "resale") != "resale":
        p.add("kind", "目前仅支持 resale（存量房买卖）")
    certificate_no = payload.get("certificate_no")
    if not isinstance(certificate_no, str) or not 4 <= len(certificate_no.strip()) <= 64:
        p.add("certificate_no", "请填写不动产权证号")
    role = payload.get("initiator_role") if with_role else None
    if with_role and role not in ("seller", "buyer"):
        p.add("initiator_role", "可选：seller, buyer")
    problems: dict[str, str] = dict(p.fields)
    parties: list[PartyInput] = []
    terms: dict[str, Any] = {}
    for step in (lambda: validate_parties(payload.get("sellers"), payload.get("buyers"),
                                          payload.get("agent")),
                 lambda: validate_terms(payload.get("terms"), clock.now().astimezone(
                     clock.CST).date())):
        try:
            result = step()
        except FieldProblems as exc:
            problems.update(exc.fields)
            continue
        if isinstance(result, list):
            parties = result
        else:
            terms = result
    if problems:
        raise FieldProblems(problems)
    check_renderable(deps, parties, terms)
    return certificate_no.strip(), role, parties, terms


async def create(deps: ContractDeps, user_id: str, payload: dict[str, Any]) -> str:
    user = await bound_user(user_id)
    certificate_no, role, parties, terms = parse_draft(deps, payload)
    rows = _party_rows(deps, parties)
    mine = [r for r in rows if r["role"] == role and r["id_index"] == user.id_index]
    if not mine:
        raise RuleRefused("发起人本人应为所选角色的签约方之一", code="initiator_not_party")
    if mine[0]["name"] != user.real_name:
        raise FieldProblems({f"{role}s[{_group_index(rows, mine[0])}].name":
                             "与您实名认证的姓名不一致"})
    replaces = await _replaced_contract(user, payload.get("replaces"), certificate_no)
    contract_id = new_contract_id()
    outcome = unit = None
    if role == "seller":
        lender = (terms.get("mortgage_transfer") or {}).get("lender")
        outcome, unit = await _registered_sellers(deps, user, certificate_no, rows, lender,
                                                  contract_id, "draft")
    async with in_transaction():
        contract = await insert_draft(deps, contract_id, user, role, certificate_no, unit, terms,
                                      rows, replaces=replaces)
        my_id = await _store_parties(deps, contract, rows, keep={}, me=(user, mine[0]))
        await timeline.append(contract.id, "created", my_id,
                              {"initiator_role": role, "version": 1,
                               "content_hash": contract.content_hash, "replaces": replaces})
        if outcome is not None:
            await timeline.append(contract.id, "house_checked", "system",
                                  outcome.timeline_data())
    return contract_id


async def insert_draft(deps: ContractDeps, contract_id: str, initiator: User,
                       initiator_role: str, certificate_no: str, unit: Any,
                       terms: dict[str, Any], rows: list[dict[str, Any]], **extra: Any
                       ) -> Contract:
    """The new draft's row (version 1, its content hash, its expiry); parties apart."""
    fields = {"kind": "resale", "certificate_no": certificate_no, "terms": terms}
    return await Contract.create(
        id=contract_id, status=Status.DRAFT.value, version=1,
        content_hash=content_hash(content_of(fields, rows)), initiator=initiator,
        initiator_role=initiator_role, certificate_no=certificate_no, unit=unit,
        region_code=unit.region_code if unit else "", terms=terms,
        expires_at=clock.now() + timedelta(days=deps.settings.draft_ttl_days), **extra)


def _group_index(rows: list[dict[str, Any]], row: dict[str, Any]) -> int:
    return [r for r in rows if r["role"] == row["role"]].index(row)


async def _replaced_contract(user: User, replaces: Any, certificate_no: str) -> str | None:
    """A change (变更): the new contract names the revoked one it replaces."""
    if replaces is None:
        return None
    if not isinstance(replaces, str) or not 1 <= len(replaces) <= 32:
        raise FieldProblems({"replaces": "应为被变更合同的编号"})
    from server.models import Contract as ContractModel

    old = await ContractModel.get_or_none(id=replaces)
    if old is None or not await Party.filter(contract_id=replaces, user_id=user.id).exists():
        raise FieldProblems({"replaces": "找不到该合同"})
    if old.status != Status.REVOKED.value:
        raise RuleRefused("变更须先注销原合同", code="original_not_revoked")
    if old.certificate_no != certificate_no:
        raise FieldProblems({"certificate_no": "变更后的合同应为同一房屋"})
    return replaces


async def _store_parties(deps: ContractDeps, contract: Contract, rows: list[dict[str, Any]],
                         keep: dict[str, Party], me: tuple[User, dict] | None = None) -> str:
    """Write the party rows; a party whose ID stays keeps its id and joined user."""
    my_id = ""
    for r in rows:
        old = keep.get(r["id_index"] + r["role"])
        party = await Party.create(
            id=old.id if old else new_party_id(), contract=contract, position=r["position"],
            role=r["role"], name=r["name"], id_number_enc=deps.cipher.encrypt(r["id_number"]),
            id_index=r["id_index"], phone_enc=deps.cipher.encrypt(r["phone"], "phone"),
            address=r["address"], share=Decimal(r["share"]) if r["share"] else None,
            user_id=old.user_id if old else None,  # type: ignore[attr-defined]
        )
        if me is not None and r is me[1]:
            party.user = me[0]
            await party.save(update_fields=["user_id"])
            my_id = party.id
    return my_id


def parse_if_match(header: str | None) -> int:
    if header is None:
        raise ApiError("修改合同须携带 If-Match: <version>", code="if_match_required",
                       status=428)
    value = header.strip().strip('"').removeprefix("W/").strip('"')
    # isdigit() alone admits "²"; a version is at most a signed 64-bit integer.
    if not (value.isascii() and value.isdigit() and len(value) <= 19):
        raise ApiError("If-Match 应为合同版本号", code="invalid_if_match")
    return int(value)


async def edit(deps: ContractDeps, user_id: str, contract_id: str, if_match: str | None,
               payload: dict[str, Any]) -> None:
    """Replace terms and/or parties; bumps the version and clears every confirmation."""
    expected = parse_if_match(if_match)
    user = await bound_user(user_id)
    allowed_keys = {"terms", "sellers", "buyers", "agent"}
    unknown = [k for k in payload if k not in allowed_keys]
    if unknown:
        raise FieldProblems({k: "不能修改此字段" for k in unknown})
    if not payload:
        raise FieldProblems({"body": "没有要修改的内容"})
    async with in_transaction():
        contract, me = await visible_contract(contract_id, user_id, lock=True)
        await expire_if_due(contract, deps.settings.draft_ttl_days)
        advance(contract.status, Step.EDIT)
        if contract.version != expected:
            raise VersionMismatch(details={"current_version": contract.version})
        parties = await Party.filter(contract_id=contract.id).order_by("position")
        terms = contract.terms
        if "terms" in payload:
            terms = validate_terms(payload["terms"], clock.now().astimezone(clock.CST).date())
        rows: list[dict[str, Any]]
        if {"sellers", "buyers", "agent"} & set(payload):
            current = _current_inputs(deps, parties)
            sellers = payload.get("sellers", current["sellers"])
            buyers = payload.get("buyers", current["buyers"])
            agent = payload.get("agent", current["agent"])
            inputs = validate_parties(sellers, buyers, agent)
            check_renderable(deps, inputs, terms)
            rows = _party_rows(deps, inputs)
            if not any(r["id_index"] == user.id_index for r in rows):
                raise RuleRefused("不能把自己从合同中移除", code="cannot_remove_self")
            if contract.unit_id is not None:  # type: ignore[attr-defined]
                lender = (terms.get("mortgage_transfer") or {}).get("lender")
                outcome, _ = await _registered_sellers(
                    deps, user if me.role == "seller" else await _a_joined_seller(parties),
                    contract.certificate_no, rows, lender, contract.id, "edit")
                await timeline.append(contract.id, "house_checked", "system",
                                      outcome.timeline_data())
            keep = {p.id_index + p.role: p for p in parties}
            await Party.filter(contract_id=contract.id).delete()
            await _store_parties(deps, contract, rows, keep)
        else:
            check_renderable(deps, [], terms)
            rows = _rows_of(deps, parties)
        contract.terms = terms
        contract.version += 1
        contract.content_hash = content_hash(content_of(
            {"kind": contract.kind, "certificate_no": contract.certificate_no, "terms": terms},
            rows))
        await contract.save(update_fields=["terms", "version", "content_hash", "updated_at"])
        await Party.filter(contract_id=contract.id).update(
            confirmed_version=None, confirmed_hash=None, confirmed_at=None)
        await timeline.append(contract.id, "edited", me.id,
                              {"version": contract.version, "content_hash": contract.content_hash,
                               "changed": sorted(payload), "confirmations_cleared": True})


async def _a_joined_seller(parties: list[Party]) -> User:
    for p in parties:
        if p.role == "seller" and p.user_id is not None:  # type: ignore[attr-defined]
            return await User.get(id=p.user_id)  # type: ignore[attr-defined]
    raise RuleRefused("出卖人尚未加入合同", code="seller_not_joined")


def _rows_of(deps: ContractDeps, parties: list[Party]) -> list[dict[str, Any]]:
    rows = []
    for p in parties:
        phone = deps.cipher.decrypt(p.phone_enc, "phone")
        rows.append({"position": p.position, "role": p.role, "name": p.name,
                     "id_index": p.id_index, "phone_index": deps.cipher.keyed_hash(phone, "phone"),
                     "address": p.address,
                     "share": str(p.share) if p.share is not None else None})
    return rows


def _current_inputs(deps: ContractDeps, parties: list[Party]) -> dict[str, Any]:
    out: dict[str, Any] = {"sellers": [], "buyers": [], "agent": None}
    for p in parties:
        raw = {"name": p.name, "id_number": deps.cipher.decrypt(p.id_number_enc),
               "phone": deps.cipher.decrypt(p.phone_enc, "phone"), "address": p.address,
               "share": str(p.share) if p.share is not None else None}
        if p.role == "agent":
            out["agent"] = raw
        else:
            out[f"{p.role}s"].append(raw)
    return out


async def cancel(deps: ContractDeps, user_id: str, contract_id: str) -> None:
    """The initiator may cancel before filing."""
    async with in_transaction():
        contract, me = await visible_contract(contract_id, user_id, lock=True)
        if contract.initiator_id != user_id:  # type: ignore[attr-defined]
            raise ApiError("只有发起人可以撤销合同", code="not_initiator", status=403)
        contract.status = advance(contract.status, Step.CANCEL).value
        contract.cancelled_at = clock.now()
        await contract.save(update_fields=["status", "cancelled_at", "updated_at"])
        await timeline.append(contract.id, "cancelled", me.id, {"reason": "initiator"})
