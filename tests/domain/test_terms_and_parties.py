"""Validation of terms and parties: every problem named by its field path."""

from __future__ import annotations

from datetime import date

import pytest

from server.domain.errors import FieldProblems
from server.domain.identity import check_digit, id_number_problem, mask_id_number, mask_name
from server.domain.parties import validate_parties
from server.domain.terms import validate_terms

TODAY = date(2026, 11, 23)


def make_id(first17: str) -> str:
    return first17 + check_digit(first17)


def good_terms(**over):
    t = {
        "price_fen": 123456700,
        "payment_method": "commercial_loan",
        "payment_schedule": [
            {"due_date": "2026-12-01", "amount_fen": 23456700, "description": "首付款"},
            {"due_date": "2027-01-15", "amount_fen": 100000000, "description": "贷款"},
        ],
        "deposit_fen": 2000000,
        "funds_custody": True,
        "custody_bank": "中国建设银行咸宁分行",
        "delivery_date": "2027-02-01",
        "dispute_resolution": {"method": "arbitration", "institution": "咸宁仲裁委员会"},
    }
    t.update(over)
    return t


def person(name="张三", seq="123", share=None):
    p = {"name": name, "id_number": make_id(f"42120219850312{seq}"), "phone": "13800138000",
         "address": "湖北省咸宁市咸安区温泉路1号"}
    if share is not None:
        p["share"] = share
    return p


def problems(fn, *args):
    with pytest.raises(FieldProblems) as info:
        fn(*args)
    return info.value.fields


def test_good_terms_are_normalised():
    out = validate_terms(good_terms(), TODAY)
    assert out["price_fen"] == 123456700
    assert out["taxes_borne_by"] == "by_law"
    assert out["late_payment_daily_permyriad"] == 5
    assert out["mortgage_transfer"] is None


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"price_fen": 0}, "terms.price_fen"),
        ({"price_fen": "100"}, "terms.price_fen"),
        ({"payment_method": "bitcoin"}, "terms.payment_method"),
        ({"deposit_fen": 30000000}, "terms.deposit_fen"),
        ({"payment_schedule": []}, "terms.payment_schedule"),
        ({"payment_schedule": [{"due_date": "2026-12-01", "amount_fen": 1,
                                "description": "x"}]}, "terms.payment_schedule"),
        ({"payment_schedule": [{"due_date": "2020-01-01", "amount_fen": 123456700,
                                "description": "全款"}]}, "terms.payment_schedule[0].due_date"),
        ({"custody_bank": None}, "terms.custody_bank"),
        ({"delivery_date": "02/01/2027"}, "terms.delivery_date"),
        ({"taxes_borne_by": "nobody"}, "terms.taxes_borne_by"),
        ({"dispute_resolution": {"method": "arbitration", "institution": "咸宁市人民法院"}},
         "terms.dispute_resolution.institution"),
        ({"dispute_resolution": {"method": "duel", "institution": "咸宁仲裁委员会"}},
         "terms.dispute_resolution.method"),
        ({"supplementary_terms": "长" * 2001}, "terms.supplementary_terms"),
        ({"mortgage_transfer": {"lender": "建行"}}, "terms.mortgage_transfer.outstanding_fen"),
        ({"surprise": 1}, "terms.surprise"),
        # Unhashable values where a code is expected (these were 500s once).
        ({"payment_method": ["full"]}, "terms.payment_method"),
        ({"taxes_borne_by": {"a": 1}}, "terms.taxes_borne_by"),
        ({"dispute_resolution": {"method": [], "institution": "咸宁仲裁委员会"}},
         "terms.dispute_resolution.method"),
    ],
)
def test_bad_terms_name_the_field(over, field):
    assert field in problems(validate_terms, good_terms(**over), TODAY)


def test_parties_ok_and_single_buyer_share_is_implicit():
    out = validate_parties([person("张三", "123", 50), person("李四", "456", 50)],
                           [person("王五", "789")])
    assert [p.role for p in out] == ["seller", "seller", "buyer"]


def test_buyer_shares_must_sum_to_100():
    fields = problems(validate_parties, [person("张三", "123")],
                      [person("王五", "789", 60), person("赵六", "012", 30)])
    assert fields == {"buyers": "买受人份额之和应为100"}


def test_party_fields_are_checked_one_by_one():
    bad = {"name": "Bob", "id_number": "421202198503121230", "phone": "123", "address": "x"}
    fields = problems(validate_parties, [bad], [person("王五", "789")])
    assert set(fields) == {"sellers[0].name", "sellers[0].id_number", "sellers[0].phone",
                           "sellers[0].address"}


def test_the_same_person_cannot_appear_twice():
    fields = problems(validate_parties, [person("张三", "123")], [person("张三", "123")])
    assert "buyers" in fields


@pytest.mark.parametrize(
    ("value", "ok"),
    [(make_id("11010519491231002"), True), ("11010519491231002X", True),
     ("110105194912310021", False), (make_id("42120219850230123"), False),
     ("4212021985031212", False), (123, False)],
)
def test_id_numbers(value, ok):
    assert (id_number_problem(value) is None) is ok


def test_masks():
    assert mask_id_number("420102198503121234") == "4201**********1234"
    assert mask_name("张三") == "张*"
    assert mask_name("张小三") == "张*三"
    assert mask_name("欧阳小锋") == "欧**锋"


@pytest.mark.parametrize("kind", [[], {}, ["seizure"], None, 3])
def test_restriction_kind_of_the_wrong_type_is_a_field_problem(kind):
    from server.domain.units import parse_restriction

    assert "kind" in problems(parse_restriction, "r1", {"kind": kind})
