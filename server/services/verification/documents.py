"""Is this PDF the filed original? If not, what is it?

Each document of a sale (the contract, the funds-custody agreement, the
transaction notice) has its own QR code, so the check is against the
document whose code was scanned; an upload of another document of the same
sale is recognised and named as such, not passed off as this one.

Three independent answers, because each one alone can mislead:

* **identical**: the upload's SHA-256 equals the filed document's. This is
  the answer that matters; the others explain a "no".
* **matches_stage**: the longest of our stored revisions (``prepared``,
  ``signed:<party_id>``, ``filed``) that the upload starts with, byte for
  byte. Signing appends incremental updates, so an earlier revision is a
  prefix of the filed file: a "prepared" upload is the unsigned contract,
  a filed one with bytes after it was changed after filing — whether or not
  the added bytes carry a valid-looking signature of their own.
* **signatures_valid**: every signature in the upload checks out against
  our trust roots (:func:`signing.worker.validate` in the CPU pool). A
  PDF can be valid and still not be ours (another contract), or be ours
  and carry more after it.

The filed document itself (the original or a renewed version: most uploads)
gets its durable report, validated once, ever, usually before anybody asks
(:mod:`.filed_reports`). Any other upload is validated in the pool, its report
cached by the upload's SHA-256: the same bytes give the same answer, and a
bank re-checking the same file costs one hash.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from server.cpu import CpuPool
from server.domain import clock
from server.domain.contract import ARCHIVE_RENEWED_STAGE, FILED_DOCUMENT_STAGES
from server.domain.documents import CONTRACT, DOCUMENT_TITLES
from server.domain.identity import mask_name
from server.errors import ApiError
from server.kv import KeyValueStore
from server.models import Party, StoredDocument
from server.services.verification import filed_reports, reports
from server.services.verification.facts import ROLE_LABELS
from server.services.verification.gate import Gate, VerificationNotFound
from server.services.verification.pdfcheck import prefix_digests

REPORT_CACHE_TTL_S = 3600
# The PDF header may sit anywhere in the first 1024 bytes (ISO 32000-1, 7.5.2 note).
_HEADER_WINDOW = 1024


class InvalidPdf(ApiError):
    status = 400
    code = "invalid_pdf"
    message = "上传的文件不是可识别的 PDF 文件"


class EmptyBody(ApiError):
    status = 400
    code = "empty_body"
    message = "请求体为空，请上传 PDF 文件"


@dataclass(frozen=True)
class _Revision:
    kind: str
    stage: str
    sha256: str
    size: int
    signed_by: dict[str, str] | None

    @property
    def title(self) -> str:
        return DOCUMENT_TITLES.get(self.kind, self.kind)


def looks_like_pdf(data: bytes) -> bool:
    """Cheap first filter on the event loop; the real parse happens in the pool."""
    return b"%PDF-" in data[:_HEADER_WINDOW] and b"%%EOF" in data


async def ensure_document(gate: Gate, kind: str | None) -> None:
    """:class:`VerificationNotFound` unless the sale has the document ``kind``: checked
    before an upload is read, like the code and token."""
    if kind is None or kind == CONTRACT:
        return
    if kind not in DOCUMENT_TITLES or not await StoredDocument.filter(
            contract_id=gate.contract_id, kind=kind).exists():
        raise VerificationNotFound()


async def _revisions(contract_id: str) -> list[_Revision]:
    parties = {p.id: p for p in await Party.filter(contract_id=contract_id)}
    out = []
    for doc in await StoredDocument.filter(contract_id=contract_id).order_by("id"):
        signed_by = None
        if doc.stage.startswith("signed:"):
            party = parties.get(doc.stage.split(":", 1)[1])
            if party is not None:
                signed_by = {"role": party.role,
                             "role_label": ROLE_LABELS.get(party.role, party.role),
                             "name_masked": mask_name(party.name)}
        out.append(_Revision(doc.kind, doc.stage, doc.sha256, doc.size, signed_by))
    return out


async def _validation(kv: KeyValueStore, pool: CpuPool, slots: asyncio.Semaphore,
                      revocations: Any, pdf: bytes, digest: str
                      ) -> tuple[dict[str, Any] | None, datetime]:
    """The masked report of an upload that is none of our filed documents (None: pyHanko
    cannot read the file), and when it was validated.

    Cached masked (the raw report carries the signers' full names, which have no
    business in a shared cache), under the revocations it was computed with: a
    revocation makes every cached answer a miss.
    """
    version = (await revocations.current()).version()
    key = f"verify:pdfcheck:{version}:{digest}"
    cached = await kv.get(key)
    if cached is not None:
        entry = orjson.loads(cached)
        if "at" in entry:
            reports.REPORTS.labels("cached").inc()
            return entry["result"], datetime.fromisoformat(entry["at"])
    at = clock.now()
    result = await reports.validate(pool, pdf, slots)
    await kv.set(key, orjson.dumps({"result": result, "at": at.isoformat()}),
                 ttl=REPORT_CACHE_TTL_S)
    return result, at


def _conclusion(identical: bool, matched: _Revision | None, extra: int,
                signatures_valid: bool, kind: str) -> dict[str, str]:
    """A one-line verdict in Chinese, for the page and for people reading the JSON."""
    title = DOCUMENT_TITLES.get(kind, kind)
    if identical and matched is not None and matched.stage == ARCHIVE_RENEWED_STAGE:
        return {"level": "ok", "text": f"与备案的《{title}》完全一致（逐字节相同）：这是备案原件"
                                       "加盖新的存档时间戳后的版本，签名与内容未变。"}
    if identical:
        return {"level": "ok", "text": f"与备案的《{title}》原件完全一致（逐字节相同）。"}
    if matched is not None and matched.kind != kind:
        if matched.stage in FILED_DOCUMENT_STAGES and not extra:
            return {"level": "warn", "text": f"该文件是本交易备案的《{matched.title}》，"
                                             f"不是本二维码对应的《{title}》；"
                                             "请扫描该文件上的二维码核验。"}
        return {"level": "bad", "text": f"该文件以本交易的《{matched.title}》为基础，"
                                        f"不是本二维码对应的《{title}》备案原件。"}
    if matched is not None and matched.stage in FILED_DOCUMENT_STAGES:
        return {"level": "bad",
                "text": "该文件以备案原件为基础，但备案后又被追加了内容，不是备案原件。"}
    if matched is not None:
        what = "签约前的待签版本" if matched.stage == "prepared" else "签署过程中的中间版本"
        if extra:
            # Our earlier revision plus bytes we never stored: somebody else's additions.
            return {"level": "bad", "text": f"该文件以本{_noun(kind)}{what}为基础，"
                                            "之后被追加了非本系统的内容，不是备案原件。"}
        return {"level": "warn", "text": f"该文件是本{_noun(kind)}{what}，不是备案原件。"}
    if signatures_valid:
        return {"level": "bad",
                "text": f"该文件的电子签名有效，但与本交易备案的《{title}》不一致。"}
    return {"level": "bad",
            "text": "与备案原件不一致，且文件中的电子签名无效或缺失，文件可能已被篡改。"}


def _noun(kind: str) -> str:
    return "合同" if kind == CONTRACT else f"交易《{DOCUMENT_TITLES.get(kind, kind)}》的"


async def check(kv: KeyValueStore, pool: CpuPool, slots: asyncio.Semaphore,
                revocations: Any, gate: Gate, pdf: bytes, kind: str | None = None
                ) -> dict[str, Any]:
    """The report for ``pdf`` uploaded against the document ``kind`` (the contract by
    default) of the sale behind ``gate``.

    :raises VerificationNotFound: the sale has no such document.
    :raises EmptyBody: nothing was uploaded.
    :raises InvalidPdf: not a PDF, or one that cannot be parsed and shares
        no stored revision (a broken file that extends ours still gets a
        report: what it extends is the interesting part).
    """
    kind = kind or CONTRACT
    revisions = await _revisions(gate.contract_id)
    if not any(r.kind == kind for r in revisions):
        raise VerificationNotFound()
    if not pdf:
        raise EmptyBody()
    if not looks_like_pdf(pdf):
        raise InvalidPdf(details={"reason": "no_pdf_header_or_trailer"})
    # One pass: the whole upload's digest is its longest prefix.
    prefixes = await asyncio.to_thread(prefix_digests, pdf,
                                       [*(r.size for r in revisions), len(pdf)])
    uploaded_sha = prefixes[len(pdf)]
    matched = None
    for rev in revisions:  # oldest first: the last match is the longest
        if prefixes.get(rev.size) == rev.sha256 and (matched is None or rev.size >= matched.size):
            matched = rev
    # the original and every renewal of its archive timestamp are the filed document
    genuine = [r for r in revisions if r.kind == kind and r.stage in FILED_DOCUMENT_STAGES]
    filed = genuine[-1] if genuine else None
    identical = any(uploaded_sha == r.sha256 for r in genuine)
    if identical:
        # the filed bytes themselves: their durable report (see filed_reports)
        validation, validated_at = await filed_reports.report_for(
            kv, pool, revocations, pdf, uploaded_sha, slots)
    else:
        validation, validated_at = await _validation(kv, pool, slots, revocations, pdf,
                                                     uploaded_sha)
    if validation is None and matched is None:
        raise InvalidPdf(details={"reason": "unreadable"})
    signatures = validation["signatures"] if validation else []
    checked_by = validation.get("checked_by", []) if validation else []
    signatures_valid = bool(validation and validation["valid"])
    extra = len(pdf) - matched.size if matched is not None else 0
    return {
        "document_kind": kind,
        "identical": identical,
        "matches_stage": matched.stage if matched else None,
        "matched_revision": None if matched is None else {
            "kind": matched.kind, "stage": matched.stage, "sha256": matched.sha256,
            "size": matched.size, "signed_by": matched.signed_by},
        "bytes_after_match": extra,
        "added_after_filing": bool(matched is not None and matched.kind == kind
                                   and matched.stage in FILED_DOCUMENT_STAGES and extra),
        "readable": validation is not None,
        "signatures_valid": signatures_valid,
        "signatures": signatures,
        "checked_by": checked_by,
        "signatures_checked_at": clock.rfc3339(validated_at),
        "filed_sha256": filed.sha256 if filed else None,
        "uploaded_sha256": uploaded_sha,
        "uploaded_size": len(pdf),
        "status": gate.status,
        "conclusion": _conclusion(identical, matched, extra, signatures_valid, kind),
    }
