"""Staff accounts of the service points (代理签约): created by an operator with a one-time
password, logged in with their own password, each bound to one region.

The password the CLI prints only serves to set the staff member's own one
(``POST /api/v1/staff/password``): a login with it is refused with
``password_change_required``, and once the password is set it no longer works.
Passwords are stored as scrypt hashes and checked like client secrets
(:mod:`server.services.client_credentials`: in threads, the same time for an
unknown account, failures throttled per account and per address).

Staff tokens have an audience of their own (``staff``): no mini-program route
accepts them, so a staff member can never confirm, sign, accept an invitation
or start a face verification for a party. Each request re-reads the staff row:
disabling an account, or changing or resetting its password, ends every token
issued before.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass
from typing import Any

from tortoise.transactions import in_transaction

from server.auth.tokens import Es256Codec, InvalidToken
from server.domain import clock
from server.domain.errors import FieldProblems
from server.domain.units import region_code_problem
from server.errors import Forbidden, Unauthenticated
from server.kv import KeyValueStore
from server.models import StaffMember, User
from server.services.client_credentials import SecretChecks, TokenThrottle, hash_secret

AUDIENCE = "staff"
TOKEN_TYPE = "staff_access"
MIN_PASSWORD = 10
MAX_PASSWORD = 128
# One-time passwords are read off a screen and typed: no 0/O, 1/l/I.
_OTP_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_OTP_LENGTH = 14


def one_time_password() -> str:
    return "".join(secrets.choice(_OTP_ALPHABET) for _ in range(_OTP_LENGTH))


@dataclass(frozen=True)
class StaffPrincipal:
    """Who acts at the counter: what every timeline event of theirs names."""

    staff_id: str
    name: str
    service_point: str
    region_code: str
    user_id: str  # the account that authors their drafts and invitations

    def timeline_data(self) -> dict[str, str]:
        return {"staff_id": self.staff_id, "name": self.name,
                "service_point": self.service_point}

    @property
    def actor(self) -> str:
        return f"staff:{self.staff_id}"


@dataclass(frozen=True)
class NewStaff:
    staff_id: str
    name: str
    service_point: str
    region_code: str
    one_time_password: str

    def as_dict(self) -> dict[str, str]:
        return {"staff_id": self.staff_id, "name": self.name,
                "service_point": self.service_point, "region_code": self.region_code,
                "one_time_password": self.one_time_password}


@dataclass(frozen=True)
class StaffSession:
    access_token: str
    expires_in: int
    staff: StaffPrincipal

    def as_dict(self) -> dict[str, Any]:
        s = self.staff
        return {"access_token": self.access_token, "token_type": "Bearer",
                "expires_in": self.expires_in,
                "staff": {"staff_id": s.staff_id, "name": s.name,
                          "service_point": s.service_point, "region_code": s.region_code}}


def staff_problems(name: object, service_point: object, region_code: object) -> None:
    fields: dict[str, str] = {}
    for key, value, most in (("name", name, 64), ("service-point", service_point, 128)):
        if not isinstance(value, str) or not value.strip() or len(value.strip()) > most \
                or not value.isprintable():
            fields[key] = f"必填，不超过{most}个字符，不能包含控制字符"
    if (reason := region_code_problem(region_code)) is not None:
        fields["region"] = reason
    if fields:
        raise FieldProblems(fields)


def password_problem(new_password: str, current: str) -> str | None:
    if len(new_password) < MIN_PASSWORD:
        return f"新密码至少{MIN_PASSWORD}个字符"
    if not any(c.isalpha() for c in new_password) or not any(c.isdigit() for c in new_password):
        return "新密码须同时包含字母和数字"
    if new_password == current:
        return "新密码不能与当前密码相同"
    return None


def _principal(row: StaffMember) -> StaffPrincipal:
    return StaffPrincipal(row.id, row.name, row.service_point, row.region_code,
                          row.user_id)  # type: ignore[attr-defined]


# -- the operator (CLI) ----------------------------------------------------------------


async def create(name: str, service_point: str, region_code: str) -> NewStaff:
    """A staff account and its one-time password (returned, never stored in the clear)."""
    staff_problems(name, service_point, region_code)
    otp = one_time_password()
    digest = await asyncio.to_thread(hash_secret, otp)
    staff_id = f"st_{region_code}_{secrets.token_hex(4)}"
    async with in_transaction():
        user = await User.create(id=secrets.token_hex(8))
        await StaffMember.create(id=staff_id, name=name.strip(),
                                 service_point=service_point.strip(),
                                 region_code=region_code, user=user, password_hash=digest)
    return NewStaff(staff_id, name.strip(), service_point.strip(), region_code, otp)


async def reset_password(staff_id: str) -> str | None:
    """A new one-time password (the old password and every token stop working)."""
    otp = one_time_password()
    digest = await asyncio.to_thread(hash_secret, otp)
    done = await StaffMember.filter(id=staff_id).update(
        password_hash=digest, must_change_password=True, password_changed_at=clock.now())
    return otp if done else None


async def disable(staff_id: str) -> bool:
    return bool(await StaffMember.filter(id=staff_id, disabled_at=None)
                .update(disabled_at=clock.now()))


async def list_staff() -> list[StaffMember]:
    return list(await StaffMember.all().order_by("created_at"))


# -- the staff member ------------------------------------------------------------------


class StaffAccounts:
    def __init__(self, private_key_pem: bytes, key_id: str, ttl_s: int, kv: KeyValueStore,
                 throttle: TokenThrottle | None = None) -> None:
        self._codec = Es256Codec(private_key_pem, key_id, AUDIENCE, TOKEN_TYPE)
        self.ttl_s = ttl_s
        self._kv = kv
        self._checks = SecretChecks(throttle)

    async def _check(self, staff_id: str, password: str, address: str | None) -> StaffMember:
        async def load():
            row = await StaffMember.get_or_none(id=staff_id)
            return None if row is None else (row, row.password_hash)

        row = await self._checks.check(staff_id, password, address, load,
                                       usable=lambda r: r.disabled_at is None)
        if row is None:
            raise Unauthenticated("工号或密码错误", code="invalid_credentials")
        return row

    def _session(self, row: StaffMember) -> StaffSession:
        token, _ = self._codec.encode(row.id, self.ttl_s, region=row.region_code)
        return StaffSession(token, self.ttl_s, _principal(row))

    async def login(self, staff_id: str, password: str, address: str | None) -> StaffSession:
        """401 ``invalid_credentials``; 403 ``password_change_required`` for the one-time
        password, which only :meth:`change_password` takes."""
        row = await self._check(staff_id, password, address)
        if row.must_change_password:
            raise Forbidden("首次登录请先修改密码", code="password_change_required")
        return self._session(row)

    async def change_password(self, staff_id: str, password: str, new_password: str,
                              address: str | None) -> StaffSession:
        """Set one's own password with the current (or the one-time) one; a session."""
        if (reason := password_problem(new_password, password)) is not None:
            raise FieldProblems({"new_password": reason})
        row = await self._check(staff_id, password, address)
        digest = await asyncio.to_thread(hash_secret, new_password)
        # Conditional on the hash just checked: of two changes racing with the same
        # one-time password, only one succeeds.
        changed = await StaffMember.filter(id=row.id, password_hash=row.password_hash).update(
            password_hash=digest, must_change_password=False, password_changed_at=clock.now())
        if not changed:
            raise Unauthenticated("工号或密码错误", code="invalid_credentials")
        return self._session(await StaffMember.get(id=row.id))

    async def logout(self, jti: str, expires_at: int) -> None:
        ttl = max(1, expires_at - int(time.time()))
        await self._kv.set(f"revoked-staff:{jti}", b"1", ttl=ttl)

    async def principal(self, token: str) -> tuple[StaffPrincipal, dict[str, Any]]:
        """The staff member a token stands for, and its claims; 401 ``invalid_token`` when
        it is forged, expired, logged out, older than the password, or the account disabled."""
        try:
            claims = self._codec.decode(token)
        except InvalidToken:
            raise Unauthenticated("登录已失效，请重新登录", code="invalid_token") from None
        row = await StaffMember.get_or_none(id=claims["sub"])
        changed = row.password_changed_at if row is not None else None
        if row is None or row.disabled_at is not None or row.must_change_password \
                or (changed is not None and int(claims["iat"]) < int(changed.timestamp())) \
                or await self._kv.get(f"revoked-staff:{claims.get('jti')}") is not None:
            raise Unauthenticated("登录已失效，请重新登录", code="invalid_token")
        return _principal(row), claims
