"""The sale's PDFs: built from the stored contract, rendered in the CPU pool, kept by hash.

A sale carries several documents (:mod:`server.domain.documents`), all rendered
from the same frozen contract, each with its own verification URL; every stored
version says which document it is (``StoredDocument.kind``), and the newest
version of a kind is that document's current PDF.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from server.domain import clock
from server.domain.contract import Status
from server.domain.documents import CONTRACT, in_order, kinds_for
from server.errors import NotFound
from server.models import Contract, Party, RegistrationUnit, StoredDocument
from server.services.contracts.deps import ContractDeps
from server.services.contracts.views import documents_view, verification_url
from signing.document import (
    ContractDocument,
    DisputeResolution,
    House,
    Installment,
    Location,
    MortgageTransfer,
    Terms,
)
from signing.document import Party as DocParty


def _terms(t: dict[str, Any]) -> Terms:
    mt = t.get("mortgage_transfer")
    return Terms(
        price_fen=t["price_fen"],
        payment_method=t["payment_method"],
        payment_schedule=tuple(Installment(date.fromisoformat(i["due_date"]), i["amount_fen"],
                                           i["description"]) for i in t["payment_schedule"]),
        deposit_fen=t["deposit_fen"],
        funds_custody=t["funds_custody"],
        custody_bank=t.get("custody_bank"),
        delivery_date=date.fromisoformat(t["delivery_date"]),
        taxes_borne_by=t["taxes_borne_by"],
        mortgage_transfer=MortgageTransfer(mt["lender"], mt["outstanding_fen"]) if mt else None,
        late_payment_daily_permyriad=t["late_payment_daily_permyriad"],
        termination_after_days=t["termination_after_days"],
        registration_within_days=t["registration_within_days"],
        dispute_resolution=DisputeResolution(t["dispute_resolution"]["method"],
                                             t["dispute_resolution"]["institution"]),
        supplementary_terms=t.get("supplementary_terms", ""),
    )


def _house(unit: RegistrationUnit) -> House:
    return House(
        unit_no=unit.unit_no, house_no=unit.house_no, certificate_no=unit.certificate_no,
        location=Location(unit.city, unit.district, unit.community, unit.building, unit.unit,
                          unit.room),
        building_area=float(unit.building_area), inner_area=float(unit.inner_area),
        structure=unit.structure, planned_use=unit.planned_use,
        ownership_kind=unit.ownership_kind, floor=unit.floor, total_floors=unit.total_floors,
    )


async def build_document(deps: ContractDeps, contract: Contract, *, draft: bool,
                         kind: str = CONTRACT) -> ContractDocument:
    """Everything the renderer needs, decrypted: the contract is a private document.

    ``kind`` only chooses the verification URL printed in the QR code: every
    document of the sale is rendered from the same data.
    """
    parties = await Party.filter(contract_id=contract.id).order_by("position")
    unit = await RegistrationUnit.get_or_none(unit_no=contract.unit_id)  # type: ignore[attr-defined]
    if unit is None:
        raise NotFound("房屋信息尚未关联（等待出卖人加入）", code="house_not_linked")
    cipher = deps.cipher
    doc_parties = tuple(
        DocParty(party_id=p.id, role=p.role, name=p.name,
                 id_number=cipher.decrypt(p.id_number_enc),
                 phone=cipher.decrypt(p.phone_enc, "phone"), address=p.address,
                 share_percent=float(p.share) if p.share is not None else None)
        for p in parties)
    issued = (contract.frozen_at or clock.now()).astimezone(clock.CST).date()
    return ContractDocument(
        contract_no="" if draft else (contract.contract_no or ""),
        verification_url="" if draft else (
            verification_url(deps.settings.public_base_url, contract, kind) or ""),
        issued_on=issued, parties=doc_parties, house=_house(unit), terms=_terms(contract.terms),
        filing_authority=deps.settings.filing_authority_name, draft=draft,
    )


async def build_documents(deps: ContractDeps, contract: Contract, kinds: Sequence[str], *,
                          draft: bool) -> list[tuple[str, ContractDocument]]:
    """:func:`build_document` for each kind, the data read and decrypted once."""
    base = await build_document(deps, contract, draft=draft)
    return [(kind, base if draft else dataclasses.replace(
        base, verification_url=verification_url(deps.settings.public_base_url, contract, kind)
        or "")) for kind in kinds]


async def put_documents(deps: ContractDeps, pdfs: Sequence[bytes]) -> list[str]:
    """Write PDFs to the document store before the transaction that records them.

    The store is content-addressed and a write is idempotent, so a transaction that
    then rolls back leaves at most unreferenced bytes, never a reference to missing
    ones; and the transaction no longer waits for the writes (each file is fsynced).
    One after the other: the database store writes in the caller's transaction when
    there is one (a freeze that renders again inside its own), and a connection runs
    one statement at a time.
    """
    return [await deps.files.put(pdf) for pdf in pdfs]


async def record_documents(contract: Contract, stage: str, kinds: Iterable[str],
                           digests: Sequence[str], pdfs: Sequence[bytes]) -> dict[str, str]:
    """A stored version of each document of the sale (its bytes already in the store, see
    :func:`put_documents`); the digests by kind."""
    recorded = dict(zip(kinds, digests, strict=True))
    for (kind, digest), pdf in zip(recorded.items(), pdfs, strict=True):
        await StoredDocument.create(contract=contract, stage=stage, kind=kind, sha256=digest,
                                    size=len(pdf))
    return recorded


async def current_versions(contract_id: str, stages: tuple[str, ...] | None = None
                           ) -> dict[str, StoredDocument]:
    """The newest stored version of each document of the sale (among ``stages``, when
    given), in the documents' order; empty before freezing (drafts are not stored)."""
    query = StoredDocument.filter(contract_id=contract_id)
    if stages is not None:
        query = query.filter(stage__in=stages)
    newest: dict[str, StoredDocument] = {}
    for doc in await query.order_by("id"):
        newest[doc.kind] = doc
    return {kind: newest[kind] for kind in in_order(newest)}


