"""``migrate``: bring the database schema up to date."""

from __future__ import annotations

import argparse
import asyncio

from server.config import Settings
from server.db import run_migrations


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("migrate", help="apply schema migrations")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    asyncio.run(run_migrations(settings))
    print("migrations applied")
    return 0
