"""``python -m server <command>``: serve, migrate, seed-demo, registry-client, ...

Each command lives in :mod:`server.commands` and registers its own
sub-parser. A configuration problem prints one line and exits with status 2.
"""

from __future__ import annotations

import argparse
import sys

from server.commands import COMMAND_MODULES
from server.config import ConfigError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m server",
                                     description="二手房网签备案 backend")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
