"""The masked facts of a verifiable contract, and their cache.

What the page shows is decided here, once, for the HTML page and the JSON
API alike: status and its times, numbers, the house down to the building,
masked names with roles and signing times, the filed documents' SHA-256.

A sale has several documents (the contract, the funds-custody agreement, the
transaction notice), each with its own QR code: the sale's code and token,
and the document's kind (``d``). The facts are those of the sale, cached
once for all its documents; :func:`for_document` points ``document`` at the
one the QR code was on (404 for a kind the sale has not).
No ID number or phone number is ever read: the party rows' encrypted
columns are not decrypted at all.

The facts are cached under :func:`verification_cache.facts_key` for
``verify_cache_ttl_s``. The contract code drops the entry on every status
change (``forget_facts``); on top of that every entry carries the row's
stamp (status, filing state, ``updated_at``) from the lookup the gate does
anyway, so an entry written by a request that raced a change, or kept by
another worker's in-process store, is never served after the change.
In front of this cache sit each worker's ready answers for callers with
the right token (:mod:`.answers`), which the same status changes drop.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import orjson

from server.config import Settings
from server.domain import clock
from server.domain.contract import FILED_DOCUMENT_STAGES, FILED_STAGE, status_label
from server.domain.documents import CONTRACT, DOCUMENT_TITLES, in_order
from server.domain.identity import mask_name
from server.kv import KeyValueStore
from server.models import Contract, Party, RegistrationUnit, StoredDocument
from server.services.verification.gate import Gate, VerificationNotFound
from server.services.verification_cache import facts_key

log = logging.getLogger("server.verification")

ROLE_LABELS = {"seller": "出卖人", "buyer": "买受人", "agent": "代理人"}

# Why the page exists and where its word ends: shown on the page, returned by the API.
PROVES = (
    "该合同已在网签备案系统中签订并备案，当前备案状态如上所示",
    "签约各方均经实名认证和人脸核验后亲自完成电子签名",
    "备案的合同文件以上述 SHA-256 指纹为准，文件的任何改动都会使指纹或电子签名校验失败",
)
DOES_NOT_PROVE = (
    "购房款、定金已经支付，或贷款已经获批",
    "房屋已经交付",
    "产权已经转移（以不动产登记机构的登记结果为准）",
    "合同约定以外的任何事项",
)
PRIVACY = "为保护个人信息，姓名和房号已部分隐去，本页面不显示身份证号和手机号。"
NOTICE = ("本页面可以证明：" + "；".join(PROVES) + "。本页面不能证明：" + "；".join(DOES_NOT_PROVE)
          + "。" + PRIVACY)

SEALING_NOTE = "备案已完成，备案机构电子签章正在加盖中，备案文件指纹将在签章完成后显示。"


def mask_room(room: str) -> str:
    """``1202室`` → ``****室``: always four stars, so the mask does not tell the floor count."""
    suffix = "室" if room.endswith("室") else ""
    return "****" + suffix


def location_masked(unit: RegistrationUnit) -> str:
    """咸宁市咸安区温泉花园3栋 2单元 ****室: the building is public, the door is not."""
    head = f"{unit.city}{unit.district}{unit.community}{unit.building}"
    return " ".join(part for part in (head, unit.unit, mask_room(unit.room)) if part)


def _time(value: datetime | None) -> str | None:
    return clock.rfc3339(value)


def document_facts(kind: str, filed_doc: StoredDocument | None,
                   latest_doc: StoredDocument | None = None) -> dict[str, Any]:
    """One document's public facts: its newest filed version's SHA-256 and size, and when
    it was sealed (nothing while the seal is applied)."""
    latest_doc = latest_doc or filed_doc
    return {"kind": kind, "title": DOCUMENT_TITLES.get(kind, kind),
            "sha256": latest_doc.sha256 if latest_doc is not None else None,
            "size": latest_doc.size if latest_doc is not None else None,
            "sealed_at": _time(filed_doc.created_at) if filed_doc else None}


def build(contract: Contract, parties: list[Party], unit: RegistrationUnit | None,
          filed_doc: StoredDocument | None, authority: str,
          latest_doc: StoredDocument | None = None,
          others: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The public facts of one contract, JSON-ready (times RFC 3339, +08:00).

    ``latest_doc``: the newest version of the filed contract (a renewal of its
    archive timestamp), when there is one; ``filed_doc`` the sealed original;
    ``others``: :func:`document_facts` of the sale's other documents.
    """
    sealing = contract.filing_state == "sealing"
    signatures: list[dict[str, Any]] = [
        {"kind": "party", "role": p.role, "role_label": ROLE_LABELS.get(p.role, p.role),
         "signer_masked": mask_name(p.name), "signed_at": _time(p.signed_at)}
        for p in parties if p.signed_at is not None
    ]
    if filed_doc is not None:
        signatures.append({"kind": "seal", "role": "filing_authority",
                           "role_label": "备案机构", "signer_masked": authority,
                           "signed_at": _time(filed_doc.created_at)})
    contract_doc = document_facts(CONTRACT, filed_doc, latest_doc)
    return {
        "code": contract.verify_code,
        "status": contract.status,
        "status_label": status_label(contract.status),
        "sealing": sealing,
        "note": SEALING_NOTE if sealing else None,
        "times": {
            "filed_at": _time(contract.filed_at),
            "registration_accepted_at": _time(contract.accepted_at),
            "registered_at": _time(contract.registered_at),
            "revoked_at": _time(contract.revoked_at),
        },
        "filing_no": contract.filing_no,
        "filed_at": _time(contract.filed_at),
        "contract_no": contract.contract_no,
        "filing_authority": authority,
        "house": None if unit is None else {
            "city": unit.city, "district": unit.district, "community": unit.community,
            "building": unit.building, "unit": unit.unit, "room_masked": mask_room(unit.room),
            "location_masked": location_masked(unit),
        },
        "parties": [
            {"role": p.role, "role_label": ROLE_LABELS.get(p.role, p.role),
             "name_masked": mask_name(p.name), "signed": p.signed_at is not None,
             "signed_at": _time(p.signed_at)}
            for p in parties
        ],
        "signatures": signatures,
        # the document this QR code is on (the contract's; see for_document)
        "document": contract_doc,
        "documents": [contract_doc, *(others or [])],
        "notice": NOTICE,
    }


