"""``webhooks add|list|replay|rotate-secret``: the registration offices' endpoints and the dead
letters. Secrets are Standard Webhooks ``whsec_`` ones, printed once."""

from __future__ import annotations

import argparse
import json

from server.commands.common import with_orm
from server.config import ConfigError, Settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("webhooks", help="webhook endpoints and deliveries")
    wsub = p.add_subparsers(dest="webhooks_command", required=True)
    add = wsub.add_parser("add", help="add an endpoint for a region (prints its secret once)")
    add.add_argument("--region", required=True)
    add.add_argument("--url", required=True)
    add.set_defaults(handler=_add)
    ls = wsub.add_parser("list", help="list deliveries (default: dead letters)")
    ls.add_argument("--status", default="dead", choices=["dead", "pending", "delivered", "all"])
    ls.set_defaults(handler=_list)
    rp = wsub.add_parser("replay", help="queue a delivery again")
    rp.add_argument("delivery_id", type=int)
    rp.set_defaults(handler=_replay)
    rot = wsub.add_parser("rotate-secret", help="give an endpoint a new secret (printed once)")
    rot.add_argument("endpoint_id", type=int)
    rot.set_defaults(handler=_rotate)


def _add(args: argparse.Namespace) -> int:
    from server.models import WebhookEndpoint
    from server.services.standard_webhooks import new_secret

    if not (len(args.region) == 6 and args.region.isdigit()):
        raise ConfigError("--region: a six-digit administrative region code")
    if not args.url.startswith(("http://", "https://")):
        raise ConfigError("--url: must be an http(s) URL")
    secret = new_secret()

    async def run() -> int:
        ep = await WebhookEndpoint.create(region_code=args.region, url=args.url, secret=secret)
        return ep.id

    ep_id = with_orm(Settings.from_env(), run)
    print(json.dumps({"endpoint_id": ep_id, "region": args.region, "url": args.url,
                      "secret": secret}, ensure_ascii=False))
    return 0


def _list(args: argparse.Namespace) -> int:
    from server.models import WebhookDelivery
    from server.services.standard_webhooks import message_id

    async def run() -> list[dict]:
        query = WebhookDelivery.all() if args.status == "all" else \
            WebhookDelivery.filter(status=args.status)
        return [{"id": d.id, "event": d.event, "status": d.status, "attempts": d.attempts,
                 "last_error": d.last_error, "webhook_id": message_id(d.id),
                 "filing_no": (d.payload.get("data") or d.payload).get("filing_no"),
                 "history": d.history} for d in await query.order_by("id")]

    for row in with_orm(Settings.from_env(), run):
        print(json.dumps(row, ensure_ascii=False))
    return 0


def _replay(args: argparse.Namespace) -> int:
    from server.services.webhooks import replay

    ok = with_orm(Settings.from_env(), lambda: replay(args.delivery_id))
    print("queued" if ok else "no such delivery")
    return 0 if ok else 1


def _rotate(args: argparse.Namespace) -> int:
    from server.models import WebhookEndpoint
    from server.services.standard_webhooks import new_secret

    secret = new_secret()

    async def run() -> int:
        return await WebhookEndpoint.filter(id=args.endpoint_id).update(secret=secret)

    if not with_orm(Settings.from_env(), run):
        print("no such endpoint")
        return 1
    print(json.dumps({"endpoint_id": args.endpoint_id, "secret": secret}))
    return 0
