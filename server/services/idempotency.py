"""Stored first answers of ``Idempotency-Key`` requests: encrypted, final only, 24 hours.

What is kept, and why:

- only final outcomes: 2xx and the 4xx a repeat would get again (400, 403, 404,
  405, 410, 413, 415, 422). Never 401 (a refreshed token must not meet an old
  refusal), 409 (pending, in progress, or a state that changes), 429 or 5xx
  (transient by nature): those leave no record, so a retry really is tried again;
- the body encrypted (AES-256-GCM, the identity key, the record's scope and key as
  associated data), because answers such as an invitation carry bearer secrets; the
  token-issuing endpoints (login, refresh, registry token) take no key at all;
- for 24 hours: older records are not replayed and are purged in the background.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError

from server.domain import clock
from server.identity_crypto import IdentityCipher
from server.models import IdempotencyRecord

log = logging.getLogger("server.idempotency")

RECORD_TTL = timedelta(hours=24)
PURGE_EVERY_S = 3600.0
_FINAL_CLIENT_ERRORS = frozenset({400, 403, 404, 405, 410, 413, 415, 422})


def is_final(status: int) -> bool:
    """Would the same request get this answer again? Only then is it worth keeping."""
    return 200 <= status < 300 or status in _FINAL_CLIENT_ERRORS


@dataclass(frozen=True)
class StoredAnswer:
    request_hash: str
    status: int
    body: bytes
    content_type: str


class IdempotencyStore:
    def __init__(self, cipher: IdentityCipher) -> None:
        self._cipher = cipher

    @staticmethod
    def _purpose(scope: str, key: str) -> str:
        return f"idempotency:{scope}:{key}"

    async def find(self, scope: str, key: str, now: datetime | None = None
                   ) -> StoredAnswer | None:
        record = await IdempotencyRecord.get_or_none(scope=scope, key=key)
        if record is None:
            return None
        if record.created_at <= (now or clock.now()) - RECORD_TTL:
            await IdempotencyRecord.filter(id=record.id).delete()
            return None
        try:
            body = self._cipher.unseal(bytes(record.body), self._purpose(scope, key))
        except Exception:  # noqa: BLE001 - a record we cannot read is as good as none
            log.warning("unreadable idempotency record dropped")
            await IdempotencyRecord.filter(id=record.id).delete()
            return None
        return StoredAnswer(record.request_hash, record.status, body, record.content_type)

    async def keep(self, scope: str, key: str, answer: StoredAnswer) -> bool:
        """Store a final answer; False when it is not final or one is stored already."""
        if not is_final(answer.status):
            return False
        try:
            await IdempotencyRecord.create(
                scope=scope, key=key, request_hash=answer.request_hash, status=answer.status,
                body=self._cipher.seal(answer.body, self._purpose(scope, key)),
                content_type=answer.content_type[:64])
        except IntegrityError:
            return False
        return True

    async def purge(self, now: datetime | None = None) -> int:
        """Delete the records older than 24 hours; returns how many."""
        return await IdempotencyRecord.filter(
            created_at__lte=(now or clock.now()) - RECORD_TTL).delete()


async def purge_forever(store: IdempotencyStore) -> None:
    while True:
        try:
            removed = await store.purge()
            if removed:
                log.info("idempotency records purged", extra={"count": removed})
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - retried next round
            log.exception("purging idempotency records failed")
        await asyncio.sleep(PURGE_EVERY_S)
