"""The cached facts of the public verification page, forgotten on every status change."""

from __future__ import annotations

from server.kv import KeyValueStore


def facts_key(verify_code: str) -> str:
    return f"verify:{verify_code}"


async def forget_facts(kv: KeyValueStore, verify_code: str | None) -> None:
    if verify_code:
        await kv.delete(facts_key(verify_code))
