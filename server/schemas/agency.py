"""Shapes of the agencies' API (``/agency/v1``): tax, banks, public security, provident fund.

Every data item is optional in the answer: an agency gets only those of its
kind (``items`` lists them; the README has the table), so a client must not
expect the others.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from server.domain.sharing import AGENCY_KINDS, ITEMS
from server.schemas.common import Answer
from server.schemas.miniapp import ContractStatus

ContractNo = Annotated[str, StringConstraints(min_length=1, max_length=32,
                                              pattern=r"^[A-Za-z0-9]+$"),
                       Field(examples=["WQ4212022026120100001"],
                             description="合同编号（合同首页与核验页上的编号）")]
AgencyKind = Literal[tuple(AGENCY_KINDS)]  # type: ignore[valid-type]
Item = Literal[tuple(ITEMS)]  # type: ignore[valid-type]


class SharedPerson(Answer):
    name: str
    share: float | None = Field(description="份额（%）；共同共有时为空")
    id_number: str | None = Field(default=None, description="身份证号码（id_numbers 项）")
    address: str | None = Field(default=None, description="通讯地址（addresses 项）")


class AgencyContract(Answer):
    """The data items of a filed contract that this kind of agency needs, no more."""

    contract_no: str
    filing_no: str
    status: ContractStatus
    filed_at: str = Field(json_schema_extra={"format": "date-time"})
    region_code: str
    agency_kind: AgencyKind
    items: list[Item] = Field(description="本次提供的数据项；已注销的合同只提供状态")
    price_fen: int | None = Field(default=None, description="成交价（分）（price 项）")
    payment: dict[str, Any] | None = Field(
        default=None, description="payment_method, payment_schedule, deposit_fen（payment 项）")
    mortgage: dict[str, Any] | None = Field(
        default=None, description="mortgage_transfer, funds_custody, custody_bank（mortgage 项）")
    house: dict[str, Any] | None = Field(
        default=None, description="unit_no, house_no, certificate_no, location（house 项）")
    areas: dict[str, Any] | None = Field(
        default=None, description="building_area, inner_area, structure, planned_use（areas 项）")
    sellers: list[SharedPerson] | None = Field(default=None, description="出卖人（parties 项）")
    buyers: list[SharedPerson] | None = Field(default=None,
                                              description="买受人（parties 或 buyers 项）")
    taxes_borne_by: str | None = Field(default=None, description="税费承担（taxes 项）")
