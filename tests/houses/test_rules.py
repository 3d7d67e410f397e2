"""The pure rules: eligibility reasons, unit/restriction validation, secret hashing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from server.domain.eligibility import RestrictionFact, UnitFacts, evaluate
from server.domain.errors import FieldProblems
from server.domain.units import parse_restriction, parse_unit
from server.services.registry_clients import hash_secret, verify_secret
from tests.flows import make_id_number

SELLER, CO_OWNER, BUYER, STRANGER = "idx-seller", "idx-co", "idx-buyer", "idx-stranger"


def facts(**kw: Any) -> UnitFacts:
    return UnitFacts(owner_indexes=kw.pop("owners", (SELLER, CO_OWNER)), **kw)


def codes(unit: UnitFacts | None, **kw: Any) -> list[str]:
    kw.setdefault("seller_indexes", [SELLER])
    return [r.code for r in evaluate(unit, **kw).reasons]


def test_owner_of_a_free_house_is_eligible():
    verdict = evaluate(facts(), seller_indexes=[SELLER])
    assert verdict.eligible and verdict.reasons == () and verdict.owner_visible


def test_not_owner_hides_everything_else():
    seized = facts(restrictions=(RestrictionFact("c1", "seizure"),), registration_accepted=True)
    for unit in (seized, None):
        verdict = evaluate(unit, seller_indexes=[STRANGER])
        assert not verdict.eligible and not verdict.owner_visible
        assert [r.code for r in verdict.reasons] == ["not_owner"]
    # a seller set with one stranger is not the owners either
    assert codes(facts(), seller_indexes=[SELLER, STRANGER]) == ["not_owner"]
    assert codes(facts(), seller_indexes=[]) == ["not_owner"]


@pytest.mark.parametrize(("kind", "code"), [("seizure", "seized"), ("objection", "objection"),
                                            ("advance_notice", "advance_notice"),
                                            ("mortgage", "mortgaged")])
def test_each_restriction_refuses_with_its_code(kind, code):
    r = RestrictionFact("r1", kind, lender="中国建设银行咸宁分行", beneficiary_index=BUYER)
    assert codes(facts(restrictions=(r,))) == [code]


def test_filed_contract_and_accepted_registration_refuse():
    assert codes(facts(filed_contract_ids=("c-1",))) == ["under_filed_contract"]
    # the contract being filed does not count against itself
    assert codes(facts(filed_contract_ids=("c-1",)), contract_id="c-1") == []
    assert codes(facts(registration_accepted=True)) == ["registration_accepted"]


def test_mortgage_transfer_needs_the_registered_lender():
    unit = facts(restrictions=(RestrictionFact("m1", "mortgage", lender="中国建设银行咸宁分行"),))
    assert codes(unit) == ["mortgaged"]
    assert codes(unit, mortgage_lender="中国工商银行咸宁分行") == ["mortgaged"]
    assert codes(unit, mortgage_lender=" 中国建设银行咸宁分行 ") == []
    two = facts(restrictions=(RestrictionFact("m1", "mortgage", lender="中国建设银行咸宁分行"),
                              RestrictionFact("m2", "mortgage", lender="咸宁农村商业银行")))
    reasons = evaluate(two, seller_indexes=[SELLER], mortgage_lender="中国建设银行咸宁分行").reasons
    assert [r.code for r in reasons] == ["mortgaged"]
    assert reasons[0].extra["lenders"] == ["咸宁农村商业银行"]


def test_advance_notice_allows_only_its_beneficiary_as_buyer():
    unit = facts(restrictions=(RestrictionFact("a1", "advance_notice", beneficiary_index=BUYER),))
    assert codes(unit) == ["advance_notice"]
    assert codes(unit, buyer_indexes=[STRANGER]) == ["advance_notice"]
    assert codes(unit, buyer_indexes=[BUYER]) == []


def test_every_reason_is_listed_in_a_stable_order():
    unit = facts(restrictions=(RestrictionFact("m", "mortgage", lender="x"),
                               RestrictionFact("s", "seizure"), RestrictionFact("o", "objection")),
                 filed_contract_ids=("c",), registration_accepted=True)
    assert codes(unit, require_all_owners=True) == [
        "under_filed_contract", "registration_accepted", "seized", "objection", "mortgaged",
        "co_owner_missing"]


def test_all_co_owners_must_sell_when_required():
    assert codes(facts(), require_all_owners=True) == ["co_owner_missing"]
    assert codes(facts(), seller_indexes=[SELLER, CO_OWNER], require_all_owners=True) == []


# -- unit payloads ---------------------------------------------------------------------------

UNIT_NO = "421202004011GB00127F00030052"


def owner(kind: str = "sole", share: Any = None, name: str = "王建国") -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "id_number": make_id_number(), "kind": kind}
    if share is not None:
        out["share"] = share
    return out


def payload(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "certificate_no": "鄂（2019）咸宁市不动产权第0003187号", "house_no": "XA-1",
        "location": {"city": "咸宁市", "district": "咸安区", "community": "温泉花园",
                     "building": "3栋", "unit": "2单元", "room": "502"},
        "building_area": "118.36", "inner_area": 96.12, "structure": 3, "planned_use": "住宅",
        "owners": [owner()], "source_version": 3}
    body.update(over)
    return body


def problems(unit_no: str = UNIT_NO, **over: Any) -> dict[str, str]:
    with pytest.raises(FieldProblems) as err:
        parse_unit(unit_no, payload(**over))
    return err.value.fields


def test_a_valid_unit_is_normalised():
    data = parse_unit(UNIT_NO, payload())
    assert data.region_code == "421202"
    assert data.certificate_no == "鄂(2019)咸宁市不动产权第0003187号"
    assert data.building_area == Decimal("118.36")
    assert data.ownership_kind == "sole" and data.owners[0].share == Decimal(100)


@pytest.mark.parametrize(("unit_no", "reason"), [
    (UNIT_NO[:-1], "28位"), (UNIT_NO[:-1] + "a", "大写字母"), ("991202" + UNIT_NO[6:], "行政区划"),
    ("420000" + UNIT_NO[6:], "行政区划")])
def test_unit_no_is_28_uppercase_characters_with_a_region(unit_no, reason):
    assert reason in problems(unit_no)["unit_no"]


def test_unit_no_must_match_the_expected_region_and_the_body():
    with pytest.raises(FieldProblems) as err:
        parse_unit(UNIT_NO, payload(), region_code="421222")
    assert "421222" in err.value.fields["unit_no"]
    with pytest.raises(FieldProblems) as err:
        parse_unit(UNIT_NO, payload(unit_no="421202" + "0" * 22))
    assert "路径" in err.value.fields["unit_no"]


def test_wrong_check_digit_names_the_owner_path():
    good = owner("by_share", 50)
    bad = owner("by_share", 50, name="李秀英")
    bad["id_number"] = bad["id_number"][:17] + ("0" if bad["id_number"][17] != "0" else "1")
    assert problems(owners=[good, bad]) == {"owners[1].id_number": "身份证号码校验位错误"}


@pytest.mark.parametrize(("over", "field"), [
    ({"building_area": 0}, "building_area"), ({"building_area": -3}, "building_area"),
    ({"inner_area": "abc"}, "inner_area"), ({"inner_area": 120}, "inner_area"),
    ({"building_area": 1.234}, "building_area"), ({"structure": 0}, "structure"),
    ({"structure": 7}, "structure"), ({"structure": "3"}, "structure"),
    ({"source_version": -1}, "source_version"), ({"source_version": True}, "source_version"),
    ({"location": {"city": "咸宁市"}}, "location.district"), ({"owners": []}, "owners")])
def test_each_bad_field_is_named(over, field):
    assert field in problems(**over)


@pytest.mark.parametrize(("owners", "field"), [
    ([owner("sole"), owner("sole", name="李秀英")], "owners"),
    ([owner("sole", 50)], "owners[0].share"),
    ([owner("joint"), owner("joint", 50, name="李秀英")], "owners[1].share"),
    ([owner("joint")], "owners"),
    ([owner("by_share", 50), owner("by_share", name="李秀英")], "owners[1].share"),
    ([owner("by_share", 50), owner("by_share", 40, name="李秀英")], "owners"),
    ([owner("by_share", 50), owner("joint", name="李秀英")], "owners[1].kind"),
    ([owner("by_share", 0), owner("by_share", 100, name="李秀英")], "owners[0].share"),
    ([owner("tenant")], "owners[0].kind")])
def test_kind_and_share_must_agree(owners, field):
    assert field in problems(owners=owners)


def test_shares_may_be_rounded_thirds_and_chinese_kind_names():
    thirds = [owner("按份共有", "33.3333", name=n) for n in ("王建国", "李秀英", "张伟")]
    data = parse_unit(UNIT_NO, payload(owners=thirds))
    assert data.ownership_kind == "by_share"
    joint = [owner("共同共有"), owner("共同共有", name="李秀英")]
    assert parse_unit(UNIT_NO, payload(owners=joint)).owners[0].share is None


def test_the_same_person_twice_is_refused():
    one = owner("by_share", 50)
    assert "owners[1].id_number" in problems(owners=[one, {**one, "name": "李秀英"}])


def test_restriction_payloads():
    m = parse_restriction("DY-1", {"kind": "mortgage", "lender": "中国建设银行 咸宁分行",
                                   "amount_fen": 100, "source_time": "2024-05-01T09:30:00+08:00"})
    assert m.details == {"lender": "中国建设银行咸宁分行", "amount_fen": 100}
    with pytest.raises(FieldProblems) as err:
        parse_restriction("DY 1", {"kind": "mortgage", "amount_fen": 0,
                                   "source_time": "2024-05-01 09:30"})
    assert set(err.value.fields) == {"restriction_id", "lender", "amount_fen", "source_time"}
    with pytest.raises(FieldProblems) as err:
        parse_restriction("YG-1", {"kind": "advance_notice",
                                   "beneficiary": {"id_number": "421202198503120000"}})
    assert set(err.value.fields) == {"beneficiary.id_number"}
    with pytest.raises(FieldProblems) as err:
        parse_restriction("X-1", {"kind": "lease"})
    assert set(err.value.fields) == {"kind"}


def test_client_secrets_are_hashed_and_compared():
    stored = hash_secret("s3cret-value")
    assert stored.startswith("scrypt$") and "s3cret-value" not in stored
    assert verify_secret("s3cret-value", stored)
    assert not verify_secret("s3cret-valuf", stored)
    assert hash_secret("s3cret-value") != stored  # salted
    assert not verify_secret("x", "garbage")
