"""Registration offices' API clients: created by an operator, each bound to one region.

The secret is shown once, at creation, and stored as a scrypt hash (hashlib,
N=2^14, r=8, p=1, 16-byte salt): a stolen database does not give working
credentials. Verification compares in constant time, and an unknown
client_id costs the same scrypt as a wrong secret, so timing does not tell
which client ids exist.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from server.domain import clock
from server.domain.errors import FieldProblems
from server.domain.units import region_code_problem
from server.errors import RateLimited, Unauthenticated
from server.kv import KeyValueStore
from server.models import RegistryClient

ALL_SCOPES = ("units:read", "units:write", "contracts:read", "contracts:write")
_N, _R, _P, _DKLEN = 2**14, 8, 1, 32
_CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_.-]{3,40}$")
_MAX_SECRET = 256
# Verified against when the client id is unknown, to spend the same time.
_DUMMY_HASH = "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$" + "A" * 43


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_secret(secret: str, *, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=_DKLEN)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_secret(secret: str, encoded: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        if scheme != "scrypt":
            return False
        expected = _unb64(digest)
        actual = hashlib.scrypt(secret.encode(), salt=_unb64(salt), n=int(n), r=int(r),
                                p=int(p), dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


@dataclass(frozen=True)
class NewClient:
    client_id: str
    client_secret: str
    name: str
    region_code: str
    scopes: tuple[str, ...]

    def as_dict(self) -> dict[str, str]:
        return {"client_id": self.client_id, "client_secret": self.client_secret,
                "name": self.name, "region_code": self.region_code,
                "scope": " ".join(self.scopes)}


def client_problems(name: object, region_code: object, client_id: object = None) -> None:
    fields: dict[str, str] = {}
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 128:
        fields["name"] = "名称必填，不超过128个字符"
    if (reason := region_code_problem(region_code)) is not None:
        fields["region"] = reason
    if client_id is not None and (not isinstance(client_id, str)
                                  or not _CLIENT_ID_RE.match(client_id)):
        fields["client_id"] = "client_id 应为3至40位字母、数字或 _ . -"
    if fields:
        raise FieldProblems(fields)


@dataclass(frozen=True)
class TokenThrottle:
    """Failed token requests allowed per window, per client_id and per client address.

    Only failures count, so a client that knows its secret is never slowed by its
    own traffic; an attacker guessing secrets (or spraying client ids from one
    address) is refused before any further scrypt is spent.
    """

    kv: KeyValueStore
    per_client: int
    per_address: int
    window_s: int

    def _keys(self, client_id: str, address: str | None) -> list[tuple[str, int]]:
        digest = hashlib.sha256(client_id.encode("utf-8", "replace")).hexdigest()[:32]
        keys = [(f"regtoken:fail:client:{digest}", self.per_client)]
        if address:
            keys.append((f"regtoken:fail:addr:{address}", self.per_address))
        return keys

    async def refused(self, client_id: str, address: str | None) -> bool:
        for key, limit in self._keys(client_id, address):
            count = await self.kv.get(key)
            if count is not None and int(count) >= limit:
                return True
        return False

    async def failed(self, client_id: str, address: str | None) -> None:
        for key, _ in self._keys(client_id, address):
            await self.kv.hit(key, self.window_s)


# scrypt costs 16 MiB and tens of milliseconds each: a few at a time per worker, in
# threads (hashlib releases the GIL), never on the event loop.
_SCRYPT_SLOTS = 2


class RegistryClients:
    def __init__(self, throttle: TokenThrottle | None = None) -> None:
        self._throttle = throttle
        self._slots = asyncio.Semaphore(_SCRYPT_SLOTS)

    async def create(self, name: str, region_code: str, *, client_id: str | None = None,
                     client_secret: str | None = None,
                     scopes: tuple[str, ...] = ALL_SCOPES) -> NewClient:
        """Create a client; the returned secret is not stored anywhere in the clear."""
        client_problems(name, region_code, client_id)
        client_id = client_id or f"rc_{region_code}_{secrets.token_hex(6)}"
        client_secret = client_secret or secrets.token_urlsafe(32)
        secret_hash = await asyncio.to_thread(hash_secret, client_secret)
        await RegistryClient.create(client_id=client_id, name=name.strip(),
                                    region_code=region_code, secret_hash=secret_hash,
                                    scopes=" ".join(scopes))
        return NewClient(client_id, client_secret, name.strip(), region_code, scopes)

    async def authenticate(self, client_id: str, client_secret: str,
                           address: str | None = None) -> RegistryClient:
        """The enabled client with this secret; 401 ``invalid_client``, 429 when throttled."""
        throttle = self._throttle
        async with self._slots:
            # Checked once a slot is ours, so a burst queued behind the slots is
            # refused as soon as the failures before it reach the limit.
            if throttle is not None and await throttle.refused(client_id, address):
                raise RateLimited("认证失败次数过多，请稍后再试",
                                  headers={"Retry-After": str(throttle.window_s)})
            client = None
            ok = False
            if _CLIENT_ID_RE.match(client_id) and len(client_secret) <= _MAX_SECRET:
                client = await RegistryClient.get_or_none(client_id=client_id)
                encoded = client.secret_hash if client is not None else _DUMMY_HASH
                ok = await asyncio.to_thread(verify_secret, client_secret, encoded)
            failed = client is None or not ok or client.disabled_at is not None
            if failed and throttle is not None:
                # Counted while the slot is held, so the attempts queued behind it see it;
                # a burst overshoots the limit by at most one attempt per slot.
                await throttle.failed(client_id, address)
        if failed:
            raise Unauthenticated("客户端凭证无效", code="invalid_client",
                                  headers={"WWW-Authenticate": 'Basic realm="registry"'})
        return client

    async def enabled(self, client_id: str) -> RegistryClient | None:
        client = await RegistryClient.get_or_none(client_id=client_id)
        return client if client is not None and client.disabled_at is None else None

    async def disable(self, client_id: str) -> bool:
        return bool(await RegistryClient.filter(client_id=client_id, disabled_at=None)
                    .update(disabled_at=clock.now()))

    async def list(self) -> list[RegistryClient]:
        return list(await RegistryClient.all().order_by("created_at"))
