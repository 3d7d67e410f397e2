"""The data a contract PDF is rendered from.

This is the boundary between the domain (``server``) and the rendering and
signing code: the service layer builds a :class:`ContractDocument` from the
frozen contract, and everything in :mod:`signing` works from it alone. Plain
frozen dataclasses, so it pickles cheaply into the worker processes.

The contract itself is a private document between the parties, so it carries
full names and ID numbers; masking applies to public surfaces only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

PAYMENT_METHODS = {
    "full": "全款",
    "commercial_loan": "商业贷款",
    "provident_fund_loan": "公积金贷款",
    "combined": "组合贷款",
}

STRUCTURES = {
    1: "钢结构",
    2: "钢和钢筋混凝土结构",
    3: "钢筋混凝土结构",
    4: "混合结构",
    5: "砖木结构",
    6: "其他结构",
}

TAX_BEARERS = {
    "by_law": "按国家及地方规定各自承担",
    "buyer": "全部由买受人承担",
    "seller": "全部由出卖人承担",
}

OWNERSHIP_KINDS = {
    "sole": "单独所有",
    "joint": "共同共有",
    "by_share": "按份共有",
}

ROLES = {"seller": "出卖人", "buyer": "买受人", "agent": "经纪机构"}

# The documents of one sale, in the order they are listed and signed: the contract,
# the funds-custody agreement (only with funds custody) and the transaction notice
# and commitment every party signs (seed 001: several documents, one face verification).
CONTRACT = "contract"
FUNDS_CUSTODY_AGREEMENT = "funds_custody_agreement"
TRANSACTION_NOTICE = "transaction_notice"
DOCUMENT_TITLES = {
    CONTRACT: "存量房买卖合同",
    FUNDS_CUSTODY_AGREEMENT: "存量房交易资金监管协议",
    TRANSACTION_NOTICE: "存量房交易告知书及承诺书",
}


@dataclass(frozen=True)
class Party:
    """One person who signs: a seller (or co-owner), a buyer, or an agent."""

    party_id: str
    role: str  # "seller" | "buyer" | "agent"
    name: str
    id_number: str
    phone: str
    address: str
    share_percent: float | None = None  # by-share ownership; None for joint/agent


@dataclass(frozen=True)
class Location:
    """坐落: district, community, building, unit, room."""

    city: str
    district: str
    community: str
    building: str
    unit: str
    room: str

    def full(self) -> str:
        return f"{self.city}{self.district}{self.community}{self.building}{self.unit}{self.room}"


@dataclass(frozen=True)
class House:
    unit_no: str
    house_no: str
    certificate_no: str
    location: Location
    building_area: float  # m², two decimals
    inner_area: float
    structure: int  # key of STRUCTURES
    planned_use: str  # e.g. "住宅"
    ownership_kind: str  # key of OWNERSHIP_KINDS
    floor: str = ""
    total_floors: str = ""


@dataclass(frozen=True)
class Installment:
    due_date: date
    amount_fen: int
    description: str


@dataclass(frozen=True)
class MortgageTransfer:
    """带押过户: the house is sold with its mortgage; the lender is named."""

    lender: str
    outstanding_fen: int


@dataclass(frozen=True)
class DisputeResolution:
    method: str  # "arbitration" | "court"
    institution: str  # named arbitration commission or court


@dataclass(frozen=True)
class Terms:
    price_fen: int
    payment_method: str  # key of PAYMENT_METHODS
    payment_schedule: tuple[Installment, ...]
    deposit_fen: int
    funds_custody: bool
    custody_bank: str | None
    delivery_date: date
    taxes_borne_by: str  # key of TAX_BEARERS
    mortgage_transfer: MortgageTransfer | None
    late_payment_daily_permyriad: int  # 违约金: ‱ of the price per day late
    termination_after_days: int  # late by more than this → the other side may terminate
    registration_within_days: int  # apply for transfer registration within N days of filing
    dispute_resolution: DisputeResolution
    supplementary_terms: str = ""


@dataclass(frozen=True)
class SignatureSlot:
    """Where a party's (or the filing seal's) visible signature goes.

    The template lays the boxes out; the renderer reports where they landed
    so the signing step can create its fields at exactly those places.
    Coordinates are PDF points, origin bottom-left, on a 1-based page.
    """

    field_name: str
    page: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class ContractDocument:
    contract_no: str  # "" while a draft
    verification_url: str  # "" while a draft; the QR code's content otherwise
    issued_on: date
    parties: tuple[Party, ...]
    house: House
    terms: Terms
    filing_authority: str  # name printed on the seal box, e.g. "咸宁市住房和城乡建设局"
    draft: bool = False
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def sellers(self) -> tuple[Party, ...]:
        return tuple(p for p in self.parties if p.role == "seller")

    @property
    def buyers(self) -> tuple[Party, ...]:
        return tuple(p for p in self.parties if p.role == "buyer")


def signature_field_name(party_id: str) -> str:
    """The PDF form field of a party's signature."""
    return f"party-{party_id}"


SEAL_FIELD_NAME = "filing-seal"
CERTIFICATION_FIELD_NAME = "platform-certification"
