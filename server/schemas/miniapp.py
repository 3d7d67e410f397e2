"""Shapes of the mini-program API (``/api/v1``): request bodies and answers."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from server.domain.contract import Status
from server.domain.documents import CONTRACT, DOCUMENT_KINDS, DOCUMENT_TITLES
from server.domain.parties import MAX_PARTIES
from server.domain.terms import DEFAULTS, MAX_INSTALLMENTS, MAX_PRICE_FEN, MAX_SUPPLEMENTARY
from server.schemas.common import Answer
from server.schemas.types import (
    CertificateNo,
    ContractId,
    FaceVerificationId,
    Fen,
    IdNumber,
    IsoDate,
    PartyId,
    PersonName,
    Phone,
    PositiveFen,
    Version,
    integer,
    text,
    token,
)
from signing.document import PAYMENT_METHODS, TAX_BEARERS

PaymentMethod = Literal[tuple(PAYMENT_METHODS)]  # type: ignore[valid-type]
TaxBearer = Literal[tuple(TAX_BEARERS)]  # type: ignore[valid-type]
ContractStatus = Literal[tuple(s.value for s in Status)]  # type: ignore[valid-type]
Role = Literal["seller", "buyer", "agent"]
FacePurpose = Literal["bind_identity", "sign", "revoke"]
DocumentKind = Literal[tuple(DOCUMENT_KINDS)]  # type: ignore[valid-type]
_KINDS_TEXT = "；".join(f"`{k}` {t}" for k, t in DOCUMENT_TITLES.items())


class Body(BaseModel):
    """Request bodies: unknown fields are ignored unless the model forbids them."""

    # Which field's failure answers with its own error code (instead of invalid_input).
    error_codes: ClassVar[dict[str, tuple[str, str]]] = {}


# --- auth -----------------------------------------------------------------------------


class LoginBody(Body):
    provider: text(32, 1, examples=["sandbox"],  # type: ignore[valid-type]
                   description="`wechat`、已配置的政务 App 提供方；开发环境可用 `sandbox`")
    code: text(512, 1, examples=["demo-user-1"],  # type: ignore[valid-type]
               description="宿主 App 登录得到的 code；sandbox 下任意字符串，相同字符串即同一用户")


class RefreshBody(Body):
    refresh_token: token(512)  # type: ignore[valid-type]


class LogoutBody(Body):
    refresh_token: token(512) | None = None  # type: ignore[valid-type]


class UserView(Answer):
    id: str
    real_name_verified: bool
    name_masked: str | None = Field(examples=["王*国"])
    id_number_masked: str | None = Field(examples=["4212**********3518"])
    identity_bound_at: str | None = Field(json_schema_extra={"format": "date-time"})


class Session(Answer):
    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"]
    expires_in: int = Field(description="访问令牌有效秒数")
    user: UserView


# --- face verification ----------------------------------------------------------------


class FaceStartBody(Body):
    error_codes: ClassVar[dict[str, tuple[str, str]]] = {
        "consent": ("consent_required", "人脸核身前须明确同意《人脸信息处理告知书》")}

    purpose: FacePurpose = Field(description="bind_identity：绑定实名（需 name、id_number）；"
                                 "sign / revoke：签署或注销（需 contract_id，须已绑定实名）")
    consent: Literal[True] = Field(description="用户已阅读并同意《人脸信息处理告知书》")
    name: PersonName | None = None  # type: ignore[valid-type]
    id_number: IdNumber | None = None  # type: ignore[valid-type]
    contract_id: ContractId | None = None  # type: ignore[valid-type]
    consent_text_version: text(64) | None = None  # type: ignore[valid-type]
    meta_info: text(16384) | None = Field(  # type: ignore[valid-type]
        default=None, description="客户端 SDK 采集的 MetaInfo（部分核身方式需要）")


class MaskedIdentity(Answer):
    name_masked: str
    id_number_masked: str


class FaceVerificationView(Answer):
    id: str
    purpose: FacePurpose
    contract_id: str | None
    provider: str
    status: Literal["pending", "passed", "failed"]
    reason_code: str | None
    score: float | None
    client_payload: dict[str, Any] | None = Field(
        description="手机端 SDK 需要的参数（如 biz_token），仅 pending 时给出")
    identity: MaskedIdentity
    created_at: str | None = Field(json_schema_extra={"format": "date-time"})
    expires_at: str | None = Field(json_schema_extra={"format": "date-time"})
    completed_at: str | None = Field(json_schema_extra={"format": "date-time"})
    valid_until: str | None = Field(json_schema_extra={"format": "date-time"})
    consumed: bool


# --- properties -----------------------------------------------------------------------


class MortgageLender(Body):
    lender: text(128, 1, examples=["中国建设银行咸宁分行"])  # type: ignore[valid-type]


class BuyerIdentity(Body):
    id_number: IdNumber  # type: ignore[valid-type]


class PropertyCheckBody(Body):
    certificate_no: CertificateNo  # type: ignore[valid-type]
    mortgage_transfer: MortgageLender | None = Field(
        default=None, description="带押过户：注明抵押权人后，抵押不再阻止签约")
    buyers: Annotated[list[BuyerIdentity], Field(max_length=10)] = Field(
        default_factory=list, description="预告登记的权利人在买受人之中时不阻止签约")

    @staticmethod
    def rule_problems(data: dict[str, Any]) -> dict[str, str]:
        """The domain's reasons (ID check digits, a lender named), also for a bad structure."""
        from server.domain.identity import id_number_problem

        out: dict[str, str] = {}
        transfer = data.get("mortgage_transfer")
        lender = transfer.get("lender") if isinstance(transfer, dict) else None
        if transfer is not None and not (isinstance(lender, str) and lender.strip()):
            out["mortgage_transfer.lender"] = "带押过户须注明抵押权人（不超过128字）"
        buyers = data.get("buyers")
        for i, buyer in enumerate(buyers if isinstance(buyers, list) else []):
            number = buyer.get("id_number") if isinstance(buyer, dict) else None
            if isinstance(number, str) and (reason := id_number_problem(number)) is not None:
                out[f"buyers[{i}].id_number"] = reason
        return out


