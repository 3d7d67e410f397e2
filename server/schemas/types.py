"""The building blocks of every request model: ids, texts, numbers, with their limits.

Each type carries its limit (length, character class, range) both for the
validator and for the OpenAPI document, so the two cannot disagree. Texts
refuse control characters (NUL included: PostgreSQL cannot store it); pydantic
itself refuses lone surrogates (not encodable as UTF-8).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

# Control characters: C0 (NUL included), DEL and C1. Written as a regex the
# OpenAPI document carries and Python, Rust (pydantic-core) and ECMA-262 all read alike.
NO_CONTROL = r"^[^\u0000-\u001f\u007f-\u009f]*$"
# Free text over several lines (supplementary terms): tab and newlines allowed.
MULTILINE = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"
ID_CHARS = r"^[A-Za-z0-9_-]+$"
TOKEN_CHARS = r"^[A-Za-z0-9_.~+/=-]+$"
DIGITS = r"^[0-9]+$"

# What a client reads when a pattern refuses its value (by pattern).
PATTERN_MESSAGES: dict[str, str] = {
    NO_CONTROL: "不能包含控制字符",
    MULTILINE: "不能包含控制字符",
    ID_CHARS: "只能包含字母、数字、下划线和连字符",
    TOKEN_CHARS: "只能包含字母、数字和 - _ . ~ + / =",
    DIGITS: "只能包含数字0-9",
}

# Fields that take a number or its text: one reason for the field, not one per form.
UNION_MESSAGES: dict[str, str] = {
    "share": "份额应为大于0且不超过100的数（数字或文本），最多四位小数",
    "building_area": "面积应为大于0的数（平方米，数字或文本），最多两位小数",
    "inner_area": "面积应为大于0的数（平方米，数字或文本），最多两位小数",
}


def text(max_length: int, min_length: int = 0, *, multiline: bool = False,
         examples: list[str] | None = None, description: str | None = None) -> object:
    """A string of printable characters, at most ``max_length`` long."""
    return Annotated[
        str,
        StringConstraints(min_length=min_length, max_length=max_length,
                          pattern=MULTILINE if multiline else NO_CONTROL),
        Field(examples=examples, description=description),
    ]


def ident(max_length: int = 32, *, examples: list[str] | None = None,
          description: str | None = None) -> object:
    """An opaque id we issued: ASCII letters, digits, ``_`` and ``-``."""
    return Annotated[str, StringConstraints(min_length=1, max_length=max_length,
                                            pattern=ID_CHARS),
                     Field(examples=examples, description=description)]


def token(max_length: int = 512, *, description: str | None = None) -> object:
    """A bearer secret we issued (URL-safe base64 or a JWT)."""
    return Annotated[str, StringConstraints(min_length=1, max_length=max_length,
                                            pattern=TOKEN_CHARS),
                     Field(description=description)]


def integer(ge: int, le: int, *, examples: list[int] | None = None,
            description: str | None = None) -> object:
    return Annotated[int, Field(ge=ge, le=le, examples=examples, description=description)]


ContractId = ident(32, examples=["3f9a1c2b7d4e5f60"], description="合同编号（系统内部 id）")
PartyId = ident(16, examples=["p1a2b3c4d5e"], description="签约方编号")
FaceVerificationId = ident(32, examples=["fv_0123456789abcdef01234567"],
                           description="人脸核身编号")
FilingNo = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=ID_CHARS),
                     Field(examples=["4212022024000001"], description="备案编号")]
VerifyCode = ident(16, examples=["A7K2M9Q4"], description="二维码中的核验码")
VerifyToken = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=ID_CHARS),
                        Field(description="二维码中的核验令牌 t")]
CertificateNo = text(64, 1, examples=["鄂(2023)咸宁市不动产权第0012345号"],
                     description="不动产权证号")
IdNumber = Annotated[str, StringConstraints(min_length=1, max_length=18, pattern=NO_CONTROL),
                     Field(examples=["42120219750312351X"],
                           description="居民身份证号码（18位，末位可为 X）")]
PersonName = text(30, 1, examples=["王建国"], description="姓名（2至30个汉字，可含间隔号·）")
Phone = Annotated[str, StringConstraints(min_length=1, max_length=11, pattern=NO_CONTROL),
                  Field(examples=["13912345678"], description="11位中国大陆手机号")]
IsoDate = Annotated[str, StringConstraints(min_length=10, max_length=10,
                                           pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"),
                    Field(json_schema_extra={"format": "date"}, examples=["2027-03-01"])]
Fen = integer(0, 10**12, description="金额（分）")
PositiveFen = integer(1, 10**12, description="金额（分）")
# A version number as the database stores it (a signed 64-bit integer).
Version = integer(1, 2**63 - 1, examples=[1], description="合同版本号")
