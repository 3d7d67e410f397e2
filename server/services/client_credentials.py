"""Secrets of machine clients and staff passwords: stored as scrypt hashes, checked in
threads behind a throttle of failures.

Shared by the registration offices' clients, the agencies' clients and the
service points' staff. A secret is stored as a scrypt hash (hashlib,
N=2^14, r=8, p=1, 16-byte salt): a stolen database does not give working
credentials. Verification compares in constant time, and an unknown
identifier costs the same scrypt as a wrong secret, so timing does not tell
which identifiers exist.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from server.errors import RateLimited
from server.kv import KeyValueStore

_N, _R, _P, _DKLEN = 2**14, 8, 1, 32
MAX_SECRET = 256
# Verified against when the identifier is unknown, to spend the same time.
DUMMY_HASH = "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$" + "A" * 43
# scrypt costs 16 MiB and tens of milliseconds each: a few at a time per worker, in
# threads (hashlib releases the GIL), never on the event loop.
SCRYPT_SLOTS = 2

T = TypeVar("T")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_secret(secret: str, *, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=_DKLEN)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_secret(secret: str, encoded: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        if scheme != "scrypt":
            return False
        expected = _unb64(digest)
        actual = hashlib.scrypt(secret.encode(), salt=_unb64(salt), n=int(n), r=int(r),
                                p=int(p), dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


@dataclass(frozen=True)
class TokenThrottle:
    """Failed attempts allowed per window, per identifier and per client address.

    Only failures count, so a client that knows its secret is never slowed by its
    own traffic; an attacker guessing secrets (or spraying identifiers from one
    address) is refused before any further scrypt is spent. ``prefix`` keeps the
    registry's, the agencies' and the staff's counters apart.
    """

    kv: KeyValueStore
    per_client: int
    per_address: int
    window_s: int
    prefix: str = "regtoken"

    def _keys(self, client_id: str, address: str | None) -> list[tuple[str, int]]:
        digest = hashlib.sha256(client_id.encode("utf-8", "replace")).hexdigest()[:32]
        keys = [(f"{self.prefix}:fail:client:{digest}", self.per_client)]
        if address:
            keys.append((f"{self.prefix}:fail:addr:{address}", self.per_address))
        return keys

    async def refused(self, client_id: str, address: str | None) -> bool:
        for key, limit in self._keys(client_id, address):
            count = await self.kv.get(key)
            if count is not None and int(count) >= limit:
                return True
        return False

    async def failed(self, client_id: str, address: str | None) -> None:
        for key, _ in self._keys(client_id, address):
            await self.kv.hit(key, self.window_s)


class SecretChecks:
    """One worker's scrypt checks: a few at a time, refused early once throttled."""

    def __init__(self, throttle: TokenThrottle | None = None) -> None:
        self.throttle = throttle
        self._slots = asyncio.Semaphore(SCRYPT_SLOTS)

    async def check(self, identifier: str, secret: str, address: str | None,
                    load: Callable[[], Awaitable[tuple[T, str] | None]],
                    usable: Callable[[T], bool] = lambda _: True) -> T | None:
        """The row ``load`` finds whose stored hash ``secret`` matches, if it is ``usable``;
        None otherwise (counted as a failure). 429 ``rate_limited`` once throttled.

        ``load`` is only called for a well-formed secret; without a row the dummy hash
        is checked, so an unknown identifier takes as long as a wrong secret.
        """
        throttle = self.throttle
        async with self._slots:
            # Checked once a slot is ours, so a burst queued behind the slots is
            # refused as soon as the failures before it reach the limit.
            if throttle is not None and await throttle.refused(identifier, address):
                raise RateLimited("认证失败次数过多，请稍后再试",
                                  headers={"Retry-After": str(throttle.window_s)})
            found = None
            ok = False
            if len(secret) <= MAX_SECRET:
                found = await load()
                encoded = found[1] if found is not None else DUMMY_HASH
                ok = await asyncio.to_thread(verify_secret, secret, encoded)
            row = found[0] if found is not None and ok else None
            if row is not None and not usable(row):
                row = None
            if row is None and throttle is not None:
                # Counted while the slot is held, so the attempts queued behind it see it;
                # a burst overshoots the limit by at most one attempt per slot.
                await throttle.failed(identifier, address)
        return row