class Reason(Answer):
    code: Literal["not_owner", "under_filed_contract", "registration_accepted", "seized",
                  "objection", "advance_notice", "mortgaged"]
    message: str


class LocationView(Answer):
    city: str
    district: str
    community: str
    building: str
    unit: str | None
    room: str
    floor: str | None = None
    total_floors: str | None = None
    address: str | None = None


class Structure(Answer):
    code: Literal[1, 2, 3, 4, 5, 6]
    name: str


class OwnerView(Answer):
    name_masked: str
    id_number_masked: str
    share: float | None
    kind: Literal["sole", "joint", "by_share"]
    is_caller: bool | None = None


class RestrictionView(Answer):
    restriction_id: str
    kind: Literal["seizure", "mortgage", "objection", "advance_notice"]
    kind_name: str
    active: bool
    source_time: str | None
    lifted_at: str | None


class UnitView(Answer):
    """A registration unit with its owners (masked) and restrictions."""

    unit_no: str
    region_code: str
    house_no: str
    certificate_no: str
    location: LocationView
    building_area: float
    inner_area: float
    structure: Structure
    planned_use: str
    ownership_kind: Literal["sole", "joint", "by_share"]
    ownership_kind_name: str
    owners: list[OwnerView]
    restrictions: list[RestrictionView]
    under_filed_contract: bool
    registration_accepted: bool


class PropertyCheck(Answer):
    check_id: str
    eligible: bool
    reasons: list[Reason]
    unit: UnitView | None = Field(description="房屋信息；证号未知或非权利人时为 null")
    data_version: str | None
    purpose: str
    checked_at: str = Field(json_schema_extra={"format": "date-time"})


class OwnedHouses(Answer):
    items: list[UnitView]


# --- contracts ------------------------------------------------------------------------

# An integer stays an integer (its text is hashed into the contract content).
Share = Annotated[int, Field(gt=0, le=100)] | Annotated[
    float, Field(gt=0, le=100, allow_inf_nan=False)] | Annotated[
    str, Field(pattern=r"^[0-9]{1,3}(\.[0-9]{1,4})?$", max_length=8)]


class PartyBody(Body):
    name: PersonName  # type: ignore[valid-type]
    id_number: IdNumber  # type: ignore[valid-type]
    phone: Phone  # type: ignore[valid-type]
    address: text(120, 1, examples=["湖北省咸宁市咸安区温泉路88号"])  # type: ignore[valid-type]
    share: Share | None = Field(
        default=None, examples=[100],
        description="份额（百分比，大于0且不超过100，最多四位小数）；出卖人的份额以登记簿为准，"
        "多位买受人时每人必填且之和为100")