def for_document(facts: dict[str, Any], kind: str | None) -> dict[str, Any]:
    """The facts as seen from the QR code of the sale's document ``kind``
    (:class:`VerificationNotFound` for a kind the sale has not, or no such kind)."""
    if kind is None or kind == CONTRACT:
        return facts
    doc = next((d for d in facts.get("documents", ()) if d["kind"] == kind), None)
    if doc is None:
        raise VerificationNotFound()
    return {**facts, "document": doc}


async def _load(gate: Gate, authority: str) -> dict[str, Any]:
    contract = await Contract.get(id=gate.contract_id)
    parties = await Party.filter(contract_id=contract.id).order_by("position")
    unit = await RegistrationUnit.get_or_none(unit_no=contract.unit_id)  # type: ignore[attr-defined]
    rows = await StoredDocument.filter(contract_id=contract.id).order_by("id")
    by_kind: dict[str, list[StoredDocument]] = {}
    for row in rows:
        by_kind.setdefault(row.kind, []).append(row)

    def filed(kind: str) -> tuple[StoredDocument | None, StoredDocument | None]:
        versions = [d for d in by_kind.get(kind, ()) if d.stage in FILED_DOCUMENT_STAGES]
        original = next((d for d in versions if d.stage == FILED_STAGE), None)
        return original, versions[-1] if versions else None

    others = [document_facts(kind, *filed(kind)) for kind in in_order(by_kind)
              if kind != CONTRACT]
    original, latest = filed(CONTRACT)
    return build(contract, parties, unit, original, authority, latest, others)


async def load(kv: KeyValueStore, settings: Settings, gate: Gate) -> dict[str, Any]:
    """The facts of the contract behind ``gate``, from the cache when it is current."""
    ttl = settings.verify_cache_ttl_s
    key = facts_key(gate.code)
    if ttl > 0:
        cached = await kv.get(key)
        if cached is not None:
            try:
                entry = orjson.loads(cached)
                if entry.get("stamp") == gate.stamp:
                    return entry["facts"]
            except (orjson.JSONDecodeError, AttributeError, KeyError):
                log.warning("unreadable verification cache entry dropped")
    facts = await _load(gate, settings.filing_authority_name)
    if ttl > 0:
        await kv.set(key, orjson.dumps({"stamp": gate.stamp, "facts": facts}), ttl=ttl)
    return facts