async def sale_kinds(contract: Contract) -> list[str]:
    """The documents of the sale: those stored once frozen, those its terms call for before."""
    return list(await current_versions(contract.id)) or list(kinds_for(contract.terms))


async def sale_documents(deps: ContractDeps, contract: Contract) -> list[dict[str, Any]]:
    """The contract view's ``documents[]``."""
    versions = await current_versions(contract.id)
    kinds = list(versions) or list(kinds_for(contract.terms))
    return documents_view(contract, kinds, {k: v.sha256 for k, v in versions.items()},
                          deps.settings.public_base_url)


async def current_pdf(deps: ContractDeps, contract: Contract, kind: str = CONTRACT
                      ) -> tuple[bytes, str]:
    """The latest PDF of one document: a draft preview (rendered on demand, cached by
    content) or the real one. 404 ``document_not_found`` for a document the sale has not."""
    if kind not in await sale_kinds(contract):
        raise NotFound("该交易没有此文件", code="document_not_found",
                       details={"kind": kind})
    if contract.status == Status.DRAFT.value or contract.document_sha256 is None:
        key = f"draft-pdf:{contract.id}:{kind}:{contract.content_hash}"
        cached = await deps.kv.get(key)
        if cached is not None and await deps.files.exists(cached.decode()):
            sha = cached.decode()
            return await deps.files.get(sha), sha
        from signing.render import render_document

        doc = await build_document(deps, contract, draft=True)
        rendered = await deps.pool.run(render_document, kind, doc, deps.fonts_dirs())
        sha = await deps.files.put(rendered.pdf)
        await deps.kv.set(key, sha.encode(), ttl=24 * 3600)
        return rendered.pdf, sha
    if kind == CONTRACT:
        return await deps.files.get(contract.document_sha256), contract.document_sha256
    version = (await current_versions(contract.id))[kind]
    return await deps.files.get(version.sha256), version.sha256
