"""The Redis adapter (redis-py's ``redis.asyncio``; the archived aio-redis fails on 3.11+)."""

from __future__ import annotations

import asyncio

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

# The same, and the value of a second key, for a batch of (counter, other) key pairs:
# KEYS = c1, o1, c2, o2, ...; ARGV = the windows; returns n1, v1, n2, v2, ...
# (a missing key reads as false, returned as nil).
_HIT_AND_GET = """
local out = {}
for i = 1, #KEYS, 2 do
  local n = redis.call('incr', KEYS[i])
  if n == 1 then redis.call('pexpire', KEYS[i], ARGV[(i + 1) / 2]) end
  out[i] = n
  out[i + 1] = redis.call('get', KEYS[i + 1])
end
return out
"""
# One script call carries at most this many requests' pairs.
_BATCH_MAX = 256


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


class RedisStore(KeyValueStore):
    def __init__(self, client: redis_asyncio.Redis, prefix: str) -> None:
        self._r = client
        self._p = prefix
        self._unlock_script = client.register_script(_UNLOCK)
        self._hit_script = client.register_script(_HIT)
        self._hit_and_get_script = client.register_script(_HIT_AND_GET)
        self._pending: list[tuple[str, str, int, asyncio.Future]] = []
        self._in_flight = False
        self._sender: asyncio.Task | None = None  # held: the loop keeps only weak references

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
        """Batched: the calls of one worker that meet while a batch is on its way go
        together in the next script call. Under load (every verification page asks
        this) that is one round trip for many requests, a fraction of the client's
        per-command cost each; alone, a call waits for nothing but its own round trip.
        """
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        self._pending.append((self._p + key, self._p + other, _ms(window), done))
        if not self._in_flight:
            self._in_flight = True
            self._sender = loop.create_task(self._send_batches())
        return await done

    async def _send_batches(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending[:_BATCH_MAX], self._pending[_BATCH_MAX:]
                try:
                    out = await self._hit_and_get_script(
                        keys=[k for counter, other, _, _ in batch for k in (counter, other)],
                        args=[window for _, _, window, _ in batch])
                except Exception as exc:  # noqa: BLE001 - each caller gets the error
                    for *_, done in batch:
                        if not done.done():
                            done.set_exception(exc)
                    continue
                for i, (*_, done) in enumerate(batch):
                    if not done.done():  # its request may have been cancelled meanwhile
                        done.set_result((int(out[2 * i]), out[2 * i + 1]))
        finally:
            self._in_flight = False

    async def _try_lock(self, key: str, token: str, ttl: float) -> bool:
        return bool(await self._r.set(self._p + "lock:" + key, token, px=_ms(ttl), nx=True))

    async def _unlock(self, key: str, token: str) -> None:
        await self._unlock_script(keys=[self._p + "lock:" + key], args=[token])

    async def ping(self) -> None:
        await self._r.ping()

    async def close(self) -> None:
        await self._r.aclose()
