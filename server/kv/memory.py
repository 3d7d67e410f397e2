"""The in-process stand-in for Redis, for the embedded default.

It lives in one process, so the embedded default runs a single worker
(the CLI refuses ``--workers`` > 1 without ``REDIS_URL``).
"""

from __future__ import annotations

import time

from server.kv.port import KeyValueStore


class MemoryStore(KeyValueStore):
    def __init__(self) -> None:
        self._data: dict[str, tuple[bytes, float | None]] = {}

    def _live(self, key: str) -> bytes | None:
        item = self._data.get(key)
        if item is None:
            return None
        value, expires = item
        if expires is not None and expires <= time.monotonic():
            del self._data[key]
            return None
        return value

    def _sweep(self) -> None:
        # Amortised clean-up so expired nonces and windows do not pile up.
        if len(self._data) % 1024 == 0:
            now = time.monotonic()
            for k in [k for k, (_, e) in self._data.items() if e is not None and e <= now]:
                del self._data[k]

    def _put(self, key: str, value: bytes, ttl: float | None) -> None:
        # A copy of exactly the value's size: orjson.dumps returns bytes that keep a
        # 4 KiB buffer however short the JSON, so keeping its output as it is made each
        # stored sandbox token or rate-limit window cost 4 KiB (the embedded worker's
        # memory grew by about 36 KiB a sale).
        self._data[key] = (bytes(memoryview(value)),
                           time.monotonic() + ttl if ttl is not None else None)
        self._sweep()

    async def get(self, key: str) -> bytes | None:
        return self._live(key)

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        self._put(key, value, ttl)

    async def delete(self, *keys: str) -> int:
        count = 0
        for key in keys:
            if self._live(key) is not None:
                count += 1
            self._data.pop(key, None)
        return count

    async def add(self, key: str, value: bytes, ttl: float) -> bool:
        if self._live(key) is not None:
            return False
        self._put(key, value, ttl)
        return True

    async def hit(self, key: str, window: float) -> int:
        current = self._live(key)
        if current is None:
            self._put(key, b"1", window)
            return 1
        count = int(current) + 1
        _, expires = self._data[key]
        self._data[key] = (str(count).encode(), expires)
        return count

    async def hit_and_get(self, key: str, window: float, other: str) -> tuple[int, bytes | None]:
        return await self.hit(key, window), self._live(other)

    async def _try_lock(self, key: str, token: str, ttl: float) -> bool:
        return await self.add(f"lock:{key}", token.encode(), ttl)

    async def _unlock(self, key: str, token: str) -> None:
        if self._live(f"lock:{key}") == token.encode():
            self._data.pop(f"lock:{key}", None)

    async def ping(self) -> None:
        return None
