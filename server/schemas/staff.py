"""Shapes of the staff API (``/api/v1/staff``, 代理签约) and of the parties' ratings."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from server.schemas.common import Answer
from server.schemas.miniapp import (
    Body,
    ContractCreateBody,
    ContractView,
    InvitationView,
    PartyBody,
    PartyList,
    Terms,
)
from server.schemas.types import DIGITS, CertificateNo, ident, integer, text

StaffId = ident(32, examples=["st_421202_1a2b3c4d"], description="工号（staff create 打印）")
Password = text(128, 1, description="密码；首次为 staff create 打印的一次性密码")


class StaffLoginBody(Body):
    staff_id: StaffId  # type: ignore[valid-type]
    password: Password  # type: ignore[valid-type]


class StaffPasswordBody(Body):
    staff_id: StaffId  # type: ignore[valid-type]
    password: Password  # type: ignore[valid-type]
    new_password: text(128, 1, description="新密码：至少10个字符，同时包含字母和数字，"  # type: ignore[valid-type]
                       "不能与当前密码相同")


class StaffView(Answer):
    staff_id: str
    name: str
    service_point: str
    region_code: str


class StaffSession(Answer):
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int = Field(description="访问令牌有效秒数")
    staff: StaffView


class CounterDraftBody(Body):
    """A draft made at the counter: as ``POST /contracts``, without an initiator's side
    (the staff member is no party) and without ``replaces``."""

    kind: Literal["resale"] = Field(default="resale", description="目前仅 resale（存量房买卖）")
    certificate_no: CertificateNo  # type: ignore[valid-type]
    sellers: PartyList = Field(description="出卖人：须为该房屋的全部登记权利人（含共有人）")
    buyers: PartyList = Field(description="买受人")
    agent: PartyBody | None = Field(default=None, description="代理人（可选）")
    terms: Terms

    rule_problems = staticmethod(ContractCreateBody.rule_problems)


class StaffInvitationView(InvitationView):
    invitation_url: str = Field(description="被邀请人手机上打开的链接（H5 客户端）",
                                json_schema_extra={"format": "uri"})
    qr_svg_url: str = Field(description="窗口屏幕上展示的邀请二维码（SVG）")


class StaffContractList(Answer):
    items: list[ContractView]


class StaffContractsQuery(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=False)
    limit: Annotated[str, Field(max_length=3, pattern=DIGITS)] | None = Field(
        default=None, description="最多返回多少份，1至200，默认50", examples=["50"])


class RatingBody(Body):
    model_config = ConfigDict(extra="forbid")
    score: integer(1, 5, examples=[5], description="评分：1 很不满意 … 5 非常满意")  # type: ignore[valid-type]
    comment: text(200) = Field(default="", description="评价内容（可选）")  # type: ignore[valid-type]


class RatingView(Answer):
    """The caller's rating of the service (once per party, after filing)."""

    contract_id: str
    party_id: str
    score: int
    comment: str
    rated_at: str = Field(json_schema_extra={"format": "date-time"})


