"""``archive renew [--within-days N]``: renew archive timestamps that are about to lapse.

Does from the command line (cron, an operator) what each worker's background
task does on a schedule; both can run at once (see
:mod:`server.services.contracts.archive`).
"""

from __future__ import annotations

import argparse
import json
import logging

from server.commands.common import with_orm
from server.config import Settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("archive", help="long-term archive of filed contracts")
    archive_sub = p.add_subparsers(dest="archive_command", required=True, metavar="ACTION")
    renew = archive_sub.add_parser(
        "renew", help="add a fresh archive timestamp to every filed PDF whose TSA certificate "
                      "expires soon")
    renew.add_argument("--within-days", type=int, default=None,
                       help="renew when the newest archive timestamp's TSA certificate expires "
                            "within N days (default ARCHIVE_RENEW_WITHIN_DAYS, 180)")
    renew.set_defaults(handler=run_renew)


def run_renew(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    within = settings.archive_renew_within_days if args.within_days is None else args.within_days
    if within < 1:
        print("archive renew: --within-days must be at least 1")
        return 2

    async def renew() -> dict:
        from server.services.contracts.archive import renew_due
        from server.services.offline_deps import open_contract_deps
        from server.services.verification.filed_reports import prepare_pending

        async with open_contract_deps(settings) as deps:
            report = (await renew_due(deps, within)).to_dict()
            # the renewed versions' public validation reports, while the pool is up
            # (a failure is only work left to the servers' sweep or the first check)
            try:
                report["validated"] = await prepare_pending(deps)
            except Exception:  # noqa: BLE001
                logging.getLogger("server.archive").exception("validating renewed documents")
            return report

    report = with_orm(settings, renew)
    print(json.dumps(report, ensure_ascii=False))
    return 1 if any(r.startswith("error") for r in report["skipped"].values()) else 0
