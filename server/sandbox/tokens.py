"""The sandbox's BizTokens and scan outcomes, kept in the key-value store.

In the store, not in process memory, so the sandbox works with several workers
on Redis: the worker that issues a token, the one the "phone" scans on, and the
one asked for the result may all differ. The expected identity is stored
encrypted, like everywhere else, although it is only the sandbox's copy.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import orjson

from server.identity_crypto import IdentityCipher
from server.kv import KeyValueStore

RESULT_RETENTION_S = 3 * 24 * 3600  # Tencent: results can be pulled for three days
OUTCOMES = ("pass", "low_similarity", "id_mismatch", "liveness_fail")


@dataclass
class BizToken:
    token: str
    rule_id: str
    name_enc: str
    id_card_enc: str
    extra: str
    issued_at: float
    expires_at: float

    def expired(self, now: float) -> bool:
        return now >= self.expires_at


@dataclass(frozen=True)
class Scan:
    outcome: str
    scanned_at: float


class SandboxTokens:
    def __init__(self, kv: KeyValueStore, cipher: IdentityCipher) -> None:
        self._kv = kv
        self._cipher = cipher

    @staticmethod
    def _key(token: str) -> str:
        return f"sandbox:faceid:biz:{token}"

    @staticmethod
    def _scan_key(token: str) -> str:
        return f"sandbox:faceid:scan:{token}"

    async def issue(self, token: str, rule_id: str, name: str, id_card: str, extra: str,
                    ttl_s: int) -> BizToken:
        now = time.time()
        biz = BizToken(token, rule_id, self._cipher.encrypt(name, "sandbox-name"),
                       self._cipher.encrypt(id_card, "sandbox-id"), extra, now, now + ttl_s)
        await self._save(biz)
        return biz

    async def _save(self, biz: BizToken) -> None:
        keep = max(1.0, biz.expires_at - time.time()) + RESULT_RETENTION_S
        await self._kv.set(self._key(biz.token), orjson.dumps(asdict(biz)), ttl=keep)

    async def get(self, token: str) -> BizToken | None:
        raw = await self._kv.get(self._key(token))
        return BizToken(**orjson.loads(raw)) if raw else None

    def identity(self, biz: BizToken) -> tuple[str, str]:
        return (self._cipher.decrypt(biz.name_enc, "sandbox-name"),
                self._cipher.decrypt(biz.id_card_enc, "sandbox-id"))

    async def expire_now(self, biz: BizToken) -> None:
        biz.expires_at = time.time() - 1
        await self._save(biz)

    async def record_scan(self, biz: BizToken, outcome: str) -> bool:
        """First scan wins (atomic add): False when the token was already used."""
        scan = Scan(outcome, time.time())
        return await self._kv.add(self._scan_key(biz.token), orjson.dumps(asdict(scan)),
                                  ttl=RESULT_RETENTION_S)

    async def scan_of(self, token: str) -> Scan | None:
        raw = await self._kv.get(self._scan_key(token))
        return Scan(**orjson.loads(raw)) if raw else None
