"""The Chinese reasons the models give, field by field (no server needed)."""

from __future__ import annotations

import pytest

from server.errors import ApiError, InvalidInput
from server.http.validation import query_model, validate
from server.schemas.miniapp import ConfirmBody, ContractEditBody, FaceStartBody, LoginBody
from server.schemas.registry import FeedQuery, RestrictionBody


def reasons(model, data) -> dict[str, str]:
    with pytest.raises(InvalidInput) as err:
        validate(model, data)
    return err.value.fields


def test_kinds_and_limits():
    assert reasons(ConfirmBody, {"version": "1"}) == {"version": "应为整数"}
    assert reasons(ConfirmBody, {"version": 1.0}) == {"version": "应为整数"}
    assert reasons(ConfirmBody, {"version": True}) == {"version": "应为整数"}
    assert reasons(ConfirmBody, {"version": 0}) == {"version": "应不小于1"}
    assert reasons(ConfirmBody, {"version": 2**63}) == {"version": "应不大于9223372036854775807"}
    assert reasons(ConfirmBody, {}) == {"version": "必填"}
    assert reasons(LoginBody, {"provider": 5, "code": "x" * 513}) == {
        "provider": "应为文本", "code": "长度不能超过512个字符"}
    assert reasons(LoginBody, {"provider": "", "code": "a\x00"}) == {
        "provider": "不能为空", "code": "不能包含控制字符"}
    assert reasons(LoginBody, {"provider": "sandbox", "code": "\ud800"}) == {
        "code": "不能包含无法编码的字符（孤立代理项）"}
    assert reasons(RestrictionBody, {"kind": "lien"}) == {
        "kind": "可选：seizure, mortgage, objection, advance_notice"}


def test_nested_paths_and_unknown_fields():
    got = reasons(ContractEditBody, {"terms": {"price_fen": 1, "payment_method": "full",
                                               "payment_schedule": [{"amount_fen": "1"}],
                                               "delivery_date": "2031-01-01",
                                               "dispute_resolution": {"method": "court"},
                                               "colour": "red"},
                                     "buyers": [{"share": "NaN"}], "id": "x"})
    assert got["terms.payment_schedule[0].amount_fen"] == "应为整数"
    assert got["terms.payment_schedule[0].due_date"] == "必填"
    assert got["terms.dispute_resolution.institution"] == "必填"
    assert got["terms.colour"] == "未知字段"
    assert got["id"] == "未知字段"
    assert got["buyers[0].share"].startswith("份额应为")


def test_a_field_with_its_own_code():
    with pytest.raises(ApiError) as err:
        validate(FaceStartBody, {"purpose": "sign", "consent": "yes"})
    assert err.value.code == "consent_required"
    assert "consent" in err.value.details["fields"]


def test_query_parameters():
    assert query_model(FeedQuery, {"cursor": ["12"], "limit": ["5"]}).cursor == "12"
    for bad in ("²", "1_0", " 5", "-1", str(2**63)):
        with pytest.raises(InvalidInput) as err:
            query_model(FeedQuery, {"cursor": [bad]})
        assert set(err.value.fields) == {"cursor"}, bad
    with pytest.raises(InvalidInput) as err:
        query_model(FeedQuery, {"cursor": ["1", "2"]})
    assert err.value.fields == {"cursor": "只能出现一次"}
