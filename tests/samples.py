"""A realistic contract for tests: rendering, signing and the API all start from it.

Kept in one place so every test suite exercises the same, plausible data:
a flat in 咸宁市咸安区 owned 50/50 by a couple, sold to one buyer with a
commercial loan and funds custody, disputes to the 咸宁仲裁委员会.
ID numbers carry a correct GB 11643 check digit (validators reject others).
"""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

from signing.document import (
    ContractDocument,
    DisputeResolution,
    House,
    Installment,
    Location,
    Party,
    Terms,
)

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_check_digit(first17: str) -> str:
    """GB 11643-1999 check character for the first 17 digits of an ID number."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


def id_number(first17: str) -> str:
    return first17 + id_check_digit(first17)


SAMPLE_CONTRACT_NO = "XNCL2026112300123"
SAMPLE_VERIFICATION_URL = "http://127.0.0.1:8000/v/AB12CD34?t=Zq3xK9vB2mLp7RtY_wE5nH8cJ-aD4fGs"
SAMPLE_PRICE_FEN = 123_456_700

SELLER_1 = Party(
    party_id="p1001",
    role="seller",
    name="王建国",
    id_number=id_number("42120219750312351"),
    phone="13871512345",
    address="湖北省咸宁市咸安区温泉路88号",
    share_percent=50.0,
)
SELLER_2 = Party(
    party_id="p1002",
    role="seller",
    name="李秀英",
    id_number=id_number("42120219780821402"),
    phone="13986654321",
    address="湖北省咸宁市咸安区温泉路88号",
    share_percent=50.0,
)
BUYER = Party(
    party_id="p2001",
    role="buyer",
    name="陈晓明",
    id_number=id_number("42128119900615233"),
    phone="15927181234",
    address="湖北省赤壁市蒲圻街道河北大道216号",
)

SAMPLE_HOUSE = House(
    unit_no="421202005003GB00123F00050215",
    house_no="4212020050030050215",
    certificate_no="鄂（2019）咸宁市不动产权第0012345号",
    location=Location(
        city="咸宁市",
        district="咸安区",
        community="温泉街道金桂花园小区",
        building="5栋",
        unit="2单元",
        room="1502室",
    ),
    building_area=118.56,
    inner_area=98.32,
    structure=3,
    planned_use="住宅",
    ownership_kind="by_share",
    floor="15",
    total_floors="18",
)

SAMPLE_TERMS = Terms(
    price_fen=SAMPLE_PRICE_FEN,
    payment_method="commercial_loan",
    payment_schedule=(
        Installment(date(2026, 11, 30), 5_000_000, "定金，签订本合同时支付，抵作房价款"),
        Installment(date(2026, 12, 10), 33_456_700, "首付款，存入资金监管账户"),
        Installment(date(2027, 1, 31), 85_000_000, "商业贷款，由贷款银行划入资金监管账户"),
    ),
    deposit_fen=5_000_000,
    funds_custody=True,
    custody_bank="中国建设银行股份有限公司咸宁分行",
    delivery_date=date(2027, 2, 28),
    taxes_borne_by="by_law",
    mortgage_transfer=None,
    late_payment_daily_permyriad=5,
    termination_after_days=30,
    registration_within_days=30,
    dispute_resolution=DisputeResolution(method="arbitration", institution="咸宁仲裁委员会"),
    supplementary_terms=(
        "出卖人应于房屋交付前结清水、电、燃气、物业服务费等费用，并提供结清凭证。\n"
        "该房屋内现有家具、家电随房屋一并转让，不另计价款；地下车位不在本次交易范围内。"
    ),
)


def sample_contract_document(draft: bool = False, **overrides: Any) -> ContractDocument:
    """The standard sample contract; ``draft`` strips the number and URL, ``overrides``
    replace any :class:`ContractDocument` field (e.g. ``parties=...``)."""
    document = ContractDocument(
        contract_no="" if draft else SAMPLE_CONTRACT_NO,
        verification_url="" if draft else SAMPLE_VERIFICATION_URL,
        issued_on=date(2026, 11, 23),
        parties=(SELLER_1, SELLER_2, BUYER),
        house=SAMPLE_HOUSE,
        terms=SAMPLE_TERMS,
        filing_authority="咸宁市住房和城乡建设局",
        draft=draft,
    )
    return dataclasses.replace(document, **overrides) if overrides else document
