"""What a registration office may tell us about a unit and its restrictions: parsed or refused.

The registry pushes (``PUT /registry/v1/units/...``) and the ``import-units``
command share these parsers, so a line of an import file is accepted exactly
when the same JSON would be accepted over HTTP. Every problem names its field
path (``owners[1].id_number``) so the office can fix its export.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from server.domain.errors import FieldProblems, Problems
from server.domain.identity import (
    id_number_problem,
    mask_name,
    name_problem,
    normalize_id_number,
)

UNIT_NO_LENGTH = 28
_UNIT_NO_RE = re.compile(r"^[0-9A-Z]{28}$")
_REGION_RE = re.compile(r"^\d{6}$")
_RESTRICTION_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
# GB/T 2260 province-level prefixes: a region code outside them is a typo.
_PROVINCES = frozenset(
    [11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
     50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82])

STRUCTURES: dict[int, str] = {1: "钢", 2: "钢和钢筋混凝土", 3: "钢筋混凝土", 4: "混合",
                              5: "砖木", 6: "其他"}
OWNERSHIP_KINDS: dict[str, str] = {"sole": "单独所有", "joint": "共同共有",
                                   "by_share": "按份共有"}
_KIND_ALIASES = {v: k for k, v in OWNERSHIP_KINDS.items()}
RESTRICTION_KINDS: dict[str, str] = {"seizure": "查封", "mortgage": "抵押",
                                     "objection": "异议", "advance_notice": "预告登记"}
MAX_OWNERS = 20
_AREA_LIMIT = Decimal("100000000")
_HUNDRED = Decimal(100)
_SHARE_ROUNDING = Decimal("0.0001")


def region_code_problem(value: object) -> str | None:
    """Why ``value`` is not a county-level administrative code (GB/T 2260), or None."""
    if not isinstance(value, str) or not _REGION_RE.match(value):
        return "行政区划代码应为6位数字"
    if int(value[:2]) not in _PROVINCES or value[2:] == "0000":
        return "不是有效的县级行政区划代码"
    return None


def unit_no_problem(value: object) -> str | None:
    """Why ``value`` is not a 28-character unit number with a region prefix, or None."""
    if not isinstance(value, str) or len(value) != UNIT_NO_LENGTH:
        return f"不动产单元号应为{UNIT_NO_LENGTH}位"
    if not _UNIT_NO_RE.match(value):
        return "不动产单元号只能包含数字和大写字母"
    if region_code_problem(value[:6]):
        return "不动产单元号前六位应为县级行政区划代码"
    return None


def restriction_id_problem(value: object) -> str | None:
    if not isinstance(value, str) or not _RESTRICTION_ID_RE.match(value):
        return "限制编号应为1至64位字母、数字或 . _ : -"
    return None


def normalize_certificate_no(value: str) -> str:
    """One spelling per certificate: full-width brackets and spaces are typed both ways."""
    return (value.replace("（", "(").replace("）", ")").replace("\u3000", "")
            .replace(" ", "").strip())


def normalize_lender(value: str) -> str:
    """Lender names compared loosely: spacing and bracket width do not make another bank."""
    return normalize_certificate_no(value)


@dataclass(frozen=True)
class OwnerData:
    name: str
    id_number: str
    share: Decimal | None
    kind: str


@dataclass(frozen=True)
class UnitData:
    """A validated unit push; ``source_version`` orders pushes of the same unit."""

    unit_no: str
    certificate_no: str
    house_no: str
    city: str
    district: str
    community: str
    building: str
    unit: str
    room: str
    floor: str
    total_floors: str
    building_area: Decimal
    inner_area: Decimal
    structure: int
    planned_use: str
    ownership_kind: str
    owners: tuple[OwnerData, ...]
    source_version: int

    @property
    def region_code(self) -> str:
        return self.unit_no[:6]

    def canonical(self) -> bytes:
        """Stable bytes of the content, to tell a repeat from a different push."""
        return orjson.dumps(asdict(self), default=str, option=orjson.OPT_SORT_KEYS)


@dataclass(frozen=True)
class RestrictionData:
    kind: str
    details: dict[str, Any]
    beneficiary_id_number: str | None
    source_time: datetime | None


def _text(problems: Problems, data: Mapping[str, Any], key: str, path: str, max_len: int,
          *, required: bool = True) -> str:
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            problems.add(path, "必填")
        return ""
    if not isinstance(value, str):
        problems.add(path, "应为字符串")
        return ""
    value = value.strip()
    if len(value) > max_len:
        problems.add(path, f"长度不能超过{max_len}")
    elif any(ord(c) < 0x20 for c in value):
        problems.add(path, "不能包含控制字符")
    return value


def _decimal(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _places(number: Decimal) -> int:
    exponent = number.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _area(problems: Problems, data: Mapping[str, Any], key: str) -> Decimal:
    number = _decimal(data.get(key))
    if data.get(key) is None:
        problems.add(key, "必填")
    elif number is None:
        problems.add(key, "应为数字（平方米）")
    elif number <= 0:
        problems.add(key, "面积必须大于0")
    elif number >= _AREA_LIMIT or _places(number) > 2:
        problems.add(key, "面积最多两位小数且小于1亿平方米")
    else:
        return number.quantize(Decimal("0.01"))
    return Decimal(0)


def _kind(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value if value in OWNERSHIP_KINDS else _KIND_ALIASES.get(value)


def _owner(problems: Problems, raw: object, path: str) -> OwnerData | None:
    if not isinstance(raw, Mapping):
        problems.add(path, "应为对象")
        return None
    name = raw.get("name")
    if (reason := name_problem(name)) is not None:
        problems.add(f"{path}.name", reason)
    id_number = raw.get("id_number")
    if (reason := id_number_problem(id_number)) is not None:
        problems.add(f"{path}.id_number", reason)
    kind = _kind(raw.get("kind"))
    if kind is None:
        problems.add(f"{path}.kind", "共有方式应为 sole、joint 或 by_share")
    share: Decimal | None = None
    if raw.get("share") is not None:
        share = _decimal(raw.get("share"))
        if share is None:
            problems.add(f"{path}.share", "份额应为数字（百分比）")
        elif not Decimal(0) < share <= _HUNDRED or _places(share) > 4:
            problems.add(f"{path}.share", "份额应大于0、不超过100，最多四位小数")
            share = None
    if problems.fields.keys() & {f"{path}.name", f"{path}.id_number", f"{path}.kind"}:
        return None
    assert isinstance(name, str) and isinstance(id_number, str) and kind is not None
    return OwnerData(name.strip(), normalize_id_number(id_number), share, kind)


def _owners(problems: Problems, raw: object) -> tuple[tuple[OwnerData, ...], str]:
    """The owners, and the unit's ownership kind; shares checked against the kind."""
    if not isinstance(raw, list) or not raw:
        problems.add("owners", "至少需要一位权利人")
        return (), ""
    if len(raw) > MAX_OWNERS:
        problems.add("owners", f"权利人不能超过{MAX_OWNERS}位")
        return (), ""
    parsed = [_owner(problems, item, f"owners[{i}]") for i, item in enumerate(raw)]
    owners = [o for o in parsed if o is not None]
    if len(owners) != len(parsed):
        return (), ""
    kind = owners[0].kind
    for i, owner in enumerate(owners):
        if owner.kind != kind:
            problems.add(f"owners[{i}].kind", "同一不动产单元的共有方式应一致")
    seen: set[str] = set()
    for i, owner in enumerate(owners):
        if owner.id_number in seen:
            problems.add(f"owners[{i}].id_number", "权利人重复")
        seen.add(owner.id_number)
    if problems:
        return (), ""
    if kind == "sole":
        if len(owners) != 1:
            problems.add("owners", "单独所有只能有一位权利人")
        elif owners[0].share not in (None, _HUNDRED):
            problems.add("owners[0].share", "单独所有的份额应为100或不填")
        owners = [OwnerData(owners[0].name, owners[0].id_number, _HUNDRED, "sole")]
    elif kind == "joint":
        if len(owners) < 2:
            problems.add("owners", "共同共有至少需要两位共有人")
        for i, owner in enumerate(owners):
            if owner.share is not None:
                problems.add(f"owners[{i}].share", "共同共有不分份额，请不填")
    else:
        if len(owners) < 2:
            problems.add("owners", "按份共有至少需要两位共有人")
        for i, owner in enumerate(owners):
            if owner.share is None:
                problems.add(f"owners[{i}].share", "按份共有须填写份额")
        # Shares like 1/3 arrive rounded to four places: allow that rounding, no more.
        slack = _SHARE_ROUNDING * len(owners)
        if not problems and abs(sum(o.share or Decimal(0) for o in owners) - _HUNDRED) > slack:
            problems.add("owners", "按份共有的份额之和应为100")
    return tuple(owners), kind


