"""The interface both key-value adapters implement."""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class LockNotAcquired(Exception):
    """Somebody else holds the lock and it was not released in time."""


class KeyValueStore(abc.ABC):
    """Cache, locks, rate-limit windows and nonces, with expiry in seconds."""

    @abc.abstractmethod
    async def get(self, key: str) -> bytes | None: ...

    @abc.abstractmethod
    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None: ...

    @abc.abstractmethod
    async def delete(self, *keys: str) -> int:
        """Remove keys; returns how many existed."""

    @abc.abstractmethod
    async def add(self, key: str, value: bytes, ttl: float) -> bool:
        """Store only if absent (a one-time nonce); True when this call stored it."""

    @abc.abstractmethod
    async def hit(self, key: str, window: float) -> int:
        """Count one event in the fixed window that ``key`` names; returns the count so far."""

    @abc.abstractmethod
    async def hit_and_get(self, key: str, window: float, other: str) -> tuple[int, bytes | None]:
        """:meth:`hit` on ``key`` and :meth:`get` of ``other`` in one round trip.

        For a hot path that needs both a rate-limit count and a small value
        (the verification page: its quota and the contract's cache generation).
        """

    @abc.abstractmethod
    async def _try_lock(self, key: str, token: str, ttl: float) -> bool: ...

    @abc.abstractmethod
    async def _unlock(self, key: str, token: str) -> None: ...

    @abc.abstractmethod
    async def ping(self) -> None:
        """Raise if the store cannot be used."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""

    @asynccontextmanager
    async def lock(self, key: str, ttl: float = 10.0, wait: float = 5.0) -> AsyncIterator[None]:
        """Hold ``key`` exclusively; the TTL frees it if the holder dies.

        Only the holder's own token releases it, so a holder whose TTL ran out
        cannot release a lock someone else has taken since.
        """
        import asyncio
        import secrets
        import time

        token = secrets.token_hex(16)
        deadline = time.monotonic() + wait
        delay = 0.005
        while not await self._try_lock(key, token, ttl):
            if time.monotonic() >= deadline:
                raise LockNotAcquired(key)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.1)
        try:
            yield
        finally:
            await self._unlock(key, token)