class Installment(Body):
    model_config = ConfigDict(extra="forbid")
    due_date: IsoDate  # type: ignore[valid-type]
    amount_fen: PositiveFen  # type: ignore[valid-type]
    description: text(100, 1, examples=["首付款"])  # type: ignore[valid-type]


class DisputeResolution(Body):
    model_config = ConfigDict(extra="forbid")
    method: Literal["arbitration", "court"] = Field(
        description="arbitration（仲裁，机构名以“仲裁委员会”结尾）或 "
        "court（诉讼，以“人民法院”结尾）")
    institution: text(64, 4, examples=["咸宁仲裁委员会"])  # type: ignore[valid-type]


class MortgageTransfer(Body):
    model_config = ConfigDict(extra="forbid")
    lender: text(64, 2, examples=["中国建设银行咸宁分行"])  # type: ignore[valid-type]
    outstanding_fen: Fen  # type: ignore[valid-type]


class Terms(Body):
    """The contract terms; the domain core checks the rules between them (sums, dates, 20%)."""

    model_config = ConfigDict(extra="forbid")
    price_fen: integer(1, MAX_PRICE_FEN, examples=[128_000_000],  # type: ignore[valid-type]
                       description="成交价（分）")
    payment_method: PaymentMethod = Field(
        description="; ".join(f"{k}：{v}" for k, v in PAYMENT_METHODS.items()))
    payment_schedule: Annotated[list[Installment], Field(min_length=1,
                                                         max_length=MAX_INSTALLMENTS)] = Field(
        description="付款安排：按日期先后，各期金额之和等于成交价")
    delivery_date: IsoDate = Field(description="交房日期，不早于今天")  # type: ignore[valid-type]
    dispute_resolution: DisputeResolution
    deposit_fen: Fen = Field(default=DEFAULTS["deposit_fen"],  # type: ignore[valid-type]
                             description="定金（分），不超过成交价的20%")
    funds_custody: bool = Field(default=DEFAULTS["funds_custody"],
                                description="是否资金监管；true 时须填 custody_bank")
    custody_bank: text(64, 2) | None = Field(  # type: ignore[valid-type]
        default=DEFAULTS["custody_bank"], examples=["中国工商银行咸宁分行"],
        description="资金监管银行（funds_custody 为 true 时必填）")
    taxes_borne_by: TaxBearer = Field(
        default=DEFAULTS["taxes_borne_by"],
        description="; ".join(f"{k}：{v}" for k, v in TAX_BEARERS.items()))
    mortgage_transfer: MortgageTransfer | None = Field(
        default=DEFAULTS["mortgage_transfer"], description="带押过户：抵押权人与剩余贷款")
    late_payment_daily_permyriad: integer(1, 50) = Field(  # type: ignore[valid-type]
        default=DEFAULTS["late_payment_daily_permyriad"],
        description="逾期付款违约金，每日万分之几")
    termination_after_days: integer(1, 365) = Field(  # type: ignore[valid-type]
        default=DEFAULTS["termination_after_days"], description="逾期多少日可解除合同")
    registration_within_days: integer(1, 180) = Field(  # type: ignore[valid-type]
        default=DEFAULTS["registration_within_days"], description="多少日内申请转移登记")
    supplementary_terms: text(MAX_SUPPLEMENTARY, multiline=True) = Field(  # type: ignore[valid-type]
        default=DEFAULTS["supplementary_terms"], description="补充条款")


PartyList = Annotated[list[PartyBody], Field(min_length=1, max_length=MAX_PARTIES)]


class ContractCreateBody(Body):
    kind: Literal["resale"] = Field(default="resale", description="目前仅 resale（存量房买卖）")
    certificate_no: CertificateNo  # type: ignore[valid-type]
    initiator_role: Literal["seller", "buyer"] = Field(description="发起人本人所在的一方")
    sellers: PartyList = Field(description="出卖人：须为该房屋的全部登记权利人（含共有人）")
    buyers: PartyList = Field(description="买受人")
    agent: PartyBody | None = Field(default=None, description="代理人（可选）")
    terms: Terms
    replaces: ContractId | None = Field(  # type: ignore[valid-type]
        default=None, description="变更：被本合同取代的已注销合同 id")

    @staticmethod
    def rule_problems(data: dict[str, Any]) -> dict[str, str]:
        """What the domain says of the parties and terms, when the structure is not right."""
        from datetime import date

        from server.domain import clock
        from server.domain.errors import FieldProblems
        from server.domain.parties import validate_parties
        from server.domain.terms import validate_terms

        today: date = clock.now().astimezone(clock.CST).date()
        out: dict[str, str] = {}
        for check in (lambda: validate_parties(data.get("sellers"), data.get("buyers"),
                                               data.get("agent")),
                      lambda: validate_terms(data.get("terms"), today)):
            try:
                check()
            except FieldProblems as exc:
                out.update(exc.fields)
        return out


