"""Each worker's ready answers for callers who hold a contract's token.

A QR code is scanned again and again: the same code and token, the same
facts, the same page but for its check time. So after one caller has passed
the gate, the page and the JSON are kept here, in this process, rendered
but for the check time, under the code *and the SHA-256 of the token*. Only
a caller holding the right token finds them; everybody else takes the gate
(:mod:`.gate`) and its database lookup, whether the code exists or not, so
response times still tell nothing about which codes exist.

An answer is served only while it carries the contract's current generation
(:mod:`server.services.verification_cache`), read in the same key-value
round trip as the rate limit: a status change shows on the next request, on
every worker and host. Should the change's invalidation itself be lost (a
crash right after the commit, the key-value store down at that moment), an
answer still lives at most :data:`MAX_AGE_S`.
"""

from __future__ import annotations

import hashlib
import time
from datetime import datetime
from typing import Any

import orjson

from server.config import Settings
from server.domain import clock
from server.kv import KeyValueStore
from server.services.verification import facts, gate, page
from server.services.verification_cache import current_generation

MAX_AGE_S = 10.0
# Entries exist only for callers with a real token, so this bounds memory, not abuse.
MAX_ENTRIES = 1024


class Answer:
    """One contract's answers, per document kind ``d``, rendered on first use."""

    __slots__ = ("generation", "expires", "_facts", "_pages", "_json")

    def __init__(self, sale_facts: dict[str, Any], generation: bytes | None,
                 expires: float) -> None:
        self.generation = generation
        self.expires = expires
        self._facts = sale_facts
        self._pages: dict[str | None, tuple[bytes, bytes]] = {}
        self._json: dict[str | None, bytes] = {}

    def page_body(self, kind: str | None, now: datetime) -> bytes:
        """The HTML page (:class:`gate.VerificationNotFound` for a kind the sale has not)."""
        halves = self._pages.get(kind)
        if halves is None:
            halves = page.render_halves(facts.for_document(self._facts, kind))
            self._pages[kind] = halves
        return halves[0] + _page_time(now) + halves[1]

    def json_body(self, kind: str | None, now: datetime) -> bytes:
        """The facts as JSON with ``checked_at`` last, as ``{**facts, "checked_at": ...}``."""
        head = self._json.get(kind)
        if head is None:
            head = orjson.dumps(facts.for_document(self._facts, kind))[:-1]
            self._json[kind] = head
        return head + _json_time(now)


class Answers:
    """The per-process store of :class:`Answer`; on ``app.ctx``, one per worker."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_age_s: float = MAX_AGE_S) -> None:
        self._entries: dict[tuple[str, bytes], Answer] = {}
        self._max_entries = max_entries
        self._max_age_s = max_age_s

    @staticmethod
    def _key(code: str, token: str | None) -> tuple[str, bytes]:
        return code, hashlib.sha256((token or "").encode("utf-8", "surrogatepass")).digest()

    def find(self, code: str, token: str | None, generation: bytes | None) -> Answer | None:
        if generation is None:
            return None
        key = self._key(code, token)
        found = self._entries.get(key)
        if found is None:
            return None
        if found.generation != generation or found.expires <= time.monotonic():
            del self._entries[key]
            return None
        return found

    def keep(self, code: str, token: str | None, answer: Answer) -> None:
        if len(self._entries) >= self._max_entries:
            del self._entries[next(iter(self._entries))]  # the oldest
        self._entries[self._key(code, token)] = answer

    def max_age(self, settings: Settings) -> float:
        return min(self._max_age_s, settings.verify_cache_ttl_s)


async def answer(answers: Answers, kv: KeyValueStore, settings: Settings, code: str,
                 token: str | None, seen: bytes | None) -> Answer:
    """The answer for ``code``/``token``: kept, or through the gate (which raises
    :class:`gate.VerificationNotFound`) and the facts. ``seen``: the generation
    read with the rate limit (:func:`gate.check_in`)."""
    found = answers.find(code, token, seen)
    if found is not None:
        return found
    opened = await gate.open_gate(code, token)
    max_age = answers.max_age(settings)
    generation = await current_generation(kv, code, seen) if max_age > 0 else None
    made = Answer(await facts.load(kv, settings, opened), generation,
                  time.monotonic() + max_age)
    if generation is not None:
        answers.keep(code, token, made)
    return made


# The check time changes once a minute (page) or second (JSON): formatted once each.
_page_last: tuple[int, bytes] = (-1, b"")
_json_last: tuple[int, bytes] = (-1, b"")


def _page_time(now: datetime) -> bytes:
    global _page_last
    minute = int(now.timestamp()) // 60
    if _page_last[0] != minute:
        _page_last = (minute, page.checked_time(now).encode())
    return _page_last[1]


def _json_time(now: datetime) -> bytes:
    global _json_last
    second = int(now.timestamp())
    if _json_last[0] != second:
        _json_last = (second, b',"checked_at":' + orjson.dumps(clock.rfc3339(now)) + b"}")
    return _json_last[1]
