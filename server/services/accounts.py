"""Log-in, token refresh with rotation, log-out, and the identity bound to a user."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from tortoise.transactions import in_transaction

from server.adapters.login import LoginProvider, LoginRejected
from server.auth.tokens import AccessTokens
from server.domain import clock
from server.domain.identity import mask_id_number, mask_name
from server.errors import ApiError, NotFound, Unauthenticated
from server.identity_crypto import IdentityCipher
from server.kv import KeyValueStore
from server.models import LoginIdentity, RefreshToken, User


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_id() -> str:
    return secrets.token_hex(8)


@dataclass
class Session:
    access_token: str
    refresh_token: str
    expires_in: int
    user: User


class Accounts:
    def __init__(self, tokens: AccessTokens, providers: dict[str, LoginProvider],
                 kv: KeyValueStore, cipher: IdentityCipher, refresh_ttl_s: int) -> None:
        self.tokens = tokens
        self.providers = providers
        self.kv = kv
        self.cipher = cipher
        self.refresh_ttl_s = refresh_ttl_s

    async def login(self, provider: str, code: str) -> Session:
        login_provider = self.providers.get(provider)
        if login_provider is None:
            raise ApiError("不支持的登录方式", code="unknown_provider",
                           details={"fields": {"provider": f"可选：{', '.join(self.providers)}"}})
        try:
            account = await login_provider.exchange(code)
        except LoginRejected:
            raise Unauthenticated("登录凭证无效或已过期", code="login_rejected") from None
        async with in_transaction():
            identity = await LoginIdentity.get_or_none(provider=account.provider,
                                                       subject=account.subject)
            if identity is None:
                user = await User.create(id=new_id())
                await LoginIdentity.create(provider=account.provider, subject=account.subject,
                                           user=user)
            else:
                user = await User.get(id=identity.user_id)  # type: ignore[attr-defined]
        return await self._session(user, family=secrets.token_hex(8))

    async def _session(self, user: User, family: str) -> Session:
        access, _ = self.tokens.issue(user.id)
        refresh = secrets.token_urlsafe(32)
        await RefreshToken.create(token_hash=_hash(refresh), family=family, user=user,
                                  expires_at=clock.now() + timedelta(seconds=self.refresh_ttl_s))
        return Session(access, refresh, self.tokens.ttl_s, user)

    async def refresh(self, refresh_token: str) -> Session:
        """Rotate: the old token is used up; presenting a used one revokes its whole family."""
        now = clock.now()
        reused_family = None
        async with in_transaction():
            row = await RefreshToken.filter(token_hash=_hash(refresh_token)) \
                .select_for_update().first()
            if row is None or row.revoked_at is not None or row.expires_at <= now:
                raise Unauthenticated("刷新令牌无效", code="invalid_refresh_token")
            if row.used_at is not None:
                reused_family = row.family
            else:
                row.used_at = now
                await row.save(update_fields=["used_at"])
                user = await User.get(id=row.user_id)  # type: ignore[attr-defined]
                return await self._session(user, family=row.family)
        # A used token came back: someone has a copy. Revoke the whole family, committed
        # on its own (a refusal raised inside the transaction would roll it back).
        await RefreshToken.filter(family=reused_family).update(revoked_at=now)
        raise Unauthenticated("刷新令牌已被使用，请重新登录", code="refresh_token_reused")

    async def logout(self, user_id: str, jti: str, expires_at: int,
                     refresh_token: str | None) -> None:
        now = clock.now()
        ttl = max(1, expires_at - int(now.timestamp()))
        await self.kv.set(f"revoked-access:{jti}", b"1", ttl=ttl)
        if refresh_token:
            row = await RefreshToken.get_or_none(token_hash=_hash(refresh_token),
                                                 user_id=user_id)
            if row is not None:
                await RefreshToken.filter(family=row.family).update(revoked_at=now)

    async def is_access_revoked(self, jti: str) -> bool:
        return await self.kv.get(f"revoked-access:{jti}") is not None

    async def get_user(self, user_id: str) -> User:
        user = await User.get_or_none(id=user_id)
        if user is None:
            raise NotFound()
        return user

    def user_view(self, user: User) -> dict:
        verified = user.identity_bound_at is not None
        id_number = self.cipher.decrypt(user.id_number_enc) if user.id_number_enc else None
        return {
            "id": user.id,
            "real_name_verified": verified,
            "name_masked": mask_name(user.real_name) if user.real_name else None,
            "id_number_masked": mask_id_number(id_number) if id_number else None,
            "identity_bound_at": clock.rfc3339(user.identity_bound_at),
        }
