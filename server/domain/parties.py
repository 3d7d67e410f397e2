"""Who signs: sellers (every registered owner), buyers (shares summing to 100), an agent."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from server.domain.errors import Problems
from server.domain.identity import (
    id_number_problem,
    name_problem,
    normalize_id_number,
    phone_problem,
)

MAX_PARTIES = 12
ROLES = ("seller", "buyer", "agent")


@dataclass(frozen=True)
class PartyInput:
    role: str
    name: str
    id_number: str
    phone: str
    address: str
    share: Decimal | None


def _share(p: Problems, value: Any, path: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        p.add(path, "份额应为0至100之间的数")
        return None
    try:
        share = Decimal(str(value))
    except InvalidOperation:
        p.add(path, "份额应为0至100之间的数")
        return None
    if not share.is_finite():  # "NaN" and "Infinity" parse, but compare by raising
        p.add(path, "份额应为0至100之间的数")
        return None
    if not Decimal(0) < share <= Decimal(100) or share.as_tuple().exponent < -4:
        p.add(path, "份额应大于0且不超过100，最多四位小数")
        return None
    return share


def _one(p: Problems, raw: Any, role: str, path: str) -> PartyInput | None:
    if not isinstance(raw, dict):
        p.add(path, "必须为对象")
        return None
    before = len(p.fields)
    if (why := name_problem(raw.get("name"))) is not None:
        p.add(f"{path}.name", why)
    if (why := id_number_problem(raw.get("id_number"))) is not None:
        p.add(f"{path}.id_number", why)
    if (why := phone_problem(raw.get("phone"))) is not None:
        p.add(f"{path}.phone", why)
    address = raw.get("address")
    if not isinstance(address, str) or not 4 <= len(address.strip()) <= 120:
        p.add(f"{path}.address", "通讯地址应为4至120个字符")
    share = _share(p, raw.get("share"), f"{path}.share")
    if len(p.fields) > before:
        return None
    return PartyInput(role, raw["name"].strip(), normalize_id_number(raw["id_number"]),
                      raw["phone"], address.strip(), share)


def validate_parties(sellers: Any, buyers: Any, agent: Any = None) -> list[PartyInput]:
    """Form and counts; buyers' shares sum to 100. Owner matching needs the registry (service)."""
    p = Problems()
    out: list[PartyInput] = []
    for role, group, key in (("seller", sellers, "sellers"), ("buyer", buyers, "buyers")):
        if not isinstance(group, list) or not group:
            p.add(key, "至少一人")
            continue
        for i, raw in enumerate(group):
            party = _one(p, raw, role, f"{key}[{i}]")
            if party:
                out.append(party)
    if agent is not None:
        party = _one(p, agent, "agent", "agent")
        if party:
            out.append(PartyInput("agent", party.name, party.id_number, party.phone,
                                  party.address, None))
    if len(out) > MAX_PARTIES:
        p.add("parties", f"签约方不能超过{MAX_PARTIES}人")
    seen: dict[str, str] = {}
    for i, party in enumerate(out):
        if party.id_number in seen:
            p.add(f"{party.role}s" if party.role != "agent" else "agent",
                  f"同一身份证号码不能重复出现（与{seen[party.id_number]}重复）")
        seen[party.id_number] = f"第{i + 1}位签约方"
    buyers_in = [x for x in out if x.role == "buyer"]
    if buyers_in and not p:
        if len(buyers_in) == 1:
            if buyers_in[0].share not in (None, Decimal(100)):
                p.add("buyers[0].share", "只有一位买受人时份额为100")
        else:
            if any(b.share is None for b in buyers_in):
                p.add("buyers", "多位买受人时每人须填写份额")
            elif sum(b.share for b in buyers_in) != Decimal(100):  # type: ignore[misc]
                p.add("buyers", "买受人份额之和应为100")
    p.raise_if_any()
    return out
