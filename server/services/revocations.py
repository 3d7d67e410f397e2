"""Revoking our certificates, durably and for every host at once.

The database holds the record (:class:`~server.models.CertificateRevocation`).
Each process keeps the :class:`~signing.pki.revocation.RevocationList` it last
read and checks the table's high-water mark at most once a second, so a
revocation made on one host is in every host's CRL and OCSP answers within a
second, while a busy host reads one tiny aggregate per second rather than the
list per job. The CPU pool hands the snapshot to each job (see
:class:`server.cpu.CpuPool`'s ``context``).
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from pathlib import Path

from tortoise.functions import Count, Max

from server.models import CertificateRevocation
from signing.pki import Pki
from signing.pki.revocation import REASONS, Revocation, RevocationList, read_legacy_file

log = logging.getLogger("server.pki")

#: How stale a process's snapshot may be before it asks the database again.
RECHECK_S = 1.0


async def _forget_reports() -> None:
    """The filed documents' stored validation reports may name a certificate just revoked
    (their revocation version would keep them unused anyway; this keeps none lying about)."""
    from server.services.verification.filed_reports import forget_all

    await forget_all()


class UnknownCertificate(ValueError):
    """The serial was not issued by this PKI."""


class Revocations:
    def __init__(self) -> None:
        self._snapshot = RevocationList()
        self._checked = 0.0

    async def _mark(self) -> str:
        row = await CertificateRevocation.annotate(n=Count("id"), top=Max("id")).first(
        ).values("n", "top")
        return f"db:{row['n'] or 0}:{row['top'] or 0}" if row else "db:0:0"

    async def current(self) -> RevocationList:
        """The revocations as the database has them (at most :data:`RECHECK_S` old)."""
        now = time.monotonic()
        if now - self._checked < RECHECK_S:
            return self._snapshot
        mark = await self._mark()
        if mark != self._snapshot.version():
            rows = await CertificateRevocation.all().order_by("id")
            self._snapshot = RevocationList.of(mark, [
                (r.ca, Revocation(int(r.serial, 16), r.revoked_at, r.reason)) for r in rows])
        self._checked = now
        return self._snapshot

    async def revoke(self, pki: Pki, serial: int, reason: str,
                     at: datetime | None = None) -> Revocation:
        """Record the revocation (the first one of a serial stands) and return it."""
        if reason not in REASONS:
            raise ValueError(f"unknown revocation reason {reason!r}")
        ca = pki.issuer_of(serial)
        if ca is None:
            raise UnknownCertificate(f"serial {serial:x} was not issued by this PKI")
        revoked_at = (at or datetime.now(UTC)).replace(microsecond=0)
        await CertificateRevocation.bulk_create(
            [CertificateRevocation(ca=ca, serial=f"{serial:x}", reason=reason,
                                   revoked_at=revoked_at)], ignore_conflicts=True)
        self._checked = 0.0
        await _forget_reports()
        row = await CertificateRevocation.get(ca=ca, serial=f"{serial:x}")
        log.warning("certificate revoked", extra={"ca": ca, "serial": f"{serial:x}",
                                                  "reason": row.reason})
        return Revocation(serial, row.revoked_at, row.reason)

    async def import_legacy(self, pki_dir: Path) -> int:
        """Move a ``revoked.json`` of an earlier release into the database, once."""
        path = pki_dir / "revoked.json"
        entries = read_legacy_file(path)
        if entries:
            await CertificateRevocation.bulk_create(
                [CertificateRevocation(ca=ca, serial=f"{r.serial:x}", reason=r.reason,
                                       revoked_at=r.revoked_at) for ca, r in entries],
                ignore_conflicts=True)
            path.rename(path.with_suffix(".json.imported"))
            self._checked = 0.0
            await _forget_reports()
        return len(entries)
