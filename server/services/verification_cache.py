"""The cached facts of the public verification page, forgotten on every status change.

Two caches hang off a contract's code: its facts in the key-value store
(:func:`facts_key`, checked against the database row's stamp), and each
worker's ready answers (:mod:`server.services.verification.answers`), which
skip the database altogether. Those are only as fresh as the contract's
*generation* (:func:`generation_key`): a random value in the key-value store,
shared by every worker and host, that each request reads in the same round
trip as its rate-limit count. :func:`forget_facts` replaces it, so no worker
serves an answer made before the change once the change is committed.

A fresh random value, not a counter: a generation key that expired or was
evicted comes back as a new value, never as one an old answer still carries.
"""

from __future__ import annotations

import secrets

from server.kv import KeyValueStore

# Longer than any answer lives; once gone, the next request simply makes a new one.
GENERATION_TTL_S = 86400


def facts_key(verify_code: str) -> str:
    return f"verify:{verify_code}"


def generation_key(verify_code: str) -> str:
    return f"verify:gen:{verify_code}"


def new_generation() -> bytes:
    return secrets.token_bytes(12)


async def current_generation(kv: KeyValueStore, verify_code: str, seen: bytes | None
                             ) -> bytes | None:
    """The generation an answer made from now on may carry (``seen``: read with the quota).

    When there is none yet, this one is stored, before the facts are read, so
    a change committed in between replaces it and the answer is never served.
    """
    if seen is not None:
        return seen
    fresh = new_generation()
    if await kv.add(generation_key(verify_code), fresh, GENERATION_TTL_S):
        return fresh
    return await kv.get(generation_key(verify_code))


async def forget_facts(kv: KeyValueStore, verify_code: str | None) -> None:
    """Call after the change is committed: every cached answer of the code is dropped."""
    if verify_code:
        await kv.set(generation_key(verify_code), new_generation(), ttl=GENERATION_TTL_S)
        await kv.delete(facts_key(verify_code))
