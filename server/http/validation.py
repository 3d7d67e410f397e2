"""Structural validation of requests with the pydantic models of :mod:`server.schemas`.

Everything a request carries (path parameters, query parameters, headers,
the JSON body) is checked for type, length and character class here, before
a service or the database sees it. A refusal is the API's 400 with one
Chinese reason per field path (``sellers[0].share``), all of them at once;
the domain core then applies the business rules to well-formed values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from server.errors import ApiError, InvalidInput
from server.schemas.types import PATTERN_MESSAGES, UNION_MESSAGES

M = TypeVar("M", bound=BaseModel)

_KIND_NAMES = {"int": "整数", "float": "数字", "str": "文本", "bool": "true或false",
               "list": "数组", "dict": "对象", "model": "对象"}


def _path(loc: Iterable[int | str], prefix: str = "") -> str:
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("function-after", "function-before", "function-plain", "constrained-str",
                      "lax-or-strict", "json-or-python") or "[" in str(part):
            continue  # pydantic's internal steps of a union/validator, not a field
        else:
            out = f"{out}.{part}" if out else str(part)
    return out or "body"


# pydantic error type -> the reason a client reads; {placeholders} come from the error's ctx.
_REASONS: dict[str, str] = {
    "missing": "必填",
    **dict.fromkeys(("int_type", "int_parsing", "int_from_float"), "应为整数"),
    **dict.fromkeys(("float_type", "float_parsing", "decimal_type", "decimal_parsing"),
                    "应为数字"),
    "finite_number": "应为有限的数字（不能是 NaN 或 Infinity）",
    "string_type": "应为文本",
    "string_unicode": "不能包含无法编码的字符（孤立代理项）",
    **dict.fromkeys(("bool_type", "bool_parsing"), "应为true或false"),
    **dict.fromkeys(("list_type", "tuple_type"), "应为数组"),
    **dict.fromkeys(("dict_type", "model_type", "model_attributes_type", "dataclass_type"),
                    "应为对象"),
    "string_too_long": "长度不能超过{max_length}个字符",
    "too_short": "至少{min_length}项",
    "too_long": "最多{max_length}项",
    "greater_than_equal": "应不小于{ge}",
    "greater_than": "应大于{gt}",
    "less_than_equal": "应不大于{le}",
    "less_than": "应小于{lt}",
    "extra_forbidden": "未知字段",
    **dict.fromkeys(("union_tag_invalid", "union_tag_not_found"), "类型字段无效"),
}


def reason(error: ErrorDetails) -> str:
    """A Chinese reason for one pydantic error: the kind of value expected, or the limit."""
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind in _REASONS:
        return _REASONS[kind].format(**ctx)
    if kind == "string_too_short":
        least = ctx.get("min_length")
        return "不能为空" if least == 1 else f"长度不能少于{least}个字符"
    if kind == "string_pattern_mismatch":
        return PATTERN_MESSAGES.get(str(ctx.get("pattern")), "格式不正确")
    if kind in ("literal_error", "enum"):
        expected = str(ctx.get("expected", "")).replace("'", "").replace(" or ", ", ")
        return f"可选：{expected}"
    if kind.startswith("date") or kind.startswith("datetime"):
        return "日期格式应为YYYY-MM-DD"
    if kind == "value_error" or kind.startswith("assertion"):
        return str(error.get("msg", "取值无效")).removeprefix("Value error, ")
    # PydanticCustomError raised by our own validators carries a Chinese message.
    return str(error.get("msg") or "取值无效")


def field_reasons(exc: ValidationError, prefix: str = "") -> dict[str, str]:
    """``{"sellers[0].share": "应为数字", ...}``: the first reason for each field path."""
    fields: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        loc = list(error["loc"])
        # A value matching no member of a union reports each member: keep the field path
        # (drop the member names) and say what the field takes as a whole.
        kept = [p for p in loc if not (isinstance(p, str) and (p in _KIND_NAMES
                                                                or p.startswith(("constrained-",
                                                                                 "function-"))))]
        path = _path(kept, prefix)
        leaf = next((p for p in reversed(kept) if isinstance(p, str)), "")
        if len(kept) < len(loc) and leaf in UNION_MESSAGES and error["type"] != "missing":
            fields.setdefault(path, UNION_MESSAGES[leaf])
        else:
            fields.setdefault(path, reason(error))
    return fields


def parse_json(raw: bytes | None, *, optional: bool = False) -> Any:
    """The request body as JSON, or a 400 ``invalid_json`` (never a 500)."""
    if not raw or not raw.strip():
        if optional:
            return {}
        raise ApiError("请求体不能为空", code="invalid_json")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        # orjson also refuses lone surrogates and invalid UTF-8 here.
        raise ApiError("请求体不是有效的 JSON", code="invalid_json") from None
    if not isinstance(data, dict):
        raise ApiError("请求体应为 JSON 对象", code="invalid_json")
    return data


def body_model(model: type[M], raw: bytes | None, *, optional: bool = False) -> M:
    return validate(model, parse_json(raw, optional=optional))


def validate(model: type[M], data: Any, prefix: str = "") -> M:
    try:
        return model.model_validate(data, strict=True)
    except ValidationError as exc:
        fields = field_reasons(exc, prefix)
        # Every problem at once: the domain's rules on the fields that are well-formed.
        rules = getattr(model, "rule_problems", None)
        if rules is not None and isinstance(data, dict):
            fields = {**rules(data), **fields}
        # A model may give one field's refusal its own code (consent -> consent_required).
        for name, (code, message) in getattr(model, "error_codes", {}).items():
            if name in fields:
                raise ApiError(message, code=code, details={"fields": fields}) from None
        raise InvalidInput(fields) from None


def validate_value(adapter: TypeAdapter, name: str, value: Any) -> Any:
    """One path parameter or header: ``name`` is how the client knows it."""
    try:
        return adapter.validate_python(value, strict=True)
    except ValidationError as exc:
        reasons = [reason(e) for e in exc.errors(include_url=False)]
        raise InvalidInput({name: reasons[0] if reasons else "取值无效"}) from None


def query_model(model: type[M], args: Mapping[str, list[str]]) -> M:
    """Query parameters: each given once, as text; the model converts the numbers."""
    data: dict[str, Any] = {}
    problems: dict[str, str] = {}
    # A parameter's name is its field's alias where it has one (``from`` is ``from_``).
    known = {f.alias or name for name, f in model.model_fields.items()}
    for name, values in args.items():
        if name not in known:
            continue  # unknown parameters are ignored, as HTTP caches and proxies add some
        if len(values) > 1:
            problems[name] = "只能出现一次"
        data[name] = values[0]
    if problems:
        raise InvalidInput(problems)
    try:
        # Lax mode: "50" is the number 50 in a query string; the field types keep digits only.
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(field_reasons(exc)) from None
