"""The evidence report (证据报告) of a contract, for its parties and its registry office.

What the database knows is gathered here, identities masked; the CPU pool
reads the signatures from every document's PDF (the contract, the
funds-custody agreement, the transaction notice), renders and seals
(:mod:`signing.evidence_report`). The same facts give the same report: it
is kept by the hash of its content, so asking twice does not sign twice.
Anyone who may not see the contract gets 404, as for the contract itself.
"""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime
from typing import Any

import orjson

from server.domain import clock
from server.domain.contract import status_label
from server.domain.documents import DOCUMENT_TITLES
from server.domain.identity import mask_id_number, mask_name
from server.errors import NotFound
from server.models import (
    Contract,
    ContractEvent,
    FaceVerification,
    Party,
    PropertyCheck,
    RegistrationUnit,
    StoredDocument,
)
from server.services import timeline
from server.services.contracts.access import visible_contract
from server.services.contracts.deps import ContractDeps
from server.services.contracts.documents import current_versions
from signing.document import ROLES, signature_field_name
from signing.evidence_report import (
    ChainCheck,
    DocumentVersion,
    EvidenceReport,
    FaceEvidence,
    HouseCheckEntry,
    Signer,
    TimelineEntry,
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EVENT_KINDS = {
    "created": "创建合同", "edited": "修改合同", "invited": "邀请当事人", "joined": "当事人加入",
    "confirmed": "确认合同", "frozen": "合同定稿", "house_checked": "房屋核验",
    "signed": "当事人签署", "filed": "网签备案", "sealed": "加盖备案印章",
    "archive_renewed": "更新存档时间戳",
    "filing_refused": "备案被拒", "cancelled": "取消合同", "expired": "草稿过期",
    "revocation_requested": "申请撤销备案", "revocation_confirmed": "确认撤销备案",
    "revoked": "备案已撤销", "registration_accepted": "登记受理", "registered": "登记完成",
    "agency_accessed": "部门调取合同数据",
}
_CHECK_PURPOSES = {"check": "房屋查询", "draft": "创建合同", "counter_draft": "窗口代理起草",
                   "freeze": "合同定稿", "filing": "备案"}
_FACE_PURPOSES = {"bind_identity": "实名认证", "sign": "签署合同", "revoke": "撤销备案"}
_STAGES = {"draft": "草稿", "prepared": "定稿（平台认证）", "filed": "备案（加盖印章）"}
_CHAIN_REASONS = {"missing event before": "缺少事件", "prev_hash mismatch": "前一哈希不符",
                  "content altered": "事件内容被修改"}
_SUMMARY_KEYS = {
    "version": "版本", "contract_no": "合同编号", "filing_no": "备案编号",
    "document_sha256": "文件", "face_verification_id": "人脸核身", "provider": "服务商",
    "purpose": "用途", "eligible": "可交易", "data_version": "数据版本", "role": "身份",
    "pades_level": "签名级别", "reason": "原因", "case_no": "受理号", "check_id": "核验编号",
    "filing_authority": "备案机关", "content_hash": "内容哈希", "party_id": "当事人",
    "agency_name": "部门", "agency_kind_label": "部门类别",
}


def _summary(data: dict[str, Any]) -> str:
    """A line of the event's own data: scalars only, long hashes shortened."""
    parts = []
    for key, value in data.items():
        if isinstance(value, bool):
            value = "是" if value else "否"
        if not isinstance(value, (str, int, float)) or key not in _SUMMARY_KEYS:
            continue
        text = str(value)
        if key == "purpose":
            text = _CHECK_PURPOSES.get(text) or _FACE_PURPOSES.get(text) or text
        elif key == "role":
            text = ROLES.get(text, text)
        if len(text) == 64 and all(c in "0123456789abcdef" for c in text):
            text = text[:16] + "…"
        parts.append(f"{_SUMMARY_KEYS[key]}：{text[:64]}")
    return "；".join(parts)


async def _report(deps: ContractDeps, contract: Contract) -> EvidenceReport:
    cipher = deps.cipher
    parties = await Party.filter(contract_id=contract.id).order_by("position")
    by_id = {p.id: p for p in parties}
    by_index = {p.id_index: p for p in parties}

    def who(party: Party) -> str:
        return f"{ROLES.get(party.role, party.role)} {mask_name(party.name)}"

    def actor(value: str) -> str:
        if value == "system":
            return "系统"
        if value.startswith("registry:"):
            return "登记机构"
        if value.startswith("staff:"):
            return "服务网点工作人员 " + value.removeprefix("staff:")
        if value.startswith("agency:"):
            return "共享部门"
        party = by_id.get(value)
        return who(party) if party is not None else value

    events = await ContractEvent.filter(contract_id=contract.id).order_by("seq")
    chain = await timeline.verify_chain(contract.id)
    checks = await PropertyCheck.filter(contract_id=contract.id).order_by("created_at", "id")
    user_ids = [p.user_id for p in parties if p.user_id]  # type: ignore[attr-defined]
    faces = await FaceVerification.filter(contract_id=contract.id).order_by("created_at", "id")
    # how each party's identity was bound: the verification that bound it
    binds = await FaceVerification.filter(user_id__in=user_ids, purpose="bind_identity",
                                          status="passed", consumed_at__isnull=False
                                          ).order_by("created_at", "id")
    documents = await StoredDocument.filter(contract_id=contract.id).order_by("created_at", "id")
    unit = await RegistrationUnit.get_or_none(unit_no=contract.unit_id)  # type: ignore[attr-defined]

    def stage(value: str) -> str:
        if value.startswith("signed:"):
            party = by_id.get(value.removeprefix("signed:"))
            return f"签署（{who(party)}）" if party is not None else "签署"
        return _STAGES.get(value, value)

    def indexes(values: Any) -> tuple[str, ...]:
        return tuple(mask_name(by_index[i].name) if i in by_index else "（非本合同当事人）"
                     for i in values or ())

    return EvidenceReport(
        contract_id=contract.id,
        contract_no=contract.contract_no if contract.frozen_at else None,
        filing_no=contract.filing_no,
        filing_authority=deps.settings.filing_authority_name,
        status_label=status_label(contract.status),
        certificate_no=contract.certificate_no,
        house_location="".join(
            (unit.city, unit.district, unit.community, unit.building, unit.unit, unit.room)
        ) if unit is not None else "",
        current_document_sha256=contract.document_sha256,
        parties=tuple(
            Signer(field_name=signature_field_name(p.id), role=ROLES.get(p.role, p.role),
                   name_masked=mask_name(p.name),
                   id_number_masked=mask_id_number(cipher.decrypt(p.id_number_enc)))
            for p in parties),
        timeline=tuple(
            TimelineEntry(seq=e.seq, at=e.created_at, kind=_EVENT_KINDS.get(e.kind, e.kind),
                          actor=actor(e.actor), summary=_summary(e.data or {}), hash=e.hash,
                          prev_hash=e.prev_hash)
            for e in events),
        chain=ChainCheck(ok=chain.ok, events=chain.events,
                         first_broken_seq=chain.first_broken_seq,
                         reason=_CHAIN_REASONS.get(chain.reason or "", chain.reason)),
        house_checks=tuple(
            HouseCheckEntry(
                check_id=c.id, at=c.created_at, purpose=_CHECK_PURPOSES.get(c.purpose, c.purpose),
                certificate_no=c.inputs.get("certificate_no", c.certificate_no),
                sellers=indexes(c.inputs.get("seller_id_indexes")),
                buyers=indexes(c.inputs.get("buyer_id_indexes")),
                mortgage_lender=c.inputs.get("mortgage_lender"),
                require_all_owners=bool(c.inputs.get("require_all_owners")),
                eligible=c.eligible,
                reasons=tuple(str(r.get("message") or r.get("code")) for r in c.reasons or ()),
                data_version=c.data_version)
            for c in checks),
        face_verifications=tuple(
            FaceEvidence(
                verification_id=f.id, person=mask_name(f.expected_name),
                id_number_masked=mask_id_number(cipher.decrypt(f.expected_id_enc)),
                purpose=_FACE_PURPOSES.get(f.purpose, f.purpose), provider=f.provider,
                started_at=f.created_at, completed_at=f.completed_at, status=f.status,
                reason_code=f.reason_code, answer_sha256=f.answer_sha256)
            for f in [*binds, *faces]),
        documents=tuple(
            DocumentVersion(stage=stage(d.stage), at=d.created_at, size=d.size, sha256=d.sha256,
                            document=DOCUMENT_TITLES.get(d.kind, d.kind))
            for d in documents),
        generated_at=clock.now(),
    )


def _content_key(report: EvidenceReport) -> str:
    facts = dataclasses.asdict(dataclasses.replace(report, generated_at=_EPOCH))
    return hashlib.sha256(orjson.dumps(facts, default=str, option=orjson.OPT_SORT_KEYS)
                          ).hexdigest()


async def _pdf(deps: ContractDeps, contract: Contract) -> tuple[bytes, str]:
    from signing import worker

    report = await _report(deps, contract)
    key = f"evidence-pdf:{contract.id}:{_content_key(report)}"
    cached = await deps.kv.get(key)
    if cached is not None and await deps.files.exists(cached.decode()):
        sha = cached.decode()
        return await deps.files.get(sha), sha
    current = [(DOCUMENT_TITLES.get(kind, kind), await deps.files.get(version.sha256))
               for kind, version in (await current_versions(contract.id)).items()]
    pdf = await deps.sign_in_pool(worker.evidence_report, report, current, deps.fonts_dirs())
    sha = await deps.files.put(pdf)
    await deps.kv.set(key, sha.encode(), ttl=7 * 24 * 3600)
    return pdf, sha


async def for_party(deps: ContractDeps, user_id: str, contract_id: str) -> tuple[bytes, str]:
    """The report for one of the contract's parties (404 for anyone else)."""
    contract, _ = await visible_contract(contract_id, user_id)
    return await _pdf(deps, contract)


async def for_registry(deps: ContractDeps, region_code: str, filing_no: str
                       ) -> tuple[bytes, str]:
    """The report for the registry office of the contract's region (404 for any other)."""
    if not isinstance(filing_no, str) or len(filing_no) > 32:
        raise NotFound()
    contract = await Contract.filter(filing_no=filing_no, region_code=region_code).first()
    if contract is None:
        raise NotFound()
    return await _pdf(deps, contract)
