"""The Redis adapter (redis-py's ``redis.asyncio``; the archived aio-redis fails on 3.11+)."""

from __future__ import annotations

from redis import asyncio as redis_asyncio
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from server.kv.port import KeyValueStore

# Compare-and-delete, so a holder only ever releases its own lock.
_UNLOCK = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""

# INCR and start the window on the first hit, atomically.
_HIT = """
local n = redis.call('incr', KEYS[1])
if n == 1 then redis.call('pexpire', KEYS[1], ARGV[1]) end
return n
"""

# The same, and the value of a second key, in one round trip (a missing key: false -> nil).
_HIT_AND_GET = """
local n = redis.call('incr', KEYS[1])
if n == 1 then redis.call('pexpire', KEYS[1], ARGV[1]) end
return {n, redis.call('get', KEYS[2])}
"""


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


class RedisStore(KeyValueStore):
    def __init__(self, client: redis_asyncio.Redis, prefix: str) -> None:
        self._r = client
        self._p = prefix
        self._unlock_script = client.register_script(_UNLOCK)
        self._hit_script = client.register_script(_HIT)
        self._hit_and_get_script = client.register_script(_HIT_AND_GET)

    @classmethod
    def from_url(cls, url: str, prefix: str = "hs:") -> RedisStore:
        # A restarting Redis refuses connections for a second or two: retrying with
        # backoff for about 2 s rides that out; beyond it the request answers 503.
        client = redis_asyncio.Redis.from_url(
            url, socket_timeout=2.0, socket_connect_timeout=1.0,
            retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=0.5), retries=6),
            retry_on_error=[RedisConnectionError, RedisTimeoutError])
        return cls(client, prefix)

    async def get(self, key: str) -> bytes | None:
        return await self._r.get(self._p + key)

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        await self._r.set(self._p + key, value, px=_ms(ttl) if ttl is not None else None)

    async def delete(self, *keys: str) -> int:
        if not keys:
            return 0
        return int(await self._r.delete(*(self._p + k for k in keys)))

    async def add(self, key: str, value: bytes, ttl: float) -> bool:
        return bool(await self._r.set(self._p + key, value, px=_ms(ttl), nx=True))

    async def hit(self, key: str, window: float) -> int:
        return int(await self._hit_script(keys=[self._p + key], args=[_ms(window)]))

    async def hit_and_get(self, key: str, window: float, other: str) -> tuple[int, bytes | None]:
        count, value = await self._hit_and_get_script(keys=[self._p + key, self._p + other],
                                                      args=[_ms(window)])
        return int(count), value

    async def _try_lock(self, key: str, token: str, ttl: float) -> bool:
        return bool(await self._r.set(self._p + "lock:" + key, token, px=_ms(ttl), nx=True))

    async def _unlock(self, key: str, token: str) -> None:
        await self._unlock_script(keys=[self._p + "lock:" + key], args=[token])

    async def ping(self) -> None:
        await self._r.ping()

    async def close(self) -> None:
        await self._r.aclose()