def _source_version(problems: Problems, value: object) -> int:
    if value is None:
        problems.add("source_version", "必填")
    elif isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
        problems.add("source_version", "应为非负整数")
    else:
        return value
    return 0


def parse_unit(unit_no: str, payload: Mapping[str, Any], *,
               region_code: str | None = None) -> UnitData:
    """Validate a unit push; raise :class:`FieldProblems` naming every bad field.

    ``region_code``, when given, is the jurisdiction the unit must lie in
    (the import command's ``--region``; over HTTP a foreign region is a 404
    before this is called).
    """
    problems = Problems()
    if (reason := unit_no_problem(unit_no)) is not None:
        problems.add("unit_no", reason)
    elif region_code is not None and unit_no[:6] != region_code:
        problems.add("unit_no", f"不动产单元号前六位应为本辖区代码{region_code}")
    if payload.get("unit_no") not in (None, unit_no):
        problems.add("unit_no", "请求体中的不动产单元号与路径不一致")
    certificate_no = normalize_certificate_no(
        _text(problems, payload, "certificate_no", "certificate_no", 64))
    house_no = _text(problems, payload, "house_no", "house_no", 64)
    location = payload.get("location")
    if not isinstance(location, Mapping):
        problems.add("location", "应为对象（city, district, community, building, unit, room）")
    loc = {
        key: _text(problems, location, key, f"location.{key}", limit,
                   required=key in ("city", "district", "community", "building", "room"))
        if isinstance(location, Mapping) else ""
        for key, limit in (("city", 32), ("district", 32), ("community", 64),
                           ("building", 32), ("unit", 32), ("room", 32), ("floor", 16),
                           ("total_floors", 16))
    }
    building_area = _area(problems, payload, "building_area")
    inner_area = _area(problems, payload, "inner_area")
    if ("building_area" not in problems.fields and "inner_area" not in problems.fields
            and inner_area > building_area):
        problems.add("inner_area", "套内面积不能大于建筑面积")
    structure = payload.get("structure")
    if isinstance(structure, bool) or not isinstance(structure, int) \
            or structure not in STRUCTURES:
        problems.add("structure", "房屋结构代码应为1至6的整数")
        structure = 0
    planned_use = _text(problems, payload, "planned_use", "planned_use", 32)
    owners, kind = _owners(problems, payload.get("owners"))
    source_version = _source_version(problems, payload.get("source_version"))
    problems.raise_if_any()
    return UnitData(
        unit_no=unit_no, certificate_no=certificate_no, house_no=house_no,
        building_area=building_area, inner_area=inner_area, structure=structure,
        planned_use=planned_use, ownership_kind=kind, owners=owners,
        source_version=source_version, **loc,
    )


