"""Which certificates have been revoked: an immutable snapshot the PKI answers from.

The record of revocations is durable state of the deployment, shared by every
host, so it lives in the database (:mod:`server.services.revocations`), not in
the PKI's directory. Signing, CRLs and OCSP run in CPU-pool processes that have
no database connection: the service hands each job the current
:class:`RevocationList`, and the PKI keeps answering from the snapshot it was
given. Its ``version`` is part of the CRL and OCSP cache keys, so a new
revocation re-signs them at once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["REASONS", "Revocation", "RevocationList", "read_legacy_file"]

# asn1crypto's CRLReason names (RFC 5280 §5.3.1)
REASONS = frozenset(
    {
        "unspecified",
        "key_compromise",
        "ca_compromise",
        "affiliation_changed",
        "superseded",
        "cessation_of_operation",
        "certificate_hold",
        "privilege_withdrawn",
        "aa_compromise",
    }
)


@dataclass(frozen=True)
class Revocation:
    serial: int
    revoked_at: datetime
    reason: str


@dataclass(frozen=True)
class RevocationList:
    """Revocations by issuing CA and serial; ``tag`` changes whenever they do."""

    tag: str = "empty"
    by_ca: dict[str, dict[int, Revocation]] = field(default_factory=dict)

    @classmethod
    def of(cls, tag: str, entries: list[tuple[str, Revocation]]) -> RevocationList:
        by_ca: dict[str, dict[int, Revocation]] = {}
        for ca, r in entries:
            by_ca.setdefault(ca, {}).setdefault(r.serial, r)  # the first revocation wins
        return cls(tag, by_ca)

    def version(self) -> str:
        return self.tag

    def lookup(self, ca: str, serial: int) -> Revocation | None:
        return self.by_ca.get(ca, {}).get(serial)

    def entries(self, ca: str) -> list[Revocation]:
        return sorted(self.by_ca.get(ca, {}).values(), key=lambda r: r.serial)

    def with_added(self, ca: str, serial: int, reason: str,
                   revoked_at: datetime | None = None) -> RevocationList:
        """A new snapshot with one more revocation (the first one of a serial stays)."""
        if reason not in REASONS:
            raise ValueError(f"unknown revocation reason {reason!r}")
        if self.lookup(ca, serial) is not None:
            return self
        revoked_at = (revoked_at or datetime.now(UTC)).replace(microsecond=0)
        by_ca = {name: dict(entries) for name, entries in self.by_ca.items()}
        by_ca.setdefault(ca, {})[serial] = Revocation(serial, revoked_at, reason)
        count = sum(len(e) for e in by_ca.values())
        return RevocationList(f"local:{count}:{serial:x}", by_ca)


def read_legacy_file(path: Path) -> list[tuple[str, Revocation]]:
    """Revocations a release before the database kept in ``revoked.json``."""
    try:
        raw = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return []
    return [
        (ca, Revocation(int(serial, 16), datetime.fromisoformat(item["revoked_at"]),
                        item["reason"]))
        for ca, entries in raw.items()
        for serial, item in entries.items()
    ]
