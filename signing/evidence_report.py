"""The evidence report (证据报告) of a contract: what happened, proven, on a sealed PDF.

The report lists the hash-chained timeline and its check, every house
check, every face verification's evidence (never an image), every signature
and timestamp found in the PDFs themselves (every document of the sale: the
contract, the funds-custody agreement, the transaction notice), and every
stored version of every document by SHA-256. It is rendered with typst (PDF/A-2b, like the
contract) and certified by the platform, with validation data and a
document timestamp (PAdES B-LTA), so it can be checked without us.

The service gathers what the database knows into an :class:`EvidenceReport`
(masked identities only); :func:`build_report` runs in the CPU pool: it
reads the signatures out of the documents' PDFs, renders and seals.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from io import BytesIO
from pathlib import Path
from typing import Any

from asn1crypto import cms
from pyhanko.pdf_utils.reader import PdfFileReader

from signing import electronic_seal
from signing.document import CERTIFICATION_FIELD_NAME, CONTRACT, DOCUMENT_TITLES, SEAL_FIELD_NAME
from signing.gm import ses
from signing.gm.sm2 import library_version
from signing.gm.verify import is_sm2_signed
from signing.pades import ARCHIVE_TIMESTAMP_PREFIX, seal_report
from signing.pki import Pki
from signing.render import template_renderer
from signing.validation import ValidationReport, signature_algorithm, validate_document

__all__ = [
    "ChainCheck",
    "DocumentVersion",
    "EvidenceReport",
    "FaceEvidence",
    "HouseCheckEntry",
    "SignatureEntry",
    "Signer",
    "TimelineEntry",
    "build_report",
    "render_report",
    "signatures_in",
]

TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "evidence" / "report.typ"
REPORT_TITLE = "电子签约证据报告"
CONTRACT_TITLE = DOCUMENT_TITLES[CONTRACT]
_CST = timezone(timedelta(hours=8))


@dataclass(frozen=True)
class TimelineEntry:
    seq: int
    at: datetime
    kind: str
    actor: str  # already a display label: 系统, 出卖人 张*三, 登记机构
    summary: str
    hash: str
    prev_hash: str


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    events: int
    first_broken_seq: int | None = None
    reason: str | None = None


@dataclass(frozen=True)
class HouseCheckEntry:
    check_id: str
    at: datetime
    purpose: str
    certificate_no: str
    sellers: tuple[str, ...]  # masked names (or "未知" for an index no party has)
    buyers: tuple[str, ...]
    mortgage_lender: str | None
    require_all_owners: bool
    eligible: bool
    reasons: tuple[str, ...]
    data_version: str


@dataclass(frozen=True)
class FaceEvidence:
    verification_id: str
    person: str  # masked name
    id_number_masked: str
    purpose: str
    provider: str
    started_at: datetime
    completed_at: datetime | None
    status: str
    reason_code: str | None
    answer_sha256: str | None


@dataclass(frozen=True)
class DocumentVersion:
    stage: str
    at: datetime
    size: int
    sha256: str
    document: str = CONTRACT_TITLE  # which document of the sale (its title)


@dataclass(frozen=True)
class Signer:
    """A party as the report names it: masked, with the signature field it signs in."""

    field_name: str
    role: str
    name_masked: str
    id_number_masked: str


@dataclass(frozen=True)
class SignatureEntry:
    field_name: str
    kind: str  # certification | party | seal | archive_timestamp
    signer: str
    certificate_serial: str  # hex
    issuer: str
    signing_time: datetime | None  # the signer's claim (/M); None for a document timestamp
    timestamp_time: datetime | None
    timestamp_authority: str | None
    document: str = CONTRACT_TITLE  # the document of the sale it is in (its title)
    algorithm: str = ""  # SM2/SM3, ECDSA/SHA-256
    check: str | None = None  # the platform's own check, when the report carries one (SM2)


@dataclass(frozen=True)
class EvidenceReport:
    contract_id: str
    contract_no: str | None
    filing_no: str | None
    filing_authority: str
    status_label: str
    certificate_no: str
    house_location: str
    current_document_sha256: str | None
    parties: tuple[Signer, ...]
    timeline: tuple[TimelineEntry, ...]
    chain: ChainCheck
    house_checks: tuple[HouseCheckEntry, ...]
    face_verifications: tuple[FaceEvidence, ...]
    documents: tuple[DocumentVersion, ...]
    generated_at: datetime
    platform_name: str = "二手房网签备案平台"


# -- signatures, read from the PDF --------------------------------------------------------------


def _tst_info(signed_data: cms.SignedData) -> Any:
    return signed_data["encap_content_info"]["content"].parsed


def _signer_cert(signed_data: cms.SignedData) -> Any:
    sid = signed_data["signer_infos"][0]["sid"].chosen
    for choice in signed_data["certificates"] or ():
        cert = choice.chosen
        if cert.serial_number == sid["serial_number"].native and cert.issuer == sid["issuer"]:
            return cert
    return None


def _common_name(name: Any) -> str:
    native = name.native
    return str(native.get("common_name") or native.get("organization_name") or "")


def _check_text(validation: ValidationReport | None, field_name: str) -> str | None:
    if validation is None:
        return None
    found = next((s for s in validation.signatures if s.field_name == field_name), None)
    if found is None:
        return None
    verdict = "通过" if found.ok else f"未通过（{found.indication}）"
    if found.algorithm == "SM2/SM3":
        return (f"{verdict}：SM2 签名、证书链、OCSP 与 CRL 由 {library_version()} 验证，"
                "PDF 修改检测由 pyHanko 完成（pyHanko 不支持 SM2）")
    return f"{verdict}：{found.checked_by}"


def signatures_in(pdf: bytes, parties: tuple[Signer, ...], document: str = CONTRACT_TITLE,
                  validation: ValidationReport | None = None) -> list[SignatureEntry]:
    """Every signature and document timestamp of ``pdf`` (the sale's ``document``),
    oldest first; with each one's result from ``validation`` when given."""
    by_field = {p.field_name: p for p in parties}
    reader = PdfFileReader(BytesIO(pdf), strict=False)
    out: list[tuple[int, SignatureEntry]] = [
        (seal.signed_revision, _seal_entry(seal, validation, document))
        for seal in electronic_seal.embedded_seals(reader, pdf)]
    for sig in reader.embedded_signatures:
        name = sig.field_name
        cert = sig.signer_cert
        is_doc_ts = sig.sig_object.get("/Type") == "/DocTimeStamp"
        if is_doc_ts:
            kind = "archive_timestamp"
            token = sig.signed_data
        else:
            kind = ("certification" if name == CERTIFICATION_FIELD_NAME else
                    "seal" if name == SEAL_FIELD_NAME else "party")
            token = None
            for attr in sig.signer_info["unsigned_attrs"] or ():
                if attr["type"].native == "signature_time_stamp_token":
                    token = attr["values"][0]["content"]
        if name.startswith(ARCHIVE_TIMESTAMP_PREFIX):
            kind = "archive_timestamp"
        party = by_field.get(name)
        if party is not None:
            signer = f"{party.role} {party.name_masked}（{party.id_number_masked}）"
        else:
            signer = _common_name(cert.subject)
        ts_cert = _signer_cert(token) if token is not None else None
        out.append((sig.signed_revision, SignatureEntry(
            field_name=name,
            kind=kind,
            signer=signer,
            certificate_serial=f"{cert.serial_number:X}",
            issuer=_common_name(cert.issuer),
            signing_time=None if is_doc_ts else sig.self_reported_timestamp,
            timestamp_time=_tst_info(token)["gen_time"].native if token is not None else None,
            timestamp_authority=_common_name(ts_cert.subject) if ts_cert is not None else None,
            document=document,
            algorithm=signature_algorithm(sig.signed_data),
            check=_check_text(validation, name),
        )))
    return [entry for _, entry in sorted(out, key=lambda item: item[0])]


def _seal_entry(seal: electronic_seal.EmbeddedSeal, validation: ValidationReport | None,
                document: str = CONTRACT_TITLE) -> SignatureEntry:
    """A GB/T 38540 seal (SM2 suite), read from its SES_Signature."""
    doc = ses.parse_signature(seal.contents)
    token = (cms.ContentInfo.load(doc.timestamp_token)["content"]
             if doc.timestamp_token is not None else None)
    ts_cert = _signer_cert(token) if token is not None else None
    return SignatureEntry(
        field_name=seal.field_name,
        kind="seal",
        signer=f"{_common_name(doc.signer_cert.subject)}（GB/T 38540 电子印章，"
               f"制章者 {_common_name(doc.maker_cert.subject)}）",
        certificate_serial=f"{doc.signer_cert.serial_number:X}",
        issuer=_common_name(doc.signer_cert.issuer),
        signing_time=doc.signed_at,
        timestamp_time=_tst_info(token)["gen_time"].native if token is not None else None,
        timestamp_authority=_common_name(ts_cert.subject) if ts_cert is not None else None,
        algorithm="SM2/SM3",
        check=_check_text(validation, seal.field_name),
        document=document,
    )


def platform_check(pdf: bytes, pki: Pki) -> ValidationReport | None:
    """The platform's own validation of an SM2 contract, for the report to carry.

    PAdES readers cannot check SM2, so the report states the result and who
    checked (:mod:`signing.gm.verify`, OpenSSL 3). ECDSA contracts carry none:
    any PAdES reader checks those itself.
    """
    reader = PdfFileReader(BytesIO(pdf), strict=False)
    if not any(is_sm2_signed(sig.signed_data) for sig in reader.embedded_signatures):
        return None
    return validate_document(pdf, pki.validation_roots())


# -- rendering -----------------------------------------------------------------------------------


def _time(value: datetime | None) -> str:
    if value is None:
        return "—"
    return value.astimezone(_CST).strftime("%Y-%m-%d %H:%M:%S")


_KINDS = {"certification": "平台认证签名", "party": "当事人签名", "seal": "备案电子印章",
          "archive_timestamp": "文档时间戳（归档）"}
_STATUS = {"passed": "通过", "failed": "未通过", "pending": "未完成"}


_VERIFY_PADES = ("本报告为 PDF/A-2b 文件，带有平台的认证签名、可信时间戳及长期验证数据"
                 "（PAdES B-LTA），可使用任意支持 PAdES 的软件离线验证。")
_VERIFY_SM2 = ("本报告为 PDF/A-2b 文件，带有平台的国密（SM2/SM3）认证签名、可信时间戳及"
               "长期验证数据（PAdES B-LTA 结构）；Adobe 等 PAdES 阅读器不支持 SM2，"
               "请用 OpenSSL 3 离线验证（见第4条）。")


def template_data(report: EvidenceReport, signatures: list[SignatureEntry],
                  families: dict[str, list[str]], *, sm2: bool = False) -> dict[str, Any]:
    """Every string the template prints (the template only lays out)."""
    chain = report.chain
    if chain.ok:
        chain_text = (f"校验通过：共 {chain.events} 个事件，"
                      "每个事件的哈希均与其内容及前一事件哈希一致。")
    else:
        chain_text = (f"校验未通过：自第 {chain.first_broken_seq} 个事件起哈希链断裂"
                      f"（{chain.reason}）。")
    return {
        "fonts": families,
        "title": REPORT_TITLE,
        "platform": report.platform_name,
        "sm2": sm2,
        "verify_self": _VERIFY_SM2 if sm2 else _VERIFY_PADES,
        "summary": [
            ["合同编号", report.contract_no or "（未编号）"],
            ["备案编号", report.filing_no or "（未备案）"],
            ["备案机关", report.filing_authority],
            ["合同状态", report.status_label],
            ["不动产权证号", report.certificate_no],
            ["房屋坐落", report.house_location or "—"],
            ["当前合同文件 SHA-256", report.current_document_sha256 or "—"],
            *([f"当前{title} SHA-256", sha] for title, sha in _current(report)
              if title != CONTRACT_TITLE),
            ["报告生成时间", _time(report.generated_at) + "（北京时间）"],
        ],
        "parties": [[p.role, p.name_masked, p.id_number_masked] for p in report.parties],
        "chain_ok": chain.ok,
        "chain_text": chain_text,
        "timeline": [
            {"seq": str(e.seq), "at": _time(e.at), "kind": e.kind, "actor": e.actor,
             "summary": e.summary, "hash": e.hash}
            for e in report.timeline
        ],
        "house_checks": [
            {"at": _time(c.at), "purpose": c.purpose, "check_id": c.check_id,
             "inputs": [
                 ["不动产权证号", c.certificate_no],
                 ["出卖人", "、".join(c.sellers) or "—"],
                 ["买受人", "、".join(c.buyers) or "—"],
                 ["抵押权人（带押过户）", c.mortgage_lender or "—"],
                 ["须全体共有人参与", "是" if c.require_all_owners else "否"],
             ],
             "outcome": "可以交易" if c.eligible else "不可交易",
             "reasons": "；".join(c.reasons) or "—",
             "data_version": c.data_version}
            for c in report.house_checks
        ],
        "faces": [
            {"id": f.verification_id, "person": f"{f.person}（{f.id_number_masked}）",
             "purpose": f.purpose, "provider": f.provider, "started": _time(f.started_at),
             "completed": _time(f.completed_at),
             "result": _STATUS.get(f.status, f.status)
             + (f"（{f.reason_code}）" if f.reason_code and f.status != "passed" else ""),
             "answer": f.answer_sha256 or "—"}
            for f in report.face_verifications
        ],
        "signatures": [
            {"document": s.document, "field": s.field_name, "kind": _KINDS.get(s.kind, s.kind),
             "signer": s.signer,
             "serial": s.certificate_serial, "issuer": s.issuer,
             "signed": _time(s.signing_time), "timestamp": _time(s.timestamp_time),
             "tsa": s.timestamp_authority or "—", "algorithm": s.algorithm or "—",
             "check": s.check}
            for s in signatures
        ],
        "documents": [
            {"document": d.document, "stage": d.stage, "at": _time(d.at), "size": f"{d.size:,}",
             "sha256": d.sha256}
            for d in report.documents
        ],
    }


def _current(report: EvidenceReport) -> list[tuple[str, str]]:
    """(title, SHA-256) of each document's newest version, in the order they appear."""
    newest: dict[str, str] = {}
    for version in report.documents:
        newest[version.document] = version.sha256
    return list(newest.items())


def render_report(report: EvidenceReport, pdfs: Sequence[tuple[str, bytes]] | None,
                  font_dirs: list[str] | None = None, *,
                  validations: dict[str, ValidationReport | None] | None = None,
                  sm2: bool = False) -> bytes:
    """The unsigned report PDF (PDF/A-2b); ``pdfs``: the current PDF of each document of
    the sale, with its title, whose signatures the report lists; ``validations``: the
    platform's own check of each (SM2 documents); ``sm2``: the report itself is
    SM2-signed."""
    validations = validations or {}
    signatures = [entry for title, pdf in pdfs or ()
                  for entry in signatures_in(pdf, report.parties, title,
                                             validations.get(title))]
    renderer = template_renderer(TEMPLATE, font_dirs)
    data = template_data(report, signatures, renderer.families,
                         sm2=sm2 or any(s.algorithm == "SM2/SM3" for s in signatures))
    return renderer.compile({"data": json.dumps(data, ensure_ascii=False)},
                            report.generated_at.astimezone(UTC).replace(microsecond=0))


def build_report(report: EvidenceReport, pdfs: Sequence[tuple[str, bytes]] | None,
                 font_dirs: list[str] | None, *, pki: Pki) -> bytes:
    """Render and seal: the finished evidence report (PAdES B-LTA)."""
    validations = {title: platform_check(pdf, pki) for title, pdf in pdfs or ()}
    rendered = render_report(report, pdfs, font_dirs, validations=validations,
                             sm2=pki.suite.is_sm2)
    return seal_report(rendered, pki=pki, reason=f"{report.platform_name}出具{REPORT_TITLE}")
