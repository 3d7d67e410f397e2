"""Announcing contract events to registration offices: the feed and the webhook outbox.

:func:`announce` is called inside the transaction that changes the contract,
so the feed entry and the webhook rows commit with it or not at all (a
transactional outbox: nothing is lost on a crash, nothing is announced that
did not happen). Feed positions come from a gap-free counter locked in that
transaction, so positions become visible in order: a reader that resumes
after position N never misses a later commit with a smaller number.

An agency's endpoint (a tax client's, ``agency_client_id`` set) gets only
:data:`AGENCY_EVENTS`, and only identifiers: it reads the contract's data
through ``GET /agency/v1/contracts/{contract_no}``, where each read is
recorded on the contract's timeline. A filing and a revocation also update the
statistics' read model (:mod:`server.services.filing_facts`) in the same transaction.
"""

from __future__ import annotations

from server.domain import clock
from server.domain.documents import in_order
from server.models import Contract, FeedEntry, StoredDocument, WebhookDelivery, WebhookEndpoint
from server.services import filing_facts, sequences
from server.services.standard_webhooks import envelope

# feed event -> webhook ``type`` (the README's event catalogue lists them)
WEBHOOK_TYPES = {
    "filed": "contract.filed",
    "accepted": "contract.accepted",
    "registered": "contract.registered",
    "revoked": "contract.revoked",
    "document_renewed": "contract.document_renewed",
}
# What an agency's endpoint is told of: a filing, and its revocation.
AGENCY_EVENTS = ("filed", "revoked")


async def announce(contract: Contract, event: str) -> FeedEntry:
    if event == "filed":
        await filing_facts.record_filing(contract)
    elif event == "revoked":
        await filing_facts.record_revocation(contract)
    position = await sequences.next_value("feed")
    entry = await FeedEntry.create(position=position, region_code=contract.region_code,
                                   event=event, filing_no=contract.filing_no or "",
                                   contract_id=contract.id)
    # every document of the sale (fetch each from the registry API, ?kind=)
    kinds = in_order(await StoredDocument.filter(contract_id=contract.id).distinct()
                     .values_list("kind", flat=True))
    now = clock.now()
    payload = envelope(WEBHOOK_TYPES[event], now, {
        "filing_no": contract.filing_no, "position": position,
        "region_code": contract.region_code, "status": contract.status, "documents": kinds})
    agency_payload = envelope(WEBHOOK_TYPES[event], now, {
        "contract_no": contract.contract_no, "filing_no": contract.filing_no,
        "region_code": contract.region_code, "status": contract.status})
    for endpoint in await WebhookEndpoint.filter(region_code=contract.region_code, active=True):
        if endpoint.agency_client_id is None:
            await WebhookDelivery.create(endpoint=endpoint, event=event, payload=payload,
                                         next_attempt_at=now)
        elif event in AGENCY_EVENTS:
            await WebhookDelivery.create(endpoint=endpoint, event=event, payload=agency_payload,
                                         next_attempt_at=now)
    return entry
