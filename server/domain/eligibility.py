"""May these sellers sell this house now? The rules of 权属验证 and 限转验证, as pure code.

Given the facts of a unit (who owns it, which restrictions are active, whether
a filed contract or an accepted registration holds it) and the request (the
sellers' and buyers' ID blind indexes, the lender of a transfer with the
mortgage), :func:`evaluate` answers eligible or not, with every refusing
reason. It does no I/O, so the mini-program check, contract drafting and the
filing re-check all apply exactly the same rules.

Privacy rule: if the sellers are not all owners of the unit, or there is no
such unit, the answer is the single reason ``not_owner`` and nothing else,
so a stranger cannot tell an unknown certificate from someone else's house,
nor learn that it is seized or mortgaged.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from server.domain.units import normalize_lender

# The order reasons are listed in: what blocks any transaction first.
REASON_CODES = ("not_owner", "under_filed_contract", "registration_accepted", "seized",
                "objection", "advance_notice", "mortgaged", "co_owner_missing")


@dataclass(frozen=True)
class RestrictionFact:
    """An active restriction, with what the rules need of it."""

    restriction_id: str
    kind: str  # seizure | mortgage | objection | advance_notice
    lender: str | None = None  # mortgage
    beneficiary_index: str | None = None  # advance notice


@dataclass(frozen=True)
class UnitFacts:
    owner_indexes: tuple[str, ...]
    restrictions: tuple[RestrictionFact, ...] = ()  # active ones only
    filed_contract_ids: tuple[str, ...] = ()  # contracts that hold the house as filed
    registration_accepted: bool = False


@dataclass(frozen=True)
class Reason:
    code: str
    message: str
    extra: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.extra}


@dataclass(frozen=True)
class Verdict:
    eligible: bool
    reasons: tuple[Reason, ...]
    # False when the unit's facts must not be shown (not an owner / no such unit).
    owner_visible: bool


NOT_OWNER = Reason("not_owner", "未查询到您名下的该不动产，请核对不动产权证号")


def evaluate(unit: UnitFacts | None, *, seller_indexes: Collection[str],
             buyer_indexes: Collection[str] = (), mortgage_lender: str | None = None,
             contract_id: str | None = None, require_all_owners: bool = False) -> Verdict:
    """Decide; see the module docstring. ``contract_id`` is the contract being checked
    (its own filing does not count against it); ``require_all_owners`` asks that
    every co-owner is among the sellers (contract drafting and filing)."""
    owners = set(unit.owner_indexes) if unit is not None else set()
    sellers = set(seller_indexes)
    if unit is None or not sellers or not sellers <= owners:
        return Verdict(False, (NOT_OWNER,), owner_visible=False)
    reasons: list[Reason] = []
    if any(cid != contract_id for cid in unit.filed_contract_ids):
        reasons.append(Reason("under_filed_contract", "该房屋已有已备案的买卖合同，不能重复签约"))
    if unit.registration_accepted:
        reasons.append(Reason("registration_accepted",
                              "该房屋已受理不动产登记，暂不能办理合同签约备案"))
    by_kind: dict[str, list[RestrictionFact]] = {}
    for r in unit.restrictions:
        by_kind.setdefault(r.kind, []).append(r)
    if by_kind.get("seizure"):
        reasons.append(Reason("seized", "该房屋已被查封，不能交易"))
    if by_kind.get("objection"):
        reasons.append(Reason("objection", "该房屋存在异议登记，不能交易"))
    buyers = set(buyer_indexes)
    notices = [r for r in by_kind.get("advance_notice", []) if r.beneficiary_index not in buyers]
    if notices:
        reasons.append(Reason("advance_notice",
                              "该房屋已办理预告登记，权利人不是本次买受人，不能交易"))
    chosen = normalize_lender(mortgage_lender) if mortgage_lender else None
    uncovered = [r for r in by_kind.get("mortgage", []) if chosen is None or r.lender != chosen]
    if uncovered:
        lenders = sorted({r.lender or "" for r in uncovered})
        named = "、".join(lenders)
        if chosen is None:
            message = f"该房屋已抵押（抵押权人：{named}）；可选择带押过户并注明该抵押权人"
        else:
            message = f"带押过户所注明的抵押权人与登记不符（登记抵押权人：{named}）"
        reasons.append(Reason("mortgaged", message, {"lenders": lenders}))
    if require_all_owners and owners - sellers:
        reasons.append(Reason("co_owner_missing", "全部共有人须作为出卖人参与签约",
                              {"missing_owners": len(owners - sellers)}))
    return Verdict(not reasons, tuple(reasons), owner_visible=True)
