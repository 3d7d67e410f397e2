"""Which certificates have been revoked, shared by every process of the app.

A small JSON file in the PKI data directory. Revocations are rare (a
compromised seal key, a certificate issued to the wrong person), while CRL
and OCSP requests are frequent and come from any worker process, so readers
keep a parsed copy and reload it only when the file's mtime changes; writers
take an exclusive ``flock`` and replace the file atomically.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["REASONS", "Revocation", "RevocationStore"]

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


class RevocationStore:
    def __init__(self, path: Path):
        self.path = path
        self._stamp: tuple[int, int, int] | None = None
        self._data: dict[str, dict[int, Revocation]] = {}

    def _load_file(self) -> dict[str, dict[int, Revocation]]:
        try:
            raw = json.loads(self.path.read_text("utf-8"))
        except FileNotFoundError:
            return {}
        return {
            ca: {
                int(serial, 16): Revocation(
                    int(serial, 16), datetime.fromisoformat(item["revoked_at"]), item["reason"]
                )
                for serial, item in entries.items()
            }
            for ca, entries in raw.items()
        }

    def _current(self) -> dict[str, dict[int, Revocation]]:
        try:
            st = self.path.stat()
            # the file is replaced, never rewritten in place: a new inode means new content
            stamp: tuple[int, int, int] | None = (st.st_ino, st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            stamp = None
        if stamp != self._stamp:
            self._data = self._load_file()
            self._stamp = stamp
        return self._data

    def version(self) -> tuple[int, int, int] | None:
        """Changes whenever the revocation list does (for cache keys)."""
        self._current()
        return self._stamp

    def lookup(self, ca: str, serial: int) -> Revocation | None:
        return self._current().get(ca, {}).get(serial)

    def entries(self, ca: str) -> list[Revocation]:
        return sorted(self._current().get(ca, {}).values(), key=lambda r: r.serial)

    def add(self, ca: str, serial: int, reason: str, revoked_at: datetime | None = None) -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown revocation reason {reason!r}")
        revoked_at = (revoked_at or datetime.now(UTC)).replace(microsecond=0)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            data = self._load_file()
            if serial in data.get(ca, {}):
                return  # first revocation wins: its date is the one already published
            data.setdefault(ca, {})[serial] = Revocation(serial, revoked_at, reason)
            serialised = {
                ca_name: {
                    f"{r.serial:x}": {"revoked_at": r.revoked_at.isoformat(), "reason": r.reason}
                    for r in entries.values()
                }
                for ca_name, entries in data.items()
            }
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(serialised, indent=1, sort_keys=True), "utf-8")
            os.replace(tmp, self.path)
