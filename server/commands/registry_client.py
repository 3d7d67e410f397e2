"""``registry-client create|list|disable``: credentials for a registration office's system.

``create`` prints the secret once; the last line of its output is a JSON object
``{"client_id", "client_secret", "name", "region_code", "scope"}`` for scripts.
Only a scrypt hash of the secret is stored.
"""

from __future__ import annotations

import argparse
import json
import sys

from server.commands.common import created, refused, with_orm
from server.config import Settings
from server.domain.errors import FieldProblems
from server.services.registry_clients import ALL_SCOPES, RegistryClients


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("registry-client", help="manage registration-office API clients")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="create a client; prints its secret once")
    create.add_argument("--name", required=True, help="e.g. 咸宁市咸安区不动产登记中心")
    create.add_argument("--region", required=True, help="county-level region code, e.g. 421202")
    create.add_argument("--scopes", default=" ".join(ALL_SCOPES),
                        help=f"space-separated subset of: {' '.join(ALL_SCOPES)}")
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
    scopes = tuple(args.scopes.split())
    unknown = sorted(set(scopes) - set(ALL_SCOPES))
    if unknown or not scopes:
        print(f"error: --scopes: unknown scope(s) {' '.join(unknown) or '(none given)'}",
              file=sys.stderr)
        return 1
    try:
        new = with_orm(settings, lambda: RegistryClients().create(args.name, args.region,
                                                                  scopes=scopes),
                       migrate=not settings.uses_postgres)
    except FieldProblems as exc:
        return refused(exc)
    return created(f"registry client created for region {new.region_code}: {new.name}",
                   new.as_dict())


def run_list(args: argparse.Namespace) -> int:
    settings = _settings()
    clients = with_orm(settings, RegistryClients().list, migrate=not settings.uses_postgres)
    for c in clients:
        print(json.dumps({"client_id": c.client_id, "name": c.name,
                          "region_code": c.region_code, "scope": c.scopes,
                          "disabled": c.disabled_at is not None}, ensure_ascii=False))
    return 0


def run_disable(args: argparse.Namespace) -> int:
    settings = _settings()
    done = with_orm(settings, lambda: RegistryClients().disable(args.client_id),
                    migrate=not settings.uses_postgres)
    print(f"{args.client_id}: {'disabled' if done else 'no such enabled client'}")
    return 0 if done else 1
