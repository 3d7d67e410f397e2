"""Face verification (人脸核身): consent, start, server-side result, binding, and one-time use.

What other services call (``app.ctx.face``):

- :meth:`FaceService.consume` - the contracts service spends a passed ``sign`` /
  ``revoke`` verification on one signing step. Call it inside your own
  transaction: the UPDATE joins it, so a rolled-back step leaves the
  verification unused. One call covers every document signed in that step.
- :meth:`FaceService.require_bound_identity` - the user's bound (name, ID number).

Refusals, all :class:`~server.errors.ApiError`:

=====  ==================================  ===============================================
404    ``face_verification_not_found``     unknown, or someone else's (never revealed)
409    ``face_verification_not_passed``    pending or failed
409    ``face_verification_used``          already consumed
409    ``face_verification_expired``       passed more than ``FACE_RESULT_VALID_S`` ago
409    ``face_verification_wrong_purpose`` e.g. a ``revoke`` one used to sign
409    ``face_verification_wrong_contract`` made for another contract
409    ``identity_not_bound``              ``sign``/``revoke`` before ``bind_identity``
409    ``identity_already_bound``          binding a second, different identity
404    ``not_found``                       ``sign``/``revoke`` start for a contract the caller
                                           is no party of (checked before the provider)
409    ``conflict`` / ``already_signed`` / the contract is not at that step now
       ``revocation_not_requested`` …
=====  ==================================  ===============================================

Wrong purpose/contract are 409, not 403: the verification is the caller's own,
it just does not fit this use, and the fix is the same as for a used one -
start a new verification.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from tortoise.transactions import in_transaction

from server.adapters.faceid import build_provider
from server.adapters.faceid.base import (
    ExpectedIdentity,
    FaceProvider,
    ResultQuery,
    StartRequest,
)
from server.config import Settings
from server.domain import clock
from server.domain.identity import (
    id_number_problem,
    mask_id_number,
    mask_name,
    name_problem,
    normalize_id_number,
)
from server.errors import ApiError, Conflict, InvalidInput, NotFound, RateLimited
from server.identity_crypto import IdentityCipher
from server.kv import KeyValueStore
from server.models import FaceConsent, FaceVerification, LoginIdentity, User
from server.secrets import ServiceSecrets
from server.services.face_policy import judge

log = logging.getLogger("server.face")

BIND_IDENTITY = "bind_identity"
SIGN = "sign"
REVOKE = "revoke"
PURPOSES = (BIND_IDENTITY, SIGN, REVOKE)
CONTRACT_PURPOSES = (SIGN, REVOKE)
CONTRACT_ID_MAX = 64
# /complete on a pending verification asks the provider each time: cap it.
COMPLETE_QUERIES_PER_MINUTE = 30


@dataclass(frozen=True)
class FacePolicy:
    similarity_threshold: float
    result_valid_s: int
    consent_text_version: str
    per_user: int
    per_id_number: int
    window_s: int


def _not_found() -> NotFound:
    return NotFound("人脸核身记录不存在", code="face_verification_not_found")


# (user_id, contract_id, purpose) -> None, raising when the caller may not take that
# step of that contract now; the contracts service provides it.
StepGate = Callable[[str, str, str], Awaitable[None]]


class FaceService:
    def __init__(self, provider: FaceProvider, *, kv: KeyValueStore, cipher: IdentityCipher,
                 policy: FacePolicy, now: Callable[[], datetime] = clock.now,
                 step_gate: StepGate | None = None) -> None:
        self.provider = provider
        self._step_gate = step_gate
        self._kv = kv
        self._cipher = cipher
        self._policy = policy
        self._now = now

    # --- for other services --------------------------------------------------------

    async def require_bound_identity(self, user_id: str) -> tuple[str, str]:
        """(real name, ID number) bound to the user; 409 ``identity_not_bound`` if none."""
        user = await User.get_or_none(id=user_id)
        if user is None:
            raise NotFound()
        if user.identity_bound_at is None or not user.real_name or not user.id_number_enc:
            raise Conflict("请先完成实名认证（人脸核身绑定身份）", code="identity_not_bound")
        return user.real_name, self._cipher.decrypt(user.id_number_enc)

    async def consume(self, user_id: str, verification_id: str, purpose: str,
                      contract_id: str, consumed_for: str) -> FaceVerification:
        """Spend a passed verification on one step, once; atomic against concurrent uses."""
        v = await FaceVerification.get_or_none(id=verification_id, user_id=user_id)
        if v is None:
            raise _not_found()
        now = self._now()
        self._check_usable(v, purpose, contract_id, now)
        updated = await FaceVerification.filter(
            id=v.id, user_id=user_id, status="passed", purpose=purpose,
            contract_id=contract_id, consumed_at__isnull=True, valid_until__gt=now,
        ).update(consumed_at=now, consumed_for=consumed_for[:128])
        if updated != 1:
            # Lost a race (or the window closed meanwhile): say which.
            await v.refresh_from_db()
            self._check_usable(v, purpose, contract_id, now)
            raise Conflict("人脸核身结果已被使用", code="face_verification_used")
        v.consumed_at, v.consumed_for = now, consumed_for[:128]
        return v

    def _check_usable(self, v: FaceVerification, purpose: str, contract_id: str,
                      now: datetime) -> None:
        if v.purpose != purpose:
            raise Conflict("该人脸核身不是为此操作进行的", code="face_verification_wrong_purpose",
                           details={"purpose": v.purpose})
        if v.contract_id != contract_id:
            raise Conflict("该人脸核身不是为此合同进行的",
                           code="face_verification_wrong_contract")
        if v.status != "passed":
            raise Conflict("人脸核身未通过", code="face_verification_not_passed",
                           details={"status": v.status})
        if v.consumed_at is not None:
            raise Conflict("人脸核身结果已被使用", code="face_verification_used")
        if v.valid_until is None or v.valid_until <= now:
            raise Conflict("人脸核身结果已过期，请重新核身", code="face_verification_expired")

    # --- the API's use cases ----------------------------------------------------------

    async def start(self, user_id: str, purpose: Any, *, consent: Any, name: Any = None,
                    id_number: Any = None, contract_id: Any = None, meta_info: Any = None,
                    consent_text_version: Any = None) -> FaceVerification:
        """Record the consent, open a verification at the provider, keep its evidence."""
        if purpose not in PURPOSES:
            raise InvalidInput({"purpose": f"可选：{', '.join(PURPOSES)}"})
        if consent is not True:
            raise ApiError("人脸核身前须明确同意《人脸信息处理告知书》", code="consent_required",
                           details={"fields": {"consent": "必须为 true"}})
        if consent_text_version is not None and \
                consent_text_version != self._policy.consent_text_version:
            raise ApiError("告知书已更新，请阅读最新版本后重新同意", code="consent_outdated",
                           details={"current_version": self._policy.consent_text_version})
        if purpose == BIND_IDENTITY:
            identity, contract = await self._identity_to_bind(user_id, name, id_number), None
        else:
            contract = _contract_id(contract_id)
            identity = ExpectedIdentity(*await self.require_bound_identity(user_id))
            if self._step_gate is not None:
                # Before the quota and the provider: a start for a contract the caller
                # cannot sign or revoke now costs nobody anything.
                await self._step_gate(user_id, contract, purpose)
        subject = await self._subject(user_id)
        if self.provider.needs_meta_info and not (isinstance(meta_info, str) and meta_info):
            raise InvalidInput({"meta_info": "此核身方式需要客户端 SDK 采集的 MetaInfo"})
        id_index = self._cipher.index(identity.id_number)
        await self._rate_limit(user_id, id_index, owner=await self._owns(user_id, id_index))

        # The consent is recorded (committed) before anything reaches the provider.
        consent_row = await FaceConsent.create(
            user_id=user_id, purpose=purpose, text_version=self._policy.consent_text_version)
        verification_id = "fv_" + secrets.token_hex(12)
        started = await self.provider.start(StartRequest(
            identity=identity, reference=verification_id, subject=subject,
            meta_info=meta_info if isinstance(meta_info, str) else None))
        v = await FaceVerification.create(
            id=verification_id, user_id=user_id, consent=consent_row, purpose=purpose,
            contract_id=contract, provider=self.provider.name,
            provider_ref=started.provider_ref, start_request_id=started.provider_request_id,
            client_payload=started.client_payload, subject=subject,
            expected_name=identity.name,
            expected_id_enc=self._cipher.encrypt(identity.id_number),
            expected_id_index=id_index, status="pending", expires_at=started.expires_at)
        log.info("face verification started", extra={"verification_id": v.id,
                                                      "purpose": purpose,
                                                      "provider": self.provider.name})
        return v

    async def _identity_to_bind(self, user_id: str, name: Any,
                                id_number: Any) -> ExpectedIdentity:
        problems = {}
        if (why := name_problem(name)) is not None:
            problems["name"] = why
        if (why := id_number_problem(id_number)) is not None:
            problems["id_number"] = why
        if problems:
            raise InvalidInput(problems)
        identity = ExpectedIdentity(name.strip(), normalize_id_number(id_number))
        user = await User.get_or_none(id=user_id)
        if user is None:
            raise NotFound()
        if user.identity_bound_at is not None and not self._same_as_bound(user, identity):
            raise _already_bound()
        return identity

    def _same_as_bound(self, user: User, identity: ExpectedIdentity) -> bool:
        return (user.id_index == self._cipher.index(identity.id_number)
                and user.real_name == identity.name)

    async def _subject(self, user_id: str) -> str | None:
        if not self.provider.needs_subject:
            return None
        login = await LoginIdentity.filter(user_id=user_id, provider=self.provider.name).first()
        if login is None:
            raise Conflict("此核身方式需要使用微信登录", code="wechat_login_required")
        return login.subject

    async def _owns(self, user_id: str, id_index: str) -> bool:
        """Has this user verified (bound) the identity with this ID number?"""
        return await User.filter(id=user_id, id_index=id_index,
                                 identity_bound_at__isnull=False).exists()

    async def _rate_limit(self, user_id: str, id_index: str, *, owner: bool) -> None:
        """Starts per user, and per ID number counted per claimant.

        The ID number's starts are counted apart for its verified owner and for
        each account that merely claims it: a stranger who hammers someone's ID
        number spends only their own quota and never locks the owner out (a
        shared per-ID counter would let anyone do that to anyone).
        Keys carry the blind index, never the ID number itself.
        """
        window = self._policy.window_s
        retry = {"Retry-After": str(window)}
        if await self._kv.hit(f"face:starts:user:{user_id}", window) > self._policy.per_user:
            raise RateLimited(details={"scope": "user"}, headers=retry)
        claimant = "owner" if owner else f"claim:{user_id}"
        if await self._kv.hit(f"face:starts:id:{id_index}:{claimant}", window) > \
                self._policy.per_id_number:
            raise RateLimited(details={"scope": "id_number"}, headers=retry)

    async def get(self, user_id: str, verification_id: str) -> FaceVerification:
        v = await FaceVerification.get_or_none(id=verification_id, user_id=user_id)
        if v is None:
            raise _not_found()
        return v

    async def complete(self, user_id: str, verification_id: str) -> FaceVerification:
        """Ask the provider (server to server) and record the verdict; repeatable.

        Once final, the stored verdict is the answer and the provider is not asked
        again. Provider trouble (502/503/504) leaves the verification pending.
        """
        v = await self.get(user_id, verification_id)
        if v.status == "pending":
            v = await self._query_and_record(v)
        if v.status == "passed" and v.purpose == BIND_IDENTITY:
            await self._bind(v)
        return v

    async def _query_and_record(self, v: FaceVerification) -> FaceVerification:
        if await self._kv.hit(f"face:complete:{v.id}", 60) > COMPLETE_QUERIES_PER_MINUTE:
            raise RateLimited(details={"scope": "verification"}, headers={"Retry-After": "60"})
        identity = ExpectedIdentity(v.expected_name, self._cipher.decrypt(v.expected_id_enc))
        result = await self.provider.fetch_result(ResultQuery(
            provider_ref=v.provider_ref, reference=v.id, identity=identity, subject=v.subject))
        if not result.finished:
            raise Conflict("人脸核身尚未完成，请在手机上完成后再试",
                           code="face_verification_pending")
        verdict = judge(result, identity, threshold=self._policy.similarity_threshold,
                        echoes_identity=self.provider.echoes_identity,
                        reports_score=self.provider.reports_score)
        now = self._now()
        valid_until = now + timedelta(seconds=self._policy.result_valid_s) \
            if verdict.passed else None
        # Conditional on still pending: of two concurrent completes, the first one wins
        # and the second returns what the first recorded.
        await FaceVerification.filter(id=v.id, status="pending").update(
            status=verdict.status, reason_code=verdict.reason_code, score=result.score,
            provider_request_id=result.provider_request_id,
            provider_code=(result.provider_code or "")[:64] or None,
            answer_sha256=result.answer_sha256, completed_at=now, valid_until=valid_until)
        await v.refresh_from_db()
        log.info("face verification completed", extra={"verification_id": v.id,
                                                        "status": v.status,
                                                        "reason_code": v.reason_code})
        return v

    async def _bind(self, v: FaceVerification) -> None:
        """Bind the verified identity to the user for good; the same one again is a no-op."""
        now = self._now()
        async with in_transaction():
            bound = await User.filter(id=v.user_id, identity_bound_at__isnull=True).update(
                real_name=v.expected_name,
                id_number_enc=v.expected_id_enc,
                id_index=v.expected_id_index, identity_bound_at=now)
            if not bound:
                user = await User.get(id=v.user_id)
                if user.id_index != v.expected_id_index or user.real_name != v.expected_name:
                    raise _already_bound()
            await FaceVerification.filter(id=v.id, consumed_at__isnull=True).update(
                consumed_at=now, consumed_for=BIND_IDENTITY)

    # --- rendering ----------------------------------------------------------------

    def view(self, v: FaceVerification) -> dict[str, Any]:
        """The API's view: masked identity only, never the ID number."""
        id_number = self._cipher.decrypt(v.expected_id_enc)
        return {
            "id": v.id,
            "purpose": v.purpose,
            "contract_id": v.contract_id,
            "provider": v.provider,
            "status": v.status,
            "reason_code": v.reason_code,
            "score": v.score,
            "client_payload": v.client_payload if v.status == "pending" else None,
            "identity": {"name_masked": mask_name(v.expected_name),
                         "id_number_masked": mask_id_number(id_number)},
            "created_at": clock.rfc3339(v.created_at),
            "expires_at": clock.rfc3339(v.expires_at),
            "completed_at": clock.rfc3339(v.completed_at),
            "valid_until": clock.rfc3339(v.valid_until),
            "consumed": v.consumed_at is not None,
        }


def build_face_service(settings: Settings, secrets: ServiceSecrets,
                       session: aiohttp.ClientSession, kv: KeyValueStore,
                       cipher: IdentityCipher, step_gate: StepGate | None = None
                       ) -> FaceService:
    """The worker's face service, with the provider ``FACE_PROVIDER`` names."""
    policy = FacePolicy(
        similarity_threshold=float(settings.face_similarity_threshold),
        result_valid_s=settings.face_result_valid_s,
        consent_text_version=settings.face_consent_text_version,
        per_user=settings.face_rate_per_user,
        per_id_number=settings.face_rate_per_id_number,
        window_s=settings.face_rate_window_s,
    )
    return FaceService(build_provider(settings, secrets, session, kv), kv=kv, cipher=cipher,
                       policy=policy, step_gate=step_gate)


def _already_bound() -> Conflict:
    return Conflict("该账号已绑定其他身份，不能更换", code="identity_already_bound")


def _contract_id(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput({"contract_id": "签署或撤销时必填"})
    if len(value.strip()) > CONTRACT_ID_MAX:
        raise InvalidInput({"contract_id": f"长度不能超过{CONTRACT_ID_MAX}"})
    return value.strip()
