"""Agencies' API clients (tax, bank, public security, provident fund): created by an
operator, each bound to one region and one kind, which decides what it may read.

Credentials work as the registration offices' do (same hashing, throttle and
token grant; :mod:`server.services.client_credentials`). A tax client may be
given a webhook URL: its endpoint joins the webhook outbox, and every filing
(and revocation) of its region is pushed to it (:mod:`server.services.outbox`).
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from typing import Any

from tortoise.transactions import in_transaction

from server.domain import clock
from server.domain.errors import FieldProblems
from server.domain.sharing import AGENCY_KINDS
from server.models import AgencyClient, WebhookEndpoint
from server.services.client_credentials import SecretChecks, TokenThrottle, hash_secret
from server.services.registry_clients import authenticate_client, client_problems
from server.services.standard_webhooks import new_secret

SCOPES = ("contracts:read",)
# Kinds whose filings are pushed: the tax bureau assesses every filed sale (契税); the
# others act on a citizen's application and read the contract when it is brought to them.
WEBHOOK_KINDS = ("tax",)
MAX_URL = 512


@dataclass(frozen=True)
class NewAgencyClient:
    client_id: str
    client_secret: str
    name: str
    kind: str
    region_code: str
    webhook: dict[str, Any] | None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"client_id": self.client_id, "client_secret": self.client_secret,
                               "name": self.name, "kind": self.kind,
                               "region_code": self.region_code, "scope": " ".join(SCOPES)}
        if self.webhook is not None:
            out["webhook"] = self.webhook
        return out


def agency_problems(name: object, kind: object, region_code: object,
                    webhook_url: object) -> None:
    fields: dict[str, str] = {}
    try:
        client_problems(name, region_code)
    except FieldProblems as exc:
        fields.update(exc.fields)
    if kind not in AGENCY_KINDS:
        fields["kind"] = f"可选：{', '.join(AGENCY_KINDS)}"
    if webhook_url is not None:
        if not isinstance(webhook_url, str) or len(webhook_url) > MAX_URL \
                or not webhook_url.startswith(("http://", "https://")) \
                or not webhook_url.isprintable() or " " in webhook_url:
            fields["webhook-url"] = f"应为 http(s) 地址，不超过{MAX_URL}个字符"
        elif kind in AGENCY_KINDS and kind not in WEBHOOK_KINDS:
            fields["webhook-url"] = "只有税务部门（tax）的客户端接收备案推送"
    if fields:
        raise FieldProblems(fields)


class AgencyClients:
    def __init__(self, throttle: TokenThrottle | None = None) -> None:
        self._checks = SecretChecks(throttle)

    async def create(self, name: str, kind: str, region_code: str,
                     webhook_url: str | None = None) -> NewAgencyClient:
        """Create a client (and its webhook endpoint); the secrets are returned, never kept."""
        agency_problems(name, kind, region_code, webhook_url)
        client_id = f"ag_{kind[:3]}_{region_code}_{secrets.token_hex(6)}"
        client_secret = secrets.token_urlsafe(32)
        secret_hash = await asyncio.to_thread(hash_secret, client_secret)
        webhook = None
        async with in_transaction():
            await AgencyClient.create(client_id=client_id, name=name.strip(), kind=kind,
                                      region_code=region_code, secret_hash=secret_hash)
            if webhook_url is not None:
                secret = new_secret()
                endpoint = await WebhookEndpoint.create(region_code=region_code, url=webhook_url,
                                                        secret=secret, agency_client_id=client_id)
                webhook = {"endpoint_id": endpoint.id, "url": webhook_url, "secret": secret}
        return NewAgencyClient(client_id, client_secret, name.strip(), kind, region_code,
                               webhook)

    async def authenticate(self, client_id: str, client_secret: str,
                           address: str | None = None) -> AgencyClient:
        """The enabled client with this secret; 401 ``invalid_client``, 429 when throttled."""
        return await authenticate_client(self._checks, AgencyClient, client_id, client_secret,
                                         address, realm="agency")

    @staticmethod
    def scopes_of(client: AgencyClient) -> list[str]:
        return list(SCOPES)

    async def enabled(self, client_id: str) -> AgencyClient | None:
        client = await AgencyClient.get_or_none(client_id=client_id)
        return client if client is not None and client.disabled_at is None else None

    async def disable(self, client_id: str) -> bool:
        """Disable the client and stop its pushes."""
        async with in_transaction():
            done = await AgencyClient.filter(client_id=client_id, disabled_at=None) \
                .update(disabled_at=clock.now())
            await WebhookEndpoint.filter(agency_client_id=client_id).update(active=False)
        return bool(done)

    async def list(self) -> list[AgencyClient]:
        return list(await AgencyClient.all().order_by("created_at"))
