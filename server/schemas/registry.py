"""Shapes of the registration-office API (``/registry/v1``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from server.domain.units import MAX_OWNERS, OWNERSHIP_KINDS, RESTRICTION_KINDS
from server.schemas.common import Answer
from server.schemas.miniapp import ContractStatus, DocumentKind, SaleDocument
from server.schemas.types import (
    DIGITS,
    CertificateNo,
    IdNumber,
    IsoDate,
    PersonName,
    integer,
    text,
)

UnitNo = Annotated[str, Field(min_length=28, max_length=28, pattern=r"^[0-9A-Z]{28}$",
                              examples=["421202001001GB00012F00030502"],
                              description="不动产单元号（28位，前六位为县级行政区划代码）")]
RestrictionId = Annotated[str, Field(min_length=1, max_length=64,
                                     pattern=r"^[A-Za-z0-9._:-]{1,64}$",
                                     examples=["CF-2024-0001"], description="限制编号")]
RestrictionKind = Literal[tuple(RESTRICTION_KINDS)]  # type: ignore[valid-type]
OwnershipKind = Literal[  # type: ignore[valid-type]
    tuple(OWNERSHIP_KINDS) + tuple(OWNERSHIP_KINDS.values())]
Decimal2 = Annotated[int, Field(gt=0, lt=10**8)] | Annotated[
    float, Field(gt=0, lt=10**8, allow_inf_nan=False)] | Annotated[
    str, Field(pattern=r"^ *[0-9]{1,8}(\.[0-9]{1,2})? *$", max_length=16)]
ShareValue = Annotated[int, Field(gt=0, le=100)] | Annotated[
    float, Field(gt=0, le=100, allow_inf_nan=False)] | Annotated[
    str, Field(pattern=r"^ *[0-9]{1,3}(\.[0-9]{1,4})? *$", max_length=16)]


# Stands in for the path's unit number when only the body's problems are wanted.
_ANY_UNIT_NO = "421202" + "0" * 22


def _problems(parse: Any, drop: str) -> dict[str, str]:
    from server.domain.errors import FieldProblems

    try:
        parse()
    except FieldProblems as exc:
        return {k: v for k, v in exc.fields.items() if k != drop}
    return {}


class TokenBody(BaseModel):
    """``POST /token``: as JSON or ``application/x-www-form-urlencoded`` (or HTTP Basic)."""

    client_id: text(64, 1)  # type: ignore[valid-type]
    client_secret: text(256, 1)  # type: ignore[valid-type]
    grant_type: Literal["client_credentials"] | None = "client_credentials"
    scope: text(256) | None = Field(  # type: ignore[valid-type]
        default=None, description="以空格分隔：units:read units:write contracts:read "
        "contracts:write；不填即该客户端的全部权限")


class TokenAnswer(Answer):
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int
    scope: str


class Location(BaseModel):
    city: text(32, 1, examples=["咸宁市"])  # type: ignore[valid-type]
    district: text(32, 1, examples=["咸安区"])  # type: ignore[valid-type]
    community: text(64, 1, examples=["温泉花园"])  # type: ignore[valid-type]
    building: text(32, 1, examples=["3栋"])  # type: ignore[valid-type]
    unit: text(32) | None = None  # type: ignore[valid-type]
    room: text(32, 1, examples=["502"])  # type: ignore[valid-type]
    floor: text(16) | None = None  # type: ignore[valid-type]
    total_floors: text(16) | None = None  # type: ignore[valid-type]


class OwnerBody(BaseModel):
    name: PersonName  # type: ignore[valid-type]
    id_number: IdNumber  # type: ignore[valid-type]
    kind: OwnershipKind = Field(description="sole 单独所有 | joint 共同共有（不填份额）| "
                                "by_share 按份共有（份额之和为100）")
    share: ShareValue | None = None


class UnitBody(BaseModel):
    unit_no: UnitNo | None = Field(default=None, description="如填写，须与路径一致")
    certificate_no: CertificateNo  # type: ignore[valid-type]
    house_no: text(64, 1, examples=["XA-0012-03-0502"])  # type: ignore[valid-type]
    location: Location
    building_area: Decimal2 = Field(description="建筑面积（平方米，最多两位小数）",
                                    examples=[118.36])
    inner_area: Decimal2 = Field(description="套内面积（平方米），不大于建筑面积", examples=[96.12])
    structure: Literal[1, 2, 3, 4, 5, 6] = Field(
        description="房屋结构：1 钢, 2 钢和钢筋混凝土, 3 钢筋混凝土, 4 混合, 5 砖木, 6 其他")
    planned_use: text(32, 1, examples=["住宅"])  # type: ignore[valid-type]
    owners: Annotated[list[OwnerBody], Field(min_length=1, max_length=MAX_OWNERS)]
    source_version: integer(0, 2**63 - 1, description="登记系统的数据版本；旧版本不生效")  # type: ignore[valid-type]

    @staticmethod
    def rule_problems(data: dict[str, Any]) -> dict[str, str]:
        """The domain's reasons for the well-formed fields, reported with the structural ones."""
        from server.domain.units import parse_unit

        return _problems(lambda: parse_unit(_ANY_UNIT_NO, {**data, "unit_no": None}),
                         "unit_no")


