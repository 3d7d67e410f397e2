"""``agency-client create|list|disable``: credentials for other agencies' systems (tax, bank,
public security, provident fund).

``create`` prints the secret once; the last line of its output is a JSON object
``{"client_id", "client_secret", "name", "kind", "region_code", "scope"}`` (and
``webhook: {endpoint_id, url, secret}`` with ``--webhook-url``, for tax clients).
"""

from __future__ import annotations

import argparse
import json

from server.commands.common import created, refused, with_orm
from server.config import Settings
from server.domain.errors import FieldProblems
from server.domain.sharing import AGENCY_KINDS
from server.services.agency_clients import AgencyClients


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("agency-client", help="manage agencies' API clients (tax, bank, ...)")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="create a client; prints its secret once")
    create.add_argument("--name", required=True, help="e.g. 国家税务总局咸宁市咸安区税务局")
    create.add_argument("--kind", required=True, choices=list(AGENCY_KINDS),
                        help="what the agency reads (the README's data-item table)")
    create.add_argument("--region", required=True, help="county-level region code, e.g. 421202")
    create.add_argument("--webhook-url", default=None,
                        help="tax only: push every filing of the region to this URL "
                        "(Standard Webhooks; its secret is printed once)")
    create.set_defaults(handler=run_create)
    listing = actions.add_parser("list", help="list clients (never their secrets)")
    listing.set_defaults(handler=run_list)
    disable = actions.add_parser("disable", help="disable a client; its tokens stop working")
    disable.add_argument("client_id")
    disable.set_defaults(handler=run_disable)


def _settings() -> Settings:
    return Settings.from_env()


def run_create(args: argparse.Namespace) -> int:
    settings = _settings()
    try:
        new = with_orm(settings, lambda: AgencyClients().create(
            args.name, args.kind, args.region, args.webhook_url),
            migrate=not settings.uses_postgres)
    except FieldProblems as exc:
        return refused(exc)
    return created(f"agency client created for region {new.region_code}: {new.name} "
                   f"({new.kind})", new.as_dict())


def run_list(args: argparse.Namespace) -> int:
    settings = _settings()
    clients = with_orm(settings, AgencyClients().list, migrate=not settings.uses_postgres)
    for c in clients:
        print(json.dumps({"client_id": c.client_id, "name": c.name, "kind": c.kind,
                          "region_code": c.region_code,
                          "disabled": c.disabled_at is not None}, ensure_ascii=False))
    return 0


def run_disable(args: argparse.Namespace) -> int:
    settings = _settings()
    done = with_orm(settings, lambda: AgencyClients().disable(args.client_id),
                    migrate=not settings.uses_postgres)
    print(f"{args.client_id}: {'disabled' if done else 'no such enabled client'}")
    return 0 if done else 1
