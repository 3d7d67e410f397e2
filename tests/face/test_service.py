"""FaceService on the real database of this run, with a scripted provider and a test clock.

What other services rely on: ``consume`` refuses every misuse with its own code
and succeeds once only, even under concurrency; expiry follows the injected clock
(FACE_RESULT_VALID_S), so no test sleeps ten minutes.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from tortoise.transactions import in_transaction

from server.adapters.faceid.base import (
    FaceProvider,
    ResultQuery,
    StartedVerification,
    StartRequest,
    VerificationResult,
)
from server.config import Settings
from server.db import close_orm, init_orm, run_migrations
from server.errors import ApiError, UpstreamTimeout
from server.identity_crypto import IdentityCipher
from server.kv.memory import MemoryStore
from server.models import FaceConsent, FaceVerification, User
from server.services.face import FacePolicy, FaceService
from tests import flows

VALID_S = 600


class ScriptedProvider(FaceProvider):
    """Answers what the test says; counts calls."""

    name = "scripted"
    echoes_identity = True
    reports_score = True

    def __init__(self) -> None:
        self.starts = 0
        self.fetches = 0
        self.score: float | None = 93.5
        self.passed = True
        self.reason = "ok"
        self.echo_id: str | None = None  # None: echo what was asked
        self.fail_with: Exception | None = None

    async def start(self, request: StartRequest) -> StartedVerification:
        if self.fail_with is not None:
            raise self.fail_with
        self.starts += 1
        return StartedVerification(provider_ref="ref-" + request.reference,
                                   client_payload={"biz_token": "ref-" + request.reference},
                                   expires_at=datetime.now(UTC) + timedelta(hours=2))

    async def fetch_result(self, query: ResultQuery) -> VerificationResult:
        if self.fail_with is not None:
            raise self.fail_with
        self.fetches += 1
        return VerificationResult(
            finished=True, passed=self.passed, reason_code=self.reason,
            provider_ref=query.provider_ref, answer_sha256="a" * 64, provider_request_id="rq",
            provider_code="0" if self.passed else "2016", score=self.score,
            echoed_name=query.identity.name,
            echoed_id_number=self.echo_id or query.identity.id_number)


class Clock:
    def __init__(self) -> None:
        self.t = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += timedelta(seconds=seconds)


@pytest.fixture(scope="module")
def service_settings(backend, tmp_path_factory) -> Settings:
    # Sync: creating the PostgreSQL database runs its own event loop.
    return Settings.from_env(backend.new_database_env(tmp_path_factory.mktemp("face-svc")))


@pytest.fixture(scope="module")
async def database(service_settings: Settings) -> AsyncIterator[None]:
    settings = service_settings
    await run_migrations(settings)
    await init_orm(settings)
    yield
    await close_orm()


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def provider() -> ScriptedProvider:
    return ScriptedProvider()


@pytest.fixture()
def face(database, provider, clock) -> FaceService:
    policy = FacePolicy(similarity_threshold=70, result_valid_s=VALID_S,
                        consent_text_version="v-test", per_user=50, per_id_number=50,
                        window_s=3600)
    return FaceService(provider, kv=MemoryStore(),
                       cipher=IdentityCipher(os.urandom(32), os.urandom(32)),
                       policy=policy, now=clock)


async def new_user() -> str:
    return (await User.create(id=secrets.token_hex(8))).id


async def bound_user(face: FaceService, name: str = "李秀英") -> tuple[str, str]:
    user_id, id_number = await new_user(), flows.make_id_number()
    v = await face.start(user_id, "bind_identity", consent=True, name=name,
                         id_number=id_number)
    assert (await face.complete(user_id, v.id)).status == "passed"
    return user_id, id_number


async def passed(face: FaceService, user_id: str, purpose: str = "sign",
                 contract_id: str = "c-1") -> FaceVerification:
    v = await face.start(user_id, purpose, consent=True, contract_id=contract_id)
    v = await face.complete(user_id, v.id)
    assert v.status == "passed"
    return v


async def refused(coro, code: str, status: int = 409) -> ApiError:
    with pytest.raises(ApiError) as caught:
        await coro
    assert (caught.value.code, caught.value.status) == (code, status)
    return caught.value


async def test_consume_once(face):
    user_id, _ = await bound_user(face)
    v = await passed(face, user_id)
    used = await face.consume(user_id, v.id, "sign", "c-1", "signature:c-1:p1")
    assert used.consumed_at is not None and used.consumed_for == "signature:c-1:p1"
    stored = await FaceVerification.get(id=v.id)
    assert stored.consumed_for == "signature:c-1:p1"
    await refused(face.consume(user_id, v.id, "sign", "c-1", "signature:c-1:p1"),
                  "face_verification_used")


async def test_expires_after_the_valid_window(face, clock):
    user_id, _ = await bound_user(face)
    early, late = await passed(face, user_id), await passed(face, user_id)
    clock.advance(VALID_S - 1)
    await face.consume(user_id, early.id, "sign", "c-1", "step-1")
    clock.advance(2)
    await refused(face.consume(user_id, late.id, "sign", "c-1", "step-2"),
                  "face_verification_expired")
    assert (await FaceVerification.get(id=late.id)).consumed_at is None


async def test_wrong_contract_purpose_owner(face):
    user_id, _ = await bound_user(face)
    other_user, _ = await bound_user(face, "陈晓明")
    v = await passed(face, user_id, "sign", "c-1")
    await refused(face.consume(user_id, v.id, "sign", "c-2", "x"),
                  "face_verification_wrong_contract")
    await refused(face.consume(user_id, v.id, "revoke", "c-1", "x"),
                  "face_verification_wrong_purpose")
    await refused(face.consume(other_user, v.id, "sign", "c-1", "x"),
                  "face_verification_not_found", 404)
    await refused(face.consume(user_id, "fv_nope", "sign", "c-1", "x"),
                  "face_verification_not_found", 404)
    # None of the refusals used it up.
    await face.consume(user_id, v.id, "sign", "c-1", "x")


async def test_failed_or_pending_is_not_passed(face, provider):
    user_id, _ = await bound_user(face)
    pending = await face.start(user_id, "sign", consent=True, contract_id="c-1")
    await refused(face.consume(user_id, pending.id, "sign", "c-1", "x"),
                  "face_verification_not_passed")
    provider.passed, provider.reason, provider.score = False, "low_similarity", 41.0
    failed = await face.complete(user_id, pending.id)
    assert (failed.status, failed.reason_code, failed.score) == ("failed", "low_similarity", 41.0)
    await refused(face.consume(user_id, pending.id, "sign", "c-1", "x"),
                  "face_verification_not_passed")


async def test_bind_identity_verification_is_not_for_signing(face):
    user_id, id_number = await bound_user(face)
    v = await FaceVerification.filter(user_id=user_id, purpose="bind_identity").first()
    assert v is not None and v.consumed_for == "bind_identity"
    await refused(face.consume(user_id, v.id, "sign", None, "x"),  # type: ignore[arg-type]
                  "face_verification_wrong_purpose")


async def test_concurrent_consumes_only_one_succeeds(face):
    user_id, _ = await bound_user(face)
    v = await passed(face, user_id)
    outcomes = await asyncio.gather(
        *(face.consume(user_id, v.id, "sign", "c-1", f"step-{i}") for i in range(8)),
        return_exceptions=True)
    wins = [o for o in outcomes if isinstance(o, FaceVerification)]
    losses = [o for o in outcomes if isinstance(o, ApiError)]
    assert len(wins) == 1 and len(losses) == 7
    assert {e.code for e in losses} == {"face_verification_used"}
    assert (await FaceVerification.get(id=v.id)).consumed_for == wins[0].consumed_for


async def test_consume_rolled_back_with_the_callers_transaction(face):
    user_id, _ = await bound_user(face)
    v = await passed(face, user_id)
    with pytest.raises(RuntimeError):
        async with in_transaction():
            await face.consume(user_id, v.id, "sign", "c-1", "step-that-fails")
            raise RuntimeError("signing failed later in the same step")
    assert (await FaceVerification.get(id=v.id)).consumed_at is None
    await face.consume(user_id, v.id, "sign", "c-1", "step-retried")


async def test_require_bound_identity(face):
    user_id = await new_user()
    await refused(face.require_bound_identity(user_id), "identity_not_bound")
    await refused(face.start(user_id, "sign", consent=True, contract_id="c-1"),
                  "identity_not_bound")
    user_id, id_number = await bound_user(face, "欧阳小锋")
    assert await face.require_bound_identity(user_id) == ("欧阳小锋", id_number)


async def test_complete_once_final_does_not_ask_again(face, provider):
    user_id, _ = await bound_user(face)
    v = await passed(face, user_id)
    fetches = provider.fetches
    provider.fail_with = UpstreamTimeout()  # would raise if asked
    again = await face.complete(user_id, v.id)
    assert (again.status, again.reason_code, again.score) == ("passed", "ok", 93.5)
    assert provider.fetches == fetches


async def test_echo_of_another_identity_fails(face, provider):
    user_id, _ = await bound_user(face)
    v = await face.start(user_id, "sign", consent=True, contract_id="c-1")
    provider.echo_id = flows.make_id_number("110101")
    done = await face.complete(user_id, v.id)
    assert (done.status, done.reason_code) == ("failed", "identity_mismatch")


async def test_binding_is_for_good(face):
    user_id, id_number = await bound_user(face, "王建国")
    await refused(face.start(user_id, "bind_identity", consent=True, name="王建国",
                             id_number=flows.make_id_number("110101")),
                  "identity_already_bound")
    # The same identity again is fine and changes nothing.
    before = await User.get(id=user_id)
    v = await face.start(user_id, "bind_identity", consent=True, name="王建国",
                         id_number=id_number)
    assert (await face.complete(user_id, v.id)).status == "passed"
    after = await User.get(id=user_id)
    assert after.identity_bound_at == before.identity_bound_at
    assert after.id_index == before.id_index


async def test_two_binds_in_flight_the_second_identity_is_refused(face):
    user_id = await new_user()
    first = await face.start(user_id, "bind_identity", consent=True, name="王建国",
                             id_number=flows.make_id_number())
    second = await face.start(user_id, "bind_identity", consent=True, name="李秀英",
                              id_number=flows.make_id_number("110101"))
    await face.complete(user_id, first.id)
    await refused(face.complete(user_id, second.id), "identity_already_bound")
    assert (await User.get(id=user_id)).real_name == "王建国"
    assert (await FaceVerification.get(id=second.id)).consumed_at is None


async def test_provider_trouble_changes_nothing(face, provider):
    user_id, _ = await bound_user(face)
    rows_before = await FaceVerification.filter(user_id=user_id).count()
    provider.fail_with = UpstreamTimeout()
    await refused(face.start(user_id, "sign", consent=True, contract_id="c-1"),
                  "upstream_timeout", 504)
    assert await FaceVerification.filter(user_id=user_id).count() == rows_before
    # The consent was recorded before the provider was asked (and stays, as evidence).
    assert await FaceConsent.filter(user_id=user_id, purpose="sign").count() == 1
    provider.fail_with = None
    v = await face.start(user_id, "sign", consent=True, contract_id="c-1")
    provider.fail_with = UpstreamTimeout()
    await refused(face.complete(user_id, v.id), "upstream_timeout", 504)
    stored = await FaceVerification.get(id=v.id)
    assert (stored.status, stored.completed_at, stored.answer_sha256) == ("pending", None, None)


async def test_consent_is_required_and_recorded(face):
    user_id = await new_user()
    for consent in (None, False, "true", 1):
        await refused(face.start(user_id, "bind_identity", consent=consent, name="王建国",
                                 id_number=flows.make_id_number()), "consent_required", 400)
    assert await FaceConsent.filter(user_id=user_id).count() == 0
    await refused(face.start(user_id, "bind_identity", consent=True, name="王建国",
                             id_number=flows.make_id_number(), consent_text_version="old"),
                  "consent_outdated", 400)
    v = await face.start(user_id, "bind_identity", consent=True, name="王建国",
                         id_number=flows.make_id_number(), consent_text_version="v-test")
    consent = await FaceConsent.get(id=v.consent_id)  # type: ignore[attr-defined]
    assert (consent.purpose, consent.text_version) == ("bind_identity", "v-test")
    assert consent.consented_at <= v.created_at