class Beneficiary(BaseModel):
    name: PersonName | None = None  # type: ignore[valid-type]
    id_number: IdNumber  # type: ignore[valid-type]


class RestrictionBody(BaseModel):
    kind: RestrictionKind = Field(description="seizure 查封 | mortgage 抵押 | objection 异议 | "
                                  "advance_notice 预告登记")
    source_time: str | None = Field(default=None, max_length=40,
                                    json_schema_extra={"format": "date-time"},
                                    examples=["2024-05-01T09:30:00+08:00"])
    note: text(200) | None = None  # type: ignore[valid-type]
    lender: text(128) | None = Field(default=None, description="抵押权人（mortgage 必填）")  # type: ignore[valid-type]
    amount_fen: integer(1, 2**63 - 1) | None = Field(  # type: ignore[valid-type]
        default=None, description="抵押金额（分，mortgage 必填）")
    authority: text(128) | None = None  # type: ignore[valid-type]
    case_no: text(64) | None = None  # type: ignore[valid-type]
    beneficiary: Beneficiary | None = Field(default=None,
                                            description="预告登记权利人（advance_notice 必填）")

    @staticmethod
    def rule_problems(data: dict[str, Any]) -> dict[str, str]:
        from server.domain.units import parse_restriction

        return _problems(lambda: parse_restriction("r", data), "restriction_id")


class AcceptanceBody(BaseModel):
    case_no: text(64, 1, examples=["XA2024-000123"],  # type: ignore[valid-type]
                  description="登记受理号")


def _digits(value: Any) -> Any:
    if isinstance(value, str) and not value.isascii():
        raise ValueError("只能包含数字0-9")
    return value


class FeedQuery(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=False)
    cursor: Annotated[str, Field(max_length=19, pattern=DIGITS)] | None = Field(
        default=None, description="上次返回的 next_cursor；不填从头开始", examples=["0"])
    limit: Annotated[str, Field(max_length=3, pattern=DIGITS)] | None = Field(
        default=None, description="每页条数，1至200，默认50", examples=["50"])

    @field_validator("cursor")
    @classmethod
    def _cursor_fits(cls, value: str | None) -> str | None:
        if value is not None and int(value) > 2**63 - 1:
            raise ValueError("应为上次返回的 next_cursor")
        return value


class FeedDocument(Answer):
    kind: DocumentKind  # type: ignore[valid-type]
    url: str = Field(description="该文件 PDF 的登记机构接口地址",
                     json_schema_extra={"format": "uri"})


class FeedItem(Answer):
    position: int
    event: Literal["filed", "accepted", "registered", "revoked", "changed", "document_renewed"]
    filing_no: str
    occurred_at: str = Field(json_schema_extra={"format": "date-time"})
    documents: list[FeedDocument] = Field(
        description="本交易的全部备案文件（合同、资金监管协议、交易告知书及承诺书）及其 PDF 地址")


class Feed(Answer):
    items: list[FeedItem]
    next_cursor: str = Field(description="下次请求的 cursor")


class StatusAnswer(Answer):
    status: ContractStatus


class UnitUpsert(Answer):
    unit_no: str
    applied: bool
    result: Literal["created", "updated", "unchanged", "stale_version"]
    current_version: int
    reason: Literal["stale_version"] | None = None


class RestrictionAnswer(Answer):
    restriction_id: str
    kind: RestrictionKind
    kind_name: str
    active: bool
    source_time: str | None
    lifted_at: str | None
    changed: bool | None = None
    data_version: str | None = None


class SharedData(Answer):
    filing_no: str
    contract_no: str
    status: ContractStatus
    sellers: list[dict[str, Any]]
    buyers: list[dict[str, Any]]
    house: dict[str, Any]
    documents: list[SaleDocument] = Field(
        description="本交易的全部备案文件；`url` 为登记机构下载 PDF 的地址，`sha256` 为最新备案版本"
        "（加盖印章期间为 null）")


class StatisticsQuery(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=False, populate_by_name=False)
    from_: IsoDate = Field(alias="from", description="起始日期（含），中国时间",  # type: ignore[valid-type]
                           examples=["2026-01-01"])
    to: IsoDate = Field(description="截止日期（含），中国时间；区间不超过3660天",  # type: ignore[valid-type]
                        examples=["2026-12-31"])
    group_by: Literal["district", "month"] = Field(
        default="month", description="district 按区县（房屋坐落）| month 按月")


class StatisticsRow(Answer):
    key: str = Field(description="区县名称，或月份 YYYY-MM", examples=["咸安区"])
    filed: int = Field(description="区间内备案的合同数")
    revoked: int = Field(description="区间内注销备案的合同数")
    avg_price_per_m2_fen: int | None = Field(
        description="备案合同的成交均价（总价 ÷ 总建筑面积），分/平方米")
    median_hours_draft_to_filing: float | None = Field(
        description="从创建草稿到备案所用时间的中位数（小时）")
    avg_rating: float | None = Field(description="这些合同的好差评平均分（1至5）")
    ratings: int = Field(description="这些合同收到的评价数")


class Statistics(Answer):
    """Statistics of the client's region, by district or by month."""

    region_code: str
    from_: str = Field(alias="from", json_schema_extra={"format": "date"})
    to: str = Field(json_schema_extra={"format": "date"})
    group_by: Literal["district", "month"]
    rows: list[StatisticsRow]
