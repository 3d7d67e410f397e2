"""Each worker's ready answers: only for the right token, dropped by the shared generation.

Two :class:`Answers` stand for two workers (or hosts) on one key-value store:
the in-process one in the embedded pass, Redis in the services pass. The
database is replaced by a counting fake, so the tests see when the gate ran.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import orjson
import pytest

from server.config import Settings
from server.kv.memory import MemoryStore
from server.services.verification import answers, facts, gate, page
from server.services.verification.gate import Gate, VerificationNotFound
from server.services.verification_cache import forget_facts
from tests.backends import REDIS_BASE_URL, backend_name
from tests.verify.test_units import contract, parties, unit

T = datetime(2026, 1, 15, 6, 3, 9, tzinfo=UTC)
CODE, TOKEN = "ABCDEFGHJK", secrets.token_urlsafe(24)


@pytest.fixture()
async def kv():
    if backend_name() == "services":
        from server.kv.redis_store import RedisStore

        store = RedisStore.from_url(f"{REDIS_BASE_URL}/15",
                                    prefix=f"answers-{secrets.token_hex(4)}:")
    else:
        store = MemoryStore()
    yield store
    await store.close()


class _Database:
    """The contract row as the gate and the facts see it; counts the gate's lookups."""

    def __init__(self) -> None:
        self.status = "filed"
        self.version = 1
        self.gate_calls = 0
        self.during_load = None  # a change committed while the facts are read

    async def open_gate(self, code: str, token: str | None) -> Gate:
        self.gate_calls += 1
        if code != CODE or token != TOKEN:
            raise VerificationNotFound()
        return Gate(contract_id="c1", code=code, status=self.status,
                    stamp=f"{self.status}|done|{self.version}")

    async def load(self, opened: Gate, authority: str) -> dict:
        status = self.status  # read first...
        if self.during_load is not None:
            change, self.during_load = self.during_load, None
            await change()  # ...then the change commits and is announced
        return facts.build(contract(status=status), parties(), unit(), None, authority)


@pytest.fixture()
def db(monkeypatch) -> _Database:
    fake = _Database()
    monkeypatch.setattr(gate, "open_gate", fake.open_gate)
    monkeypatch.setattr(facts, "_load", fake.load)
    return fake


@pytest.fixture()
def settings(tmp_path) -> Settings:
    return Settings.from_env({"DATA_DIR": str(tmp_path)})


async def _status(worker: answers.Answers, kv, settings, token: str | None = TOKEN) -> str:
    """One request: the quota round trip, then the answer, as the handlers do."""
    over, seen = await gate.check_in(kv, "page", "198.51.100.7", 10**6, CODE)
    assert not over
    found = await answers.answer(worker, kv, settings, CODE, token, seen)
    return orjson.loads(found.json_body(None, T))["status"]


async def _revoke(db: _Database, kv) -> None:
    db.status, db.version = "revoked", db.version + 1
    await forget_facts(kv, CODE)  # after the commit, as the contract code does


async def test_the_gate_is_skipped_only_with_the_right_token(db, kv, settings):
    worker = answers.Answers()
    assert await _status(worker, kv, settings) == "filed"
    assert await _status(worker, kv, settings) == "filed"
    assert db.gate_calls == 1  # the second came from the ready answer
    for wrong in (None, "", TOKEN[:-1], secrets.token_urlsafe(24)):
        with pytest.raises(VerificationNotFound):
            await _status(worker, kv, settings, wrong)
    assert db.gate_calls == 5  # every wrong token went through the gate


async def test_a_revocation_shows_on_the_next_request_of_every_worker(db, kv, settings):
    one, two = answers.Answers(), answers.Answers()
    for worker in (one, two, one, two):
        assert await _status(worker, kv, settings) == "filed"
    assert db.gate_calls == 2
    await _revoke(db, kv)
    assert await _status(one, kv, settings) == "revoked"
    assert await _status(two, kv, settings) == "revoked"
    assert db.gate_calls == 4
    assert await _status(two, kv, settings) == "revoked"
    assert db.gate_calls == 4  # ready again, with the new generation


async def test_a_change_during_the_first_load_is_not_kept(db, kv, settings):
    worker = answers.Answers()

    async def revoke() -> None:
        await _revoke(db, kv)

    db.during_load = revoke
    # The very first request: no generation yet, the facts read just before the change.
    assert await _status(worker, kv, settings) == "filed"
    assert await _status(worker, kv, settings) == "revoked"
    db.during_load = revoke
    db.status = "filed"
    await forget_facts(kv, CODE)
    # The same with a generation already in place.
    assert await _status(worker, kv, settings) == "filed"
    assert await _status(worker, kv, settings) == "revoked"


async def test_answers_expire_and_are_bounded(db, kv, settings, monkeypatch):
    worker = answers.Answers(max_entries=1, max_age_s=0.0)
    await _status(worker, kv, settings)
    await _status(worker, kv, settings)
    assert db.gate_calls == 2  # max age 0: nothing is kept
    off = Settings.from_env({"DATA_DIR": str(settings.data_dir), "VERIFY_CACHE_TTL_S": "0"})
    worker = answers.Answers()
    await _status(worker, kv, off)
    await _status(worker, kv, off)
    assert db.gate_calls == 4  # the cache switched off switches this off too
    small = answers.Answers(max_entries=1)
    small.keep("A", "t", answers.Answer({}, b"g", float("inf")))
    small.keep("B", "t", answers.Answer({}, b"g", float("inf")))
    assert small.find("A", "t", b"g") is None and small.find("B", "t", b"g") is not None


def test_ready_bodies_equal_the_rendered_ones():
    f = facts.build(contract(), parties(), unit(community="温泉\x00花园<b>"), None, "备案机构")
    ready = answers.Answer(f, b"g", float("inf"))
    assert ready.page_body(None, T).decode() == page.render_page(f, T)
    assert ready.page_body(None, T) == ready.page_body(None, T)  # rendered once, reused
    assert orjson.loads(ready.json_body(None, T)) == {
        **f, "checked_at": "2026-01-15T14:03:09+08:00"}
    with pytest.raises(VerificationNotFound):
        ready.page_body("no_such_kind", T)
    with pytest.raises(VerificationNotFound):
        ready.json_body("no_such_kind", T)