class ContractEditBody(Body):
    model_config = ConfigDict(extra="forbid")
    terms: Terms | None = None
    sellers: PartyList | None = None
    buyers: PartyList | None = None
    agent: PartyBody | None = None


class InviteBody(Body):
    party_id: PartyId  # type: ignore[valid-type]


class ConfirmBody(Body):
    version: Version = Field(description="确认的合同版本号（GET 合同时的 version）")  # type: ignore[valid-type]


class SignBody(Body):
    face_verification_id: FaceVerificationId  # type: ignore[valid-type]
    signature_image: text(2_000_000, 1) = Field(  # type: ignore[valid-type]
        description="手写签名的 PNG 图片，base64（可带 data:image/png;base64, 前缀）")


class RevocationBody(Body):
    reason: text(200) = Field(default="", description="注销原因")  # type: ignore[valid-type]


class RevocationConfirmBody(Body):
    face_verification_id: FaceVerificationId  # type: ignore[valid-type]


class PartyView(Answer):
    party_id: str
    role: Role
    name_masked: str
    id_number_masked: str
    phone_masked: str
    share: float | None
    joined: bool
    confirmed: bool
    confirmed_version: int | None
    signed: bool
    signed_at: str | None = Field(json_schema_extra={"format": "date-time"})
    revocation_confirmed: bool
    is_me: bool


class SaleDocument(Answer):
    """One document of the sale: every party signs each one with the same face verification."""

    kind: DocumentKind = Field(description=f"文件种类：{_KINDS_TEXT}")
    title: str = Field(examples=["存量房交易资金监管协议"])
    sha256: str | None = Field(description="当前版本的 SHA-256（合同定稿前为 null）")
    url: str = Field(description="下载该文件 PDF 的地址（定稿前为草稿预览）",
                     json_schema_extra={"format": "uri"})
    verification_url: str | None = Field(description="该文件二维码中的核验地址（定稿后）",
                                         json_schema_extra={"format": "uri"})


class DocumentQuery(BaseModel):
    kind: DocumentKind = Field(  # type: ignore[valid-type]
        default=CONTRACT, description=f"哪一份文件（默认合同）：{_KINDS_TEXT}")


class ContractView(Answer):
    id: str
    kind: Literal["resale"]
    status: ContractStatus
    status_label: str
    version: int
    content_hash: str
    initiator_role: Literal["seller", "buyer", "staff"] = Field(
        description="发起方：seller、buyer，或 staff（服务网点工作人员代理起草）")
    contract_no: str | None
    filing_no: str | None
    filing_state: str | None
    revocation_requested_at: str | None
    verification_url: str | None = Field(description="二维码中的核验地址（冻结后）",
                                         json_schema_extra={"format": "uri"})
    certificate_no: str
    house: dict[str, Any] | None
    terms: dict[str, Any]
    parties: list[PartyView]
    my_party_id: str | None
    created_at: str | None
    updated_at: str | None
    expires_at: str | None
    frozen_at: str | None
    filed_at: str | None
    revoked_at: str | None
    cancelled_at: str | None
    document_sha256: str | None = Field(description="合同文件当前版本的 SHA-256")
    documents: list[SaleDocument] = Field(
        description="本交易的全部文件：合同；选择资金监管时的资金监管协议；交易告知书及承诺书。"
        "一次 `sign` 人脸核身签署该当事人的全部文件")
    replaces: str | None
    service_point: str | None = Field(default=None,
                                      description="代理签约：起草合同的服务网点（签约方自行起草时为空）")


class ContractList(Answer):
    items: list[ContractView]


class InvitationView(Answer):
    token: str
    expires_at: str = Field(json_schema_extra={"format": "date-time"})
    share_path: str
    party_id: str


class TimelineEvent(Answer):
    seq: int
    kind: str
    actor: str
    data: dict[str, Any]
    at: str = Field(json_schema_extra={"format": "date-time"})
    hash: str
    prev_hash: str


class Timeline(Answer):
    events: list[TimelineEvent]
