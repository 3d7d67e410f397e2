"""``reencrypt [--to sm4|aes] [--dry-run]``: convert the identity data at rest to one cipher.

The target defaults to the deployment's (``SIGNING_SUITE=sm2`` → SM4, else AES). It can
run while the service serves (see :mod:`server.services.reencryption`), be stopped at
any moment and simply be run again; a run with nothing left to do converts nothing.
Prints one line of counts per column, then a JSON summary; exit 1 when a row could not
be read by any configured key (it is left as it is and named by table and key only).
"""

from __future__ import annotations

import argparse
import json
import sys

from server.commands.common import with_orm
from server.config import ConfigError, Settings

_TARGETS = {"sm4": "sm4-gcm", "aes": "aes-256-gcm"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("reencrypt", help="re-encrypt ID numbers and phones at rest "
                                         "(SM4-GCM or AES-256-GCM)")
    p.add_argument("--to", choices=sorted(_TARGETS),
                   help="the target cipher (default: the one SIGNING_SUITE writes)")
    p.add_argument("--dry-run", action="store_true", help="count what would change; write nothing")
    p.add_argument("--batch-size", type=int, default=500, help="rows per transaction (500)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from server.identity_crypto import IdentityCipher, KeyNotConfigured
    from server.secrets import load_secrets
    from server.services.reencryption import ColumnReport, reencrypt

    if args.batch_size < 1:
        print("reencrypt: --batch-size must be at least 1", file=sys.stderr)
        return 2
    settings = Settings.from_env()
    cipher = IdentityCipher.configured(settings, load_secrets(settings))
    target_name = _TARGETS[args.to] if args.to else cipher.write_algorithm
    try:
        target = cipher.writing(target_name)  # type: ignore[arg-type]
    except KeyNotConfigured:
        raise ConfigError("IDENTITY_SM4_KEY: reencrypt --to sm4 needs the SM4 key") from None
    if target_name != cipher.write_algorithm:
        print(f"note: SIGNING_SUITE={settings.signing_suite} writes new rows with "
              f"{cipher.write_algorithm}; run again after changing it", file=sys.stderr)

    def progress(column: str, stats: ColumnReport) -> None:
        print(f"  {column}: {stats.rows} rows so far", file=sys.stderr, flush=True)

    report = with_orm(settings, lambda: reencrypt(target, dry_run=args.dry_run,
                                                  batch_size=args.batch_size,
                                                  on_batch=progress),
                      migrate=not settings.uses_postgres)
    for name, stats in report.columns.items():
        c = stats.as_dict()
        print(f"{name}: rows {c['rows']}, {'would convert' if args.dry_run else 'converted'} "
              f"{c['converted']}, already {c['already']}, changed meanwhile "
              f"{c['changed_meanwhile']}, unreadable {c['unreadable']}")
    print(json.dumps(report.as_dict()))
    return 0 if report.ok else 1
