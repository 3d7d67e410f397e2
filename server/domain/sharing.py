"""What each kind of agency may read of a filed contract: the minimum its task needs
(PIPL art. 6 最小必要, art. 23 sharing with another handler).

The table is the rule; the sharing service builds an answer from these items
only, and every access is written on the contract's timeline with the items
it gave, so the parties see who read what. Every answer also carries the
contract's identity (contract and filing number, status, filing time): without
it an agency could not tell what it is reading. A revoked contract answers with
its identity alone: nobody acts on a revoked contract's data.
"""

from __future__ import annotations

from typing import Final

AGENCY_KINDS: Final = {
    "tax": "税务部门",
    "bank": "银行",
    "public_security": "公安部门",
    "provident_fund": "住房公积金管理中心",
}

# item -> what it holds (the README's table and the timeline show these labels)
ITEMS: Final = {
    "price": "成交价格",
    "payment": "付款方式、付款安排、定金",
    "mortgage": "带押过户（抵押权人、剩余贷款）、资金监管银行",
    "house": "不动产单元号、房屋编号、不动产权证号、坐落",
    "areas": "建筑面积、套内面积、房屋结构、规划用途",
    "parties": "出卖人和买受人的姓名、份额",
    "buyers": "买受人的姓名、份额（不含出卖人）",
    "id_numbers": "上述人员的身份证号码",
    "addresses": "上述人员的通讯地址",
    "taxes": "税费承担方式",
}

# kind -> the items it gets, and why (what the agency does with the contract)
KIND_ITEMS: Final[dict[str, tuple[str, ...]]] = {
    # 契税、个人所得税、增值税的计税：价格、面积、房屋、买卖双方及身份证号
    "tax": ("price", "house", "areas", "parties", "id_numbers", "taxes"),
    # 按揭贷款、带押过户、资金监管：价格、付款安排、抵押、抵押物、借款人和出卖人
    "bank": ("price", "payment", "mortgage", "house", "parties", "id_numbers"),
    # 户籍迁移（落户）、治安管理：人员、身份证号、地址、房屋坐落；不含价格
    "public_security": ("house", "parties", "id_numbers", "addresses"),
    # 公积金贷款和购房提取：价格、付款安排、所购房屋、买受人及身份证号；不含出卖人
    "provident_fund": ("price", "payment", "house", "buyers", "id_numbers"),
}

IDENTITY_FIELDS: Final = ("contract_no", "filing_no", "status", "filed_at", "region_code")

# item -> the top-level answer fields it adds (people items shape the party lists)
ITEM_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    "price": ("price_fen",),
    "payment": ("payment",),
    "mortgage": ("mortgage",),
    "house": ("house",),
    "areas": ("areas",),
    "parties": ("sellers", "buyers"),
    "buyers": ("buyers",),
    "id_numbers": (),
    "addresses": (),
    "taxes": ("taxes_borne_by",),
}


def items_for(kind: str, status: str) -> tuple[str, ...]:
    """The items ``kind`` reads of a contract in ``status`` (none once it is revoked)."""
    if status == "revoked":
        return ()
    return KIND_ITEMS[kind]


def answer_fields(items: tuple[str, ...]) -> set[str]:
    """Every top-level field an answer with ``items`` has (the identity included)."""
    out = set(IDENTITY_FIELDS) | {"items", "agency_kind"}
    for item in items:
        out.update(ITEM_FIELDS[item])
    return out
