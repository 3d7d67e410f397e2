"""Announcing contract events to registration offices: the feed and the webhook outbox.

:func:`announce` is called inside the transaction that changes the contract,
so the feed entry and the webhook rows commit with it or not at all (a
transactional outbox: nothing is lost on a crash, nothing is announced that
did not happen). Feed positions come from a gap-free counter locked in that
transaction, so positions become visible in order: a reader that resumes
after position N never misses a later commit with a smaller number.
"""

from __future__ import annotations

from server.domain import clock
from server.domain.documents import in_order
from server.models import Contract, FeedEntry, StoredDocument, WebhookDelivery, WebhookEndpoint
from server.services import sequences
from server.services.standard_webhooks import envelope

# feed event -> webhook ``type`` (the README's event catalogue lists them)
WEBHOOK_TYPES = {
    "filed": "contract.filed",
    "accepted": "contract.accepted",
    "registered": "contract.registered",
    "revoked": "contract.revoked",
    "document_renewed": "contract.document_renewed",
}


async def announce(contract: Contract, event: str) -> FeedEntry:
    position = await sequences.next_value("feed")
    entry = await FeedEntry.create(position=position, region_code=contract.region_code,
                                   event=event, filing_no=contract.filing_no or "",
                                   contract_id=contract.id)
    # every document of the sale (fetch each from the registry API, ?kind=)
    kinds = in_order(await StoredDocument.filter(contract_id=contract.id).distinct()
                     .values_list("kind", flat=True))
    payload = envelope(WEBHOOK_TYPES[event], clock.now(), {
        "filing_no": contract.filing_no, "position": position,
        "region_code": contract.region_code, "status": contract.status, "documents": kinds})
    for endpoint in await WebhookEndpoint.filter(region_code=contract.region_code, active=True):
        await WebhookDelivery.create(endpoint=endpoint, event=event, payload=payload,
                                     next_attempt_at=clock.now())
    return entry