def _timestamp(problems: Problems, value: object, path: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed
    problems.add(path, "应为带时区的 RFC 3339 时间，如 2024-05-01T09:30:00+08:00")
    return None


def parse_restriction(restriction_id: str, payload: Mapping[str, Any]) -> RestrictionData:
    """Validate a restriction push. Mortgages name a lender and an amount in fen;
    an advance notice names its beneficiary (whose ID number is only kept as an index)."""
    problems = Problems()
    if (reason := restriction_id_problem(restriction_id)) is not None:
        problems.add("restriction_id", reason)
    kind = payload.get("kind")
    if not isinstance(kind, str) or kind not in RESTRICTION_KINDS:
        problems.add("kind", "限制类型应为 seizure、mortgage、objection 或 advance_notice")
        problems.raise_if_any()
    details: dict[str, Any] = {}
    beneficiary: str | None = None
    if kind == "mortgage":
        details["lender"] = normalize_lender(_text(problems, payload, "lender", "lender", 128))
        amount = payload.get("amount_fen")
        if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount < 2**63:
            problems.add("amount_fen", "抵押金额应为正整数（分）")
        else:
            details["amount_fen"] = amount
    elif kind == "seizure":
        for key, limit in (("authority", 128), ("case_no", 64)):
            if value := _text(problems, payload, key, key, limit, required=False):
                details[key] = value
    elif kind == "advance_notice":
        holder = payload.get("beneficiary")
        if not isinstance(holder, Mapping):
            problems.add("beneficiary", "预告登记须注明权利人（name, id_number）")
        else:
            if (reason := id_number_problem(holder.get("id_number"))) is not None:
                problems.add("beneficiary.id_number", reason)
            else:
                beneficiary = normalize_id_number(str(holder["id_number"]))
            holder_name = holder.get("name")
            if holder_name is not None:
                if (reason := name_problem(holder_name)) is not None:
                    problems.add("beneficiary.name", reason)
                else:
                    details["beneficiary_name_masked"] = mask_name(str(holder_name).strip())
    if note := _text(problems, payload, "note", "note", 200, required=False):
        details["note"] = note
    source_time = _timestamp(problems, payload.get("source_time"), "source_time")
    problems.raise_if_any()
    return RestrictionData(kind=str(kind), details=details,
                           beneficiary_id_number=beneficiary, source_time=source_time)


__all__ = [
    "FieldProblems", "OWNERSHIP_KINDS", "OwnerData", "RESTRICTION_KINDS", "RestrictionData",
    "STRUCTURES", "UnitData", "normalize_certificate_no", "normalize_lender", "parse_restriction",
    "parse_unit", "region_code_problem", "restriction_id_problem", "unit_no_problem",
]
