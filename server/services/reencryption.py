"""Re-encrypting the identity data at rest under another algorithm (AES-256-GCM ↔ SM4-GCM).

A deployment that moves to ``SIGNING_SUITE=sm2`` writes new rows with SM4 at once and
reads its old AES rows as before (every ciphertext names its algorithm and key); this
use case converts the old rows, so that in the end every row is SM4 (or, going back,
AES). It walks each encrypted column in primary-key order, in batches:

- **idempotent**: a row already under the target algorithm and key is left alone, so a
  second run changes nothing and reports it;
- **safe to interrupt**: each batch is one transaction, and each row's UPDATE is
  conditional on the ciphertext it read (``WHERE pk = … AND column = old``), so a kill
  loses at most the batch in flight (rolled back, redone next time) and a row the
  service rewrote meanwhile is never overwritten with stale data;
- **the blind index is untouched**: it is an HMAC of the plaintext under its own key,
  the same whatever the cipher, so lookups keep working during and after the run.

Plaintext exists only in this process's memory, row by row; the report holds counts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tortoise.models import Model
from tortoise.transactions import in_transaction

from server.identity_crypto import IdentityCipher
from server.models import FaceVerification, IdempotencyRecord, Owner, Party, User

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EncryptedColumn:
    """One column holding ciphertexts, and the purpose (associated data) of its rows."""

    model: type[Model]
    column: str
    purpose: Callable[[dict[str, Any]], str]
    binary: bool = False  # bytes (``seal``) rather than base64 text (``encrypt``)
    also_read: tuple[str, ...] = ()  # the fields ``purpose`` needs

    @property
    def name(self) -> str:
        return f"{self.model._meta.db_table}.{self.column}"


def _fixed(purpose: str) -> Callable[[dict[str, Any]], str]:
    return lambda _row: purpose


#: Every column of the schema that holds identity ciphertexts.
ENCRYPTED_COLUMNS: tuple[EncryptedColumn, ...] = (
    EncryptedColumn(User, "id_number_enc", _fixed("id")),
    EncryptedColumn(Party, "id_number_enc", _fixed("id")),
    EncryptedColumn(Party, "phone_enc", _fixed("phone")),
    EncryptedColumn(Owner, "id_number_enc", _fixed("id")),
    EncryptedColumn(FaceVerification, "expected_id_enc", _fixed("id")),
    # stored first answers (an invitation's answer carries its token); purpose as
    # server.services.idempotency.IdempotencyStore binds them
    EncryptedColumn(IdempotencyRecord, "body",
                    lambda row: f"idempotency:{row['scope']}:{row['key']}",
                    binary=True, also_read=("scope", "key")),
)


@dataclass
class ColumnReport:
    rows: int = 0  # rows with a ciphertext in this column
    converted: int = 0  # re-encrypted (or, with dry_run, would be)
    already: int = 0  # already under the target algorithm and key
    changed_meanwhile: int = 0  # rewritten or deleted by the service between read and write
    unreadable: int = 0  # neither key opens it: left as it is, and the run fails

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class ReencryptionReport:
    target: str
    dry_run: bool
    columns: dict[str, ColumnReport] = field(default_factory=dict)

    def total(self, what: str) -> int:
        return sum(getattr(c, what) for c in self.columns.values())

    @property
    def ok(self) -> bool:
        return self.total("unreadable") == 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target, "dry_run": self.dry_run,
            "columns": {name: c.as_dict() for name, c in self.columns.items()},
            "totals": {k: self.total(k) for k in ColumnReport().as_dict()},
        }


async def reencrypt(target: IdentityCipher, *, dry_run: bool = False, batch_size: int = 500,
                    columns: tuple[EncryptedColumn, ...] = ENCRYPTED_COLUMNS,
                    on_batch: Callable[[str, ColumnReport], None] | None = None
                    ) -> ReencryptionReport:
    """Bring every ciphertext in ``columns`` under ``target``'s write algorithm and key.

    ``target`` must hold every key the rows were written under (it decrypts them too).
    ``on_batch`` is told after each batch (progress for the command line).
    """
    report = ReencryptionReport(target.write_algorithm, dry_run)
    for col in columns:
        report.columns[col.name] = stats = ColumnReport()
        pk_field = col.model._meta.pk_attr
        last: Any = None
        while True:
            query = col.model.filter(**{f"{col.column}__isnull": False})
            if last is not None:
                query = query.filter(**{f"{pk_field}__gt": last})
            rows = await query.order_by(pk_field).limit(batch_size) \
                .values(pk_field, col.column, *col.also_read)
            if not rows:
                break
            await _convert_batch(target, col, rows, stats, pk_field, dry_run)
            last = rows[-1][pk_field]
            if on_batch is not None:
                on_batch(col.name, stats)
    return report


async def _convert_batch(target: IdentityCipher, col: EncryptedColumn,
                         rows: list[dict[str, Any]], stats: ColumnReport, pk_field: str,
                         dry_run: bool) -> None:
    updates: list[tuple[Any, Any, Any]] = []
    for row in rows:
        stats.rows += 1
        stored = row[col.column]
        raw = bytes(stored) if col.binary else stored
        purpose = col.purpose(row)
        try:
            if (target.is_current(raw) if col.binary else target.is_current_text(raw)):
                stats.already += 1
                continue
            if col.binary:
                fresh: Any = target.seal(target.unseal(raw, purpose), purpose)
            else:
                fresh = target.encrypt(target.decrypt(raw, purpose), purpose)
        except Exception as exc:  # noqa: BLE001 - InvalidTag, CiphertextError, bad base64
            # the row is named by table and key only: never by its content
            log.warning("unreadable ciphertext left as it is",
                        extra={"column": col.name, "row": str(row[pk_field]),
                               "error": type(exc).__name__})
            stats.unreadable += 1
            continue
        updates.append((row[pk_field], stored, fresh))
    if dry_run:
        stats.converted += len(updates)
        return
    async with in_transaction():
        for key, old, fresh in updates:
            changed = await col.model.filter(**{pk_field: key, col.column: old}) \
                .update(**{col.column: fresh})
            if changed:
                stats.converted += 1
            else:
                stats.changed_meanwhile += 1
