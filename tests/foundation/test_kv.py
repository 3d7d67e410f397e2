"""The in-process and Redis key-value adapters pass the same cases."""

from __future__ import annotations

import asyncio
import secrets
import socket

import pytest

from server.kv import LockNotAcquired
from server.kv.memory import MemoryStore
from tests.backends import REDIS_BASE_URL, backend_name


def _redis_reachable() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
        return True
    except OSError:
        return False


@pytest.fixture(params=["memory", "redis"])
async def store(request):
    if request.param == "memory":
        s = MemoryStore()
    else:
        if not _redis_reachable():
            if backend_name() == "services":
                pytest.fail("Redis is required in the services pass")
            pytest.skip("Redis is not running on this machine")
        from server.kv.redis_store import RedisStore

        s = RedisStore.from_url(f"{REDIS_BASE_URL}/15", prefix=f"kvtest-{secrets.token_hex(4)}:")
    yield s
    await s.close()


async def test_get_set_delete_and_expiry(store):
    assert await store.get("a") is None
    await store.set("a", b"1")
    await store.set("b", b"2", ttl=0.05)
    assert await store.get("a") == b"1"
    assert await store.get("b") == b"2"
    await asyncio.sleep(0.1)
    assert await store.get("b") is None
    assert await store.delete("a", "missing") == 1
    assert await store.get("a") is None


async def test_add_is_a_one_time_nonce(store):
    assert await store.add("nonce", b"x", ttl=5) is True
    assert await store.add("nonce", b"y", ttl=5) is False
    assert await store.get("nonce") == b"x"
    await store.set("short", b"1", ttl=0.05)
    await asyncio.sleep(0.1)
    assert await store.add("short", b"2", ttl=5) is True


async def test_hit_counts_in_a_fixed_window(store):
    counts = [await store.hit("rl", window=0.2) for _ in range(3)]
    assert counts == [1, 2, 3]
    await asyncio.sleep(0.3)
    assert await store.hit("rl", window=0.2) == 1


async def test_hit_and_get_counts_and_reads_in_one_call(store):
    assert await store.hit_and_get("rl2", 0.2, "gen") == (1, None)
    await store.set("gen", b"g1")
    assert await store.hit_and_get("rl2", 0.2, "gen") == (2, b"g1")
    assert await store.hit("rl2", window=0.2) == 3  # the same window as hit()
    await asyncio.sleep(0.3)
    assert await store.hit_and_get("rl2", 0.2, "gen") == (1, b"g1")



async def test_hit_and_get_at_once_from_many_requests(store):
    # Concurrent calls (the Redis adapter sends them as one batch) each get their own count.
    await store.set("g-odd", b"odd")
    calls = [store.hit_and_get("rl3", 5, "g-odd" if i % 2 else "g-none") for i in range(300)]
    results = await asyncio.gather(*calls)
    assert sorted(n for n, _ in results) == list(range(1, 301))
    assert [v for _, v in results] == [b"odd" if i % 2 else None for i in range(300)]
    assert await store.hit("rl3", window=5) == 301


async def test_lock_excludes_and_releases(store):
    order: list[str] = []

    async def worker(name: str) -> None:
        async with store.lock("house", ttl=2, wait=2):
            order.append(f"{name}-in")
            await asyncio.sleep(0.05)
            order.append(f"{name}-out")

    await asyncio.gather(worker("a"), worker("b"))
    assert order in (["a-in", "a-out", "b-in", "b-out"], ["b-in", "b-out", "a-in", "a-out"])


async def test_lock_times_out_while_held_and_expires_with_ttl(store):
    async with store.lock("k", ttl=0.3, wait=0.1):
        with pytest.raises(LockNotAcquired):
            async with store.lock("k", ttl=1, wait=0.05):
                pass
    # A holder that dies leaves a lock that the TTL frees.
    assert await store._try_lock("k2", "dead", 0.1)
    async with store.lock("k2", ttl=1, wait=1):
        pass


async def test_unlock_by_a_stranger_does_nothing(store):
    assert await store._try_lock("k3", "owner", 5)
    await store._unlock("k3", "stranger")
    assert not await store._try_lock("k3", "other", 5)


async def test_ping(store):
    await store.ping()


async def test_batched_hit_and_get_reports_an_outage_to_every_caller():
    from redis.exceptions import ConnectionError as RedisConnectionError

    from server.kv.redis_store import RedisStore

    s = RedisStore.from_url(f"redis://127.0.0.1:{_closed_port()}/0")
    try:
        results = await asyncio.gather(*(s.hit_and_get("rl", 5, "g") for _ in range(3)),
                                       return_exceptions=True)
        assert all(isinstance(r, RedisConnectionError) for r in results), results
    finally:
        await s.close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_the_in_process_store_keeps_a_value_at_its_own_size() -> None:
    """orjson's output holds a 4 KiB buffer however short the JSON; stored as it is,
    the sandbox's three days of face tokens grew the embedded worker by ~36 KiB a sale."""
    import tracemalloc

    import orjson

    store = MemoryStore()
    tracemalloc.start()
    try:
        for n in range(1000):
            await store.set(f"scan:{n}", orjson.dumps({"outcome": "pass", "scanned_at": 1.5 + n}),
                            ttl=3600)
        kept, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert kept < 400 * 1000, f"{kept / 1000:.0f} B per 60-byte value"
    assert await store.get("scan:7") == orjson.dumps({"outcome": "pass", "scanned_at": 8.5})
