"""Reading contracts: one, the caller's list, the timeline, the PDF and page previews."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tortoise.transactions import in_transaction

from server.domain import clock
from server.domain.documents import CONTRACT
from server.errors import NotFound
from server.models import Contract, ContractEvent, Party, RegistrationUnit
from server.services import timeline
from server.services.contracts.access import expire_if_due, visible_contract
from server.services.contracts.deps import ContractDeps
from server.services.contracts.documents import current_pdf, sale_documents
from server.services.contracts.views import contract_view


async def _house_visible(contract: Contract, parties: list[Party]) -> RegistrationUnit | None:
    """The house shows once a seller takes part; a buyer alone never sees it."""
    if contract.unit_id is None:  # type: ignore[attr-defined]
        return None
    if not any(p.role == "seller" and p.user_id for p in parties):  # type: ignore[attr-defined]
        return None
    return await RegistrationUnit.get_or_none(unit_no=contract.unit_id)  # type: ignore[attr-defined]


async def get(deps: ContractDeps, user_id: str, contract_id: str) -> dict[str, Any]:
    contract, me = await visible_contract(contract_id, user_id)
    if contract.status == "draft" and contract.expires_at and contract.expires_at <= clock.now():
        async with in_transaction():
            locked, _ = await visible_contract(contract_id, user_id, lock=True)
            if await expire_if_due(locked, deps.settings.draft_ttl_days):
                contract = locked
    parties = await Party.filter(contract_id=contract.id).order_by("position")
    unit = await _house_visible(contract, parties)
    return contract_view(contract, parties, unit, me, deps.cipher,
                         deps.settings.public_base_url, await sale_documents(deps, contract))


async def list_mine(deps: ContractDeps, user_id: str) -> list[dict[str, Any]]:
    mine = await Party.filter(user_id=user_id).values_list("contract_id", flat=True)
    out = []
    for contract in await Contract.filter(id__in=list(mine)).order_by("-created_at"):
        parties = await Party.filter(contract_id=contract.id).order_by("position")
        me = next(p for p in parties if p.user_id == user_id)  # type: ignore[attr-defined]
        unit = await _house_visible(contract, parties)
        out.append(contract_view(contract, parties, unit, me, deps.cipher,
                                 deps.settings.public_base_url,
                                 await sale_documents(deps, contract)))
    return out


async def events(deps: ContractDeps, user_id: str, contract_id: str) -> list[dict[str, Any]]:
    contract, _ = await visible_contract(contract_id, user_id)
    rows = await ContractEvent.filter(contract_id=contract.id).order_by("seq")
    return [timeline.event_view(e) for e in rows]


async def document(deps: ContractDeps, user_id: str, contract_id: str,
                   kind: str = CONTRACT) -> tuple[bytes, str]:
    """The current PDF of one document of the sale (the contract by default)."""
    contract, _ = await visible_contract(contract_id, user_id)
    parties = await Party.filter(contract_id=contract.id)
    if await _house_visible(contract, parties) is None:
        raise NotFound("出卖人加入后才能预览合同", code="house_not_linked")
    return await current_pdf(deps, contract, kind)


@dataclass(frozen=True)
class PagePreview:
    png: bytes
    page_count: int  # so a phone knows how many pages to ask for


async def page_png(deps: ContractDeps, user_id: str, contract_id: str, page: int,
                   kind: str = CONTRACT) -> PagePreview:
    from signing.preview import PageOutOfRange, page_count, render_page_png

    pdf, sha = await document(deps, user_id, contract_id, kind)
    count_key = f"page-count:{sha}"
    cached_count = await deps.kv.get(count_key)
    if cached_count is not None:
        count = int(cached_count)
    else:
        count = await deps.pool.run(page_count, pdf)
        await deps.kv.set(count_key, str(count).encode(), ttl=3600)
    key = f"page-png:{sha}:{page}"
    cached = await deps.kv.get(key)
    if cached is not None:
        return PagePreview(cached, count)
    try:
        png = await deps.pool.run(render_page_png, pdf, page, 750)
    except PageOutOfRange:
        raise NotFound("页码超出范围", code="page_not_found") from None
    await deps.kv.set(key, png, ttl=3600)
    return PagePreview(png, count)
