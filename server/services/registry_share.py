"""What the registration office pulls: the change feed, the shared data items, the PDFs,
and what it tells us back (acceptance locks the contract; completion ends it).

A sale has several filed documents (the contract, the funds-custody agreement,
the transaction notice); the shared data and every feed item list them all,
each with the registry URL of its PDF.

Every lookup is scoped to the client's region: a filing of another region is
"not found", exactly like one that does not exist.
"""

from __future__ import annotations

from typing import Any

from tortoise.transactions import in_transaction

from server.domain import clock
from server.domain.contract import FILED_DOCUMENT_STAGES, Status, Step, advance
from server.domain.documents import CONTRACT, in_order
from server.errors import Conflict, InvalidInput, NotFound
from server.identity_crypto import IdentityCipher
from server.models import Contract, FeedEntry, Owner, Party, RegistrationUnit, StoredDocument
from server.services import timeline
from server.services.contracts.documents import current_versions
from server.services.contracts.views import document_entry, verification_url
from server.services.outbox import announce

MAX_PAGE = 200


def _ascii_number(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 19


def parse_cursor(cursor: str | None, limit: str | None) -> tuple[int, int]:
    problems = {}
    after = 0
    size = 50
    if cursor:
        # isdigit() alone admits "²" and other non-ASCII digits int() cannot read.
        if not _ascii_number(cursor) or int(cursor) >= 2**63:
            problems["cursor"] = "应为上次返回的 next_cursor"
        else:
            after = int(cursor)
    if limit:
        if not _ascii_number(limit) or not 1 <= int(limit) <= MAX_PAGE:
            problems["limit"] = f"应为1至{MAX_PAGE}"
        else:
            size = int(limit)
    if problems:
        raise InvalidInput(problems)
    return after, size


def document_url(base_url: str, filing_no: str, kind: str) -> str:
    """Where the registry office fetches one filed document of a sale."""
    url = f"{base_url}/registry/v1/contracts/{filing_no}/document.pdf"
    return url if kind == CONTRACT else f"{url}?kind={kind}"


async def feed(region_code: str, after: int, limit: int, base_url: str) -> dict[str, Any]:
    entries = await FeedEntry.filter(region_code=region_code, position__gt=after) \
        .order_by("position").limit(limit)
    kinds: dict[str, set[str]] = {}
    for contract_id, kind in await StoredDocument.filter(
            contract_id__in=list({e.contract_id for e in entries})).distinct() \
            .values_list("contract_id", "kind"):
        kinds.setdefault(contract_id, set()).add(kind)
    items = [{"position": e.position, "event": e.event, "filing_no": e.filing_no,
              "occurred_at": clock.rfc3339(e.created_at),
              "documents": [{"kind": k, "url": document_url(base_url, e.filing_no, k)}
                            for k in in_order(kinds.get(e.contract_id, ()))]}
             for e in entries]
    return {"items": items, "next_cursor": str(entries[-1].position if entries else after)}


async def _filed(region_code: str, filing_no: str, *, lock: bool = False) -> Contract:
    query = Contract.filter(filing_no=filing_no, region_code=region_code)
    if lock:
        query = query.select_for_update()
    contract = await query.first()
    if contract is None:
        raise NotFound()
    return contract


async def _filed_versions(contract: Contract) -> dict[str, StoredDocument]:
    """The newest filed version (the original or its latest renewal) of each document."""
    return await current_versions(contract.id, FILED_DOCUMENT_STAGES)


async def shared_data(cipher: IdentityCipher, region_code: str, filing_no: str,
                      base_url: str) -> dict[str, Any]:
    """The data items of seed 003, ID numbers in full: only for this region's office."""
    contract = await _filed(region_code, filing_no)
    filed = await _filed_versions(contract)
    kinds = list(filed) or list(await current_versions(contract.id))
    unit = await RegistrationUnit.get(unit_no=contract.unit_id)  # type: ignore[attr-defined]
    parties = await Party.filter(contract_id=contract.id).order_by("position")
    owners = await Owner.filter(unit_id=unit.unit_no)

    def person(p: Party) -> dict[str, Any]:
        return {"party_id": p.id, "role": p.role, "name": p.name,
                "id_number": cipher.decrypt(p.id_number_enc),
                "phone": cipher.decrypt(p.phone_enc, "phone"), "address": p.address,
                "share": float(p.share) if p.share is not None else None,
                "signed_at": clock.rfc3339(p.signed_at)}

    signed_times = [p.signed_at for p in parties if p.signed_at]
    return {
        "filing_no": contract.filing_no,
        "contract_no": contract.contract_no,
        "status": contract.status,
        "submitted_at": clock.rfc3339(contract.filed_at),
        "filed_at": clock.rfc3339(contract.filed_at),
        "signing_completed_at": clock.rfc3339(max(signed_times) if signed_times else None),
        "sellers": [person(p) for p in parties if p.role == "seller"],
        "buyers": [person(p) for p in parties if p.role == "buyer"],
        "agents": [person(p) for p in parties if p.role == "agent"],
        "co_owners": [{"name": o.name, "id_number": cipher.decrypt(o.id_number_enc),
                       "share": float(o.share), "kind": o.kind} for o in owners],
        "house": {
            "unit_no": unit.unit_no, "house_no": unit.house_no,
            "original_certificate_no": unit.certificate_no,
            "location": {"city": unit.city, "district": unit.district,
                         "community": unit.community, "building": unit.building,
                         "unit": unit.unit, "room": unit.room},
            "building_area": float(unit.building_area), "inner_area": float(unit.inner_area),
            "structure": unit.structure, "planned_use": unit.planned_use,
        },
        "price_fen": contract.terms["price_fen"],
        "payment_method": contract.terms["payment_method"],
        "funds_custody": contract.terms["funds_custody"],
        "mortgage_transfer": contract.terms.get("mortgage_transfer"),
        "document_sha256": contract.document_sha256,
        "document_ready": contract.filing_state == "done",
        # sha256 null while the seal is applied (document_ready false)
        "documents": [document_entry(kind, filed[kind].sha256 if kind in filed else None,
                                     document_url(base_url, filing_no, kind),
                                     verification_url(base_url, contract, kind))
                      for kind in kinds],
        "registration_case_no": contract.registration_case_no,
        "revoked_at": clock.rfc3339(contract.revoked_at),
    }


async def filed_document(region_code: str, filing_no: str, kind: str = CONTRACT) -> str:
    """The SHA-256 of the newest filed version of one document of the sale (the filed
    original, or its latest archive-timestamp renewal); 404 for a document it has not."""
    contract = await _filed(region_code, filing_no)
    if contract.filing_state != "done":
        raise Conflict("备案文件正在加盖电子印章，请稍后再试", code="document_sealing",
                       headers={"Retry-After": "2"})
    doc = (await _filed_versions(contract)).get(kind)
    if doc is None:
        raise NotFound("该交易没有此文件", code="document_not_found", details={"kind": kind})
    return doc.sha256


async def accept(region_code: str, filing_no: str, client_id: str, case_no: Any
                 ) -> tuple[dict, str | None]:
    """Returns the answer and the verification code whose cached facts are now stale."""
    if not isinstance(case_no, str) or not 1 <= len(case_no) <= 64:
        raise InvalidInput({"case_no": "必填：登记受理号"})
    async with in_transaction():
        contract = await _filed(region_code, filing_no, lock=True)
        if contract.status == Status.REGISTRATION_ACCEPTED.value and \
                contract.registration_case_no == case_no:
            return {"status": contract.status}, None  # a repeat of the same acceptance
        if contract.revocation_requested_at is not None and contract.status == "filed":
            # Acceptance wins over an unfinished revocation: it is cancelled.
            contract.revocation_requested_at = None
            await Party.filter(contract_id=contract.id).update(revocation_confirmed_at=None)
        contract.status = advance(contract.status, Step.ACCEPT_REGISTRATION).value
        contract.registration_case_no = case_no
        contract.accepted_at = clock.now()
        await contract.save(update_fields=["status", "registration_case_no", "accepted_at",
                                           "revocation_requested_at", "updated_at"])
        await RegistrationUnit.filter(unit_no=contract.unit_id).update(  # type: ignore[attr-defined]
            registration_accepted=True)
        await announce(contract, "accepted")
        await timeline.append(contract.id, "registration_accepted", f"registry:{client_id}",
                              {"case_no": case_no})
    return {"status": contract.status}, contract.verify_code


async def complete(region_code: str, filing_no: str, client_id: str
                   ) -> tuple[dict, str | None]:
    async with in_transaction():
        contract = await _filed(region_code, filing_no, lock=True)
        if contract.status == Status.REGISTERED.value:
            return {"status": contract.status}, None
        contract.status = advance(contract.status, Step.COMPLETE_REGISTRATION).value
        contract.registered_at = clock.now()
        contract.active_unit_no = None  # ownership moved: the house may be sold again
        await contract.save(update_fields=["status", "registered_at", "active_unit_no",
                                           "updated_at"])
        await RegistrationUnit.filter(unit_no=contract.unit_id).update(  # type: ignore[attr-defined]
            registration_accepted=False, filed_contract_id=None)
        await announce(contract, "registered")
        await timeline.append(contract.id, "registered", f"registry:{client_id}", {})
    return {"status": contract.status}, contract.verify_code
