"""The small key-value port the app uses where Redis would be used.

Cache entries, short locks, rate-limit windows and one-time nonces all go
through :class:`KeyValueStore`. Two adapters implement it: Redis
(:mod:`server.kv.redis_store`, for several worker processes and hosts) and an
in-process stand-in (:mod:`server.kv.memory`) for the embedded default. The
same test cases run against both.
"""

from __future__ import annotations

from server.kv.port import KeyValueStore, LockNotAcquired

__all__ = ["KeyValueStore", "LockNotAcquired", "open_store"]


def open_store(redis_url: str | None, prefix: str = "hs:") -> KeyValueStore:
    """The Redis adapter when a URL is configured, else the in-process one."""
    if redis_url:
        from server.kv.redis_store import RedisStore

        return RedisStore.from_url(redis_url, prefix=prefix)
    from server.kv.memory import MemoryStore

    return MemoryStore()
