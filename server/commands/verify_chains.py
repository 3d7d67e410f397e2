"""``verify-chains``: check every contract's hash-chained timeline; name the first broken link."""

from __future__ import annotations

import argparse
import json

from server.commands.common import with_orm
from server.config import Settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("verify-chains", help="verify the hash chains of contract timelines")
    p.add_argument("--contract", help="only this contract id")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from server.models import Contract
    from server.services.timeline import verify_chain

    async def check() -> list:
        ids = [args.contract] if args.contract else \
            await Contract.all().order_by("created_at").values_list("id", flat=True)
        return [await verify_chain(cid) for cid in ids]

    reports = with_orm(Settings.from_env(), check)
    broken = [r for r in reports if not r.ok]
    for r in broken:
        print(json.dumps({"contract_id": r.contract_id, "first_broken_seq": r.first_broken_seq,
                          "reason": r.reason}))
    print(json.dumps({"contracts": len(reports), "broken": len(broken)}))
    return 1 if broken else 0
