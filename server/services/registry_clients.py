"""Registration offices' API clients: created by an operator, each bound to one region.

The secret is shown once, at creation, and stored as a scrypt hash; how it is
hashed and checked (in threads, throttled, in constant time whether the client
exists or not) is :mod:`server.services.client_credentials`, shared with the
agencies' clients and the staff's passwords.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from dataclasses import dataclass

from server.domain import clock
from server.domain.errors import FieldProblems
from server.domain.units import region_code_problem
from server.errors import Unauthenticated
from server.models import RegistryClient
from server.services.client_credentials import (
    SecretChecks,
    TokenThrottle,
    hash_secret,
    verify_secret,
)

__all__ = ["ALL_SCOPES", "NewClient", "RegistryClients", "TokenThrottle", "client_problems",
           "hash_secret", "verify_secret"]

ALL_SCOPES = ("units:read", "units:write", "contracts:read", "contracts:write")
CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_.-]{3,40}$")


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
                                  or not CLIENT_ID_RE.match(client_id)):
        fields["client_id"] = "client_id 应为3至40位字母、数字或 _ . -"
    if fields:
        raise FieldProblems(fields)


class RegistryClients:
    def __init__(self, throttle: TokenThrottle | None = None) -> None:
        self._checks = SecretChecks(throttle)

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
        return await authenticate_client(self._checks, RegistryClient, client_id,
                                         client_secret, address, realm="registry")

    @staticmethod
    def scopes_of(client: RegistryClient) -> list[str]:
        return client.scopes.split()

    async def enabled(self, client_id: str) -> RegistryClient | None:
        client = await RegistryClient.get_or_none(client_id=client_id)
        return client if client is not None and client.disabled_at is None else None

    async def disable(self, client_id: str) -> bool:
        return bool(await RegistryClient.filter(client_id=client_id, disabled_at=None)
                    .update(disabled_at=clock.now()))

    async def list(self) -> list[RegistryClient]:
        return list(await RegistryClient.all().order_by("created_at"))


async def authenticate_client(checks: SecretChecks, model: type, client_id: str,
                              client_secret: str, address: str | None, *, realm: str):
    """The enabled row of ``model`` (a client table) with this secret, else 401
    ``invalid_client`` (with the ``WWW-Authenticate`` challenge of ``realm``)."""

    async def load():
        if not CLIENT_ID_RE.match(client_id):
            return None
        row = await model.get_or_none(client_id=client_id)
        return None if row is None else (row, row.secret_hash)

    client = await checks.check(client_id, client_secret, address, load,
                                usable=lambda row: row.disabled_at is None)
    if client is None:
        raise Unauthenticated("客户端凭证无效", code="invalid_client",
                              headers={"WWW-Authenticate": f'Basic realm="{realm}"'})
    return client
