"""Chinese resident ID numbers (GB 11643-1999), names and phones: validation and masking."""

from __future__ import annotations

import re
from datetime import date

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_ID_RE = re.compile(r"^\d{17}[\dX]$")
_PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
_NAME_RE = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0003134f·]{2,30}$")


def check_digit(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def id_number_problem(value: object) -> str | None:
    """Why ``value`` is not a valid ID number, in Chinese, or None when it is."""
    if not isinstance(value, str):
        return "身份证号码必须为字符串"
    v = value.strip().upper()
    if not _ID_RE.match(v):
        return "身份证号码应为18位，最后一位可为数字或X"
    try:
        date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError:
        return "身份证号码中的出生日期无效"
    if check_digit(v[:17]) != v[17]:
        return "身份证号码校验位错误"
    return None


def normalize_id_number(value: str) -> str:
    return value.strip().upper()


def name_problem(value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return "姓名不能为空"
    if not _NAME_RE.match(value.strip()):
        return "姓名应为2至30个汉字（少数民族姓名可含间隔号·）"
    return None


def phone_problem(value: object) -> str | None:
    if not isinstance(value, str) or not _PHONE_RE.match(value):
        return "手机号码应为11位中国大陆手机号"
    return None


def mask_id_number(value: str) -> str:
    """4201**********1234: the region and the last four, as on public surfaces."""
    if len(value) < 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_name(value: str) -> str:
    """张*三 for three characters, 张* for two, 欧**锋 for longer."""
    if len(value) <= 1:
        return value
    if len(value) == 2:
        return value[0] + "*"
    return value[0] + "*" * (len(value) - 2) + value[-1]


def mask_phone(value: str) -> str:
    return value[:3] + "****" + value[-4:] if len(value) == 11 else "*" * len(value)
