"""Archive-timestamp renewal: keeping filed contracts verifiable after their TSA certificate.

A filed PDF is PAdES B-LTA: everything in it is covered by a document
timestamp, and validates offline for as long as that timestamp's TSA
certificate does. Before it expires, a fresh document timestamp (with
current validation data for the previous one) extends the archive's life.

Each renewal is a new stored version of every filed document of the sale
(the contract and the documents filed with it, renewed together, their
archives expiring together): the registry feed announces it
(``document_renewed``), the registry PDF endpoint serves the newest, and the
verification upload check recognises the original and every renewed version
as genuine.

Safe to run anywhere and often (a background task in every worker, the CLI
from cron): a lock per contract keeps two renewers from doing the work
twice, and the version is stored only if the document is still the one the
renewal started from (a conditional update in the same transaction), so a
renewal that lost a race stores nothing and loses nothing. A crash between
the two leaves at most an unreferenced file; the next run starts over.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from server.domain import clock
from server.domain.contract import ARCHIVE_RENEWED_STAGE
from server.domain.documents import CONTRACT
from server.models import Contract, StoredDocument
from server.services import timeline
from server.services.contracts.deps import ContractDeps
from server.services.contracts.documents import current_versions
from server.services.outbox import announce
from server.services.verification import filed_reports
from server.services.verification_cache import forget_facts

log = logging.getLogger("server.archive")

FEED_EVENT = "document_renewed"
_BATCH = 100


@dataclass
class RenewalReport:
    """What one pass did, by contract id."""

    renewed: list[str] = field(default_factory=list)
    not_due: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # contract id -> reason

    def to_dict(self) -> dict[str, object]:
        return {"renewed": self.renewed, "not_due": len(self.not_due), "skipped": self.skipped}


def _due(horizon: datetime) -> Q:
    return Q(archive_expires_at__isnull=True) | Q(archive_expires_at__lte=horizon)


async def renew_due(deps: ContractDeps, within_days: int) -> RenewalReport:
    """Renew every filed document whose newest archive timestamp's TSA certificate
    expires within ``within_days`` (or whose expiry is not known yet)."""
    horizon = clock.now() + timedelta(days=within_days)
    report = RenewalReport()
    seen: set[str] = set()
    while True:
        ids = await (Contract.filter(_due(horizon), filing_state="done",
                                     document_sha256__isnull=False)
                     .exclude(id__in=list(seen)).order_by("id").limit(_BATCH)
                     .values_list("id", flat=True))
        if not ids:
            return report
        for contract_id in ids:
            seen.add(contract_id)
            try:
                outcome = await renew_one(deps, contract_id, horizon)
            except Exception as e:  # noqa: BLE001 - one broken document must not stop the rest
                log.exception("archive renewal failed", extra={"contract_id": contract_id})
                report.skipped[contract_id] = f"error: {type(e).__name__}"
                continue
            if outcome == "renewed":
                report.renewed.append(contract_id)
            elif outcome == "not_due":
                report.not_due.append(contract_id)
            else:
                report.skipped[contract_id] = outcome


async def renew_one(deps: ContractDeps, contract_id: str, horizon: datetime) -> str:
    """``renewed``, ``not_due``, or why not (``raced``, ``tsa_expires_too_soon``, ...)."""
    from signing import worker

    async with deps.kv.lock(f"archive:{contract_id}", ttl=300, wait=120):
        contract = await Contract.get_or_none(id=contract_id)
        if contract is None or contract.filing_state != "done" or not contract.document_sha256:
            return "not_filed"
        source_sha = contract.document_sha256
        versions = await current_versions(contract_id)
        pdfs = [await deps.files.get(v.sha256) for v in versions.values()]
        expiries = await deps.pool.run(worker.archive_expiries, pdfs)
        if any(e is None for e in expiries):
            return "no_archive_timestamp"
        expires = min(e for e in expiries if e is not None)
        if expires > horizon:
            # known now; not due (another renewer may just have done it)
            await Contract.filter(id=contract_id, document_sha256=source_sha).update(
                archive_expires_at=expires)
            return "not_due"
        results = await deps.pool.run(worker.renew_archives, pdfs)
        new_expiries = [e for _, e in results]
        if any(e is None for e in new_expiries):
            return "tsa_expires_too_soon"
        new_expires = min(e for e in new_expiries if e is not None)
        if new_expires <= expires:
            # the TSA's own certificate is no better: a new version would gain nothing
            log.warning("archive renewal needs a TSA certificate that outlives the current one",
                        extra={"contract_id": contract_id})
            return "tsa_expires_too_soon"
        renewed = dict(zip(versions, (pdf for pdf, _ in results), strict=True))
        digests = {kind: await deps.files.put(pdf) for kind, pdf in renewed.items()}
        digest = digests[CONTRACT]
        async with in_transaction():
            # The write comes first: it locks the row (PostgreSQL) or the database
            # (SQLite, where a read first would fail on a concurrent commit instead
            # of waiting), and changes nothing unless the document is still ours.
            changed = await Contract.filter(id=contract_id, document_sha256=source_sha).update(
                document_sha256=digest, archive_expires_at=new_expires)
            if not changed:
                return "raced"
            contract = await Contract.get(id=contract_id)
            for kind, pdf in renewed.items():
                await StoredDocument.create(contract_id=contract_id, stage=ARCHIVE_RENEWED_STAGE,
                                            kind=kind, sha256=digests[kind], size=len(pdf))
            await announce(contract, FEED_EVENT)
            await timeline.append(contract_id, "archive_renewed", "system", {
                "document_sha256": digest, "previous_sha256": source_sha, "documents": digests,
                "tsa_certificate_expires_at": clock.rfc3339(new_expires),
                "pades_level": "B-LTA"})
    await forget_facts(deps.kv, contract.verify_code)
    filed_reports.wake()  # the renewed versions' public validation reports, in the background
    return "renewed"
