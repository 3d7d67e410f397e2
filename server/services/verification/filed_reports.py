"""Durable validation reports of filed documents: the first check as cheap as a repeat.

Most uploads to the public PDF check are the filed original itself (or one
of its renewed versions): a bank, a buyer, a notary checking the file they
were given. Its signatures' validation is a pure function of the bytes, the
trust roots, the revocations and the time; so it is computed once per filed
document — ahead of time, in the background, right after sealing or renewal
— and kept in the database (:class:`~server.models.FiledDocumentReport`),
shared by every host and surviving a flush of the key-value store. An upload
whose SHA-256 is a filed document's gets that report without touching the
CPU pool.

A stored report is used only while it is honest:

* **revocations**: it records the version of the revocation list it was
  computed under (:meth:`Revocations.current`; changes on every revocation,
  on any host) and is not used under another. :meth:`Revocations.revoke`
  also deletes every stored report, so none lingers. The version is read
  before validating, and the pool's job brings a snapshot at least as new:
  a revocation landing mid-validation leaves a report that is never used.
* **age**: at most :data:`MAX_AGE` old (validation is "as of now": the
  archive timestamp's TSA certificate does not last forever).

Anything missing or stale is computed on the first check that needs it (and
stored for the next ones): a failing background job never breaks filing,
it only leaves the work to the first check. The background sweep looks only
at documents stored in the last :data:`SWEEP_WINDOW`, so a revocation does
not set it re-validating the whole archive: older documents are
re-validated lazily, by their next check. After its first sweep a process
only reads the rows stored since (by primary key), so the sweep stays cheap
however large the archive grows.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError

from server.cpu import CpuPool
from server.domain import clock
from server.domain.contract import FILED_DOCUMENT_STAGES
from server.kv import KeyValueStore
from server.kv.port import LockNotAcquired
from server.models import FiledDocumentReport, StoredDocument
from server.services.verification import reports

log = logging.getLogger("server.verification")

MAX_AGE = timedelta(days=30)
SWEEP_WINDOW = timedelta(days=2)
SWEEP_EVERY_S = 60.0
_LOCK_TTL_S = 120
_LOCK_WAIT_S = 60

_wake = asyncio.Event()


def wake() -> None:
    """New filed documents are stored: the background sweep should run now."""
    _wake.set()


async def wait_for_work(timeout: float) -> None:
    try:
        await asyncio.wait_for(_wake.wait(), timeout)
    except TimeoutError:
        pass
    _wake.clear()


async def _version(revocations: Any) -> str:
    return (await revocations.current()).version()


def _fresh(row: FiledDocumentReport | None, version: str) -> bool:
    return (row is not None and row.revocations == version
            and row.validated_at >= clock.now() - MAX_AGE)


async def stored(sha256: str, version: str) -> FiledDocumentReport | None:
    row = await FiledDocumentReport.get_or_none(sha256=sha256)
    return row if _fresh(row, version) else None


async def _store(sha256: str, report: dict[str, Any] | None, version: str,
                 at: datetime) -> None:
    values = {"report": report, "revocations": version, "validated_at": at}
    if await FiledDocumentReport.filter(sha256=sha256).update(**values):
        return
    try:
        await FiledDocumentReport.create(sha256=sha256, **values)
    except IntegrityError:  # another host stored it meanwhile: the newer one wins
        await FiledDocumentReport.filter(sha256=sha256).update(**values)


async def report_for(kv: KeyValueStore, pool: CpuPool, revocations: Any, pdf: bytes,
                     sha256: str, slots: asyncio.Semaphore | None = None,
                     source: str = "computed") -> tuple[dict[str, Any] | None, datetime]:
    """The masked report of the filed document ``pdf`` (its SHA-256 ``sha256``) and when
    it was validated: the stored one, or validated now and stored.

    Only for bytes we filed: any upload's report would let strangers fill the table.
    """
    version = await _version(revocations)
    row = await stored(sha256, version)
    if row is not None:
        reports.REPORTS.labels("stored").inc()
        return row.report, row.validated_at
    try:
        # One validation per document, however many first checks arrive at once.
        async with kv.lock(f"verify:filed-report:{sha256}", ttl=_LOCK_TTL_S,
                           wait=_LOCK_WAIT_S):
            row = await stored(sha256, version)
            if row is not None:
                reports.REPORTS.labels("stored").inc()
                return row.report, row.validated_at
            return await _compute(pool, revocations, pdf, sha256, version, slots, source)
    except LockNotAcquired:
        return await _compute(pool, revocations, pdf, sha256, version, slots, source)


async def _compute(pool: CpuPool, revocations: Any, pdf: bytes, sha256: str, version: str,
                   slots: asyncio.Semaphore | None, source: str
                   ) -> tuple[dict[str, Any] | None, datetime]:
    at = clock.now()
    report = await reports.validate(pool, pdf, slots, source)
    await _store(sha256, report, version, at)
    return report, at


async def forget_all() -> int:
    """Every stored report (a certificate was revoked: they may all be wrong now)."""
    return await FiledDocumentReport.all().delete()


class _Sweep:
    """What this process's sweep has looked at: the first sweep reads the stored documents
    of the last :data:`SWEEP_WINDOW` (a scan, once), later ones only rows added since (by
    primary key), plus the documents whose validation failed."""

    def __init__(self) -> None:
        self.seen_id: int | None = None
        self.retry: set[str] = set()

    async def candidates(self) -> list[str]:
        query = StoredDocument.filter(stage__in=FILED_DOCUMENT_STAGES)
        if self.seen_id is None:
            query = query.filter(created_at__gte=clock.now() - SWEEP_WINDOW)
        else:
            query = query.filter(id__gt=self.seen_id)
        rows = await query.order_by("id").values_list("id", "sha256")
        if rows:
            self.seen_id = rows[-1][0]
        elif self.seen_id is None:
            self.seen_id = await StoredDocument.all().order_by("-id").first().values_list(
                "id", flat=True) or 0
        return list(dict.fromkeys([*self.retry, *(digest for _, digest in rows)]))


_sweep = _Sweep()


#: How long the CPU pool must have been idle before a filed document is validated ahead.
IDLE_BEFORE_S = 1.0


async def prepare_pending(deps: Any) -> int:
    """Validate the newly stored filed documents that have no usable report; returns how
    many were validated. One at a time: one pool process at most."""
    revocations = getattr(deps, "revocations", None)
    if revocations is None:
        return 0
    digests = await _sweep.candidates()
    if not digests:
        return 0
    version = await _version(revocations)
    have = {r.sha256 for r in await FiledDocumentReport.filter(sha256__in=digests)
            if _fresh(r, version)}
    done = 0
    for digest in digests:
        _sweep.retry.discard(digest)
        if digest in have:
            continue
        try:
            # Behind the sales: a full validation holds a pool process for a second or two.
            await deps.pool.wait_until_idle(IDLE_BEFORE_S)
            pdf = await deps.files.get(digest)
            await report_for(deps.kv, deps.pool, revocations, pdf, digest, source="background")
            done += 1
        except asyncio.CancelledError:
            _sweep.retry.add(digest)
            raise
        except Exception:  # noqa: BLE001 - left to the next sweep, or to the first check
            _sweep.retry.add(digest)
            log.exception("validating a filed document failed", extra={"sha256": digest})
    return done
