"""``staff create|list|reset-password|disable``: service-point staff (代理签约).

``create`` and ``reset-password`` print a one-time password; the last line of
their output is a JSON object ``{"staff_id", "name", "service_point",
"region_code", "one_time_password"}``. The one-time password only serves to set
the staff member's own (``POST /api/v1/staff/password``); only hashes are stored.
"""

from __future__ import annotations

import argparse
import json

from server.commands.common import created, refused, with_orm
from server.config import Settings
from server.domain.errors import FieldProblems
from server.services import staff


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("staff", help="manage service-point staff accounts (代理签约)")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="create a staff account; prints a one-time "
                                "password")
    create.add_argument("--name", required=True, help="the staff member's name")
    create.add_argument("--service-point", required=True,
                        help="e.g. 咸安区不动产交易服务大厅3号窗口")
    create.add_argument("--region", required=True, help="county-level region code, e.g. 421202")
    create.set_defaults(handler=run_create)
    listing = actions.add_parser("list", help="list staff accounts")
    listing.set_defaults(handler=run_list)
    reset = actions.add_parser("reset-password", help="a new one-time password; every login "
                               "of the account ends")
    reset.add_argument("staff_id")
    reset.set_defaults(handler=run_reset)
    disable = actions.add_parser("disable", help="disable an account; its logins end")
    disable.add_argument("staff_id")
    disable.set_defaults(handler=run_disable)


def _run(fn):
    settings = Settings.from_env()
    return with_orm(settings, fn, migrate=not settings.uses_postgres)


def run_create(args: argparse.Namespace) -> int:
    try:
        new = _run(lambda: staff.create(args.name, args.service_point, args.region))
    except FieldProblems as exc:
        return refused(exc)
    return created(f"staff account created: {new.staff_id} ({new.name}, {new.service_point})",
                   new.as_dict(), "the one-time password is shown only now; it only serves to "
                   "set the staff member's own password (POST /api/v1/staff/password)")


def run_list(args: argparse.Namespace) -> int:
    for s in _run(lambda: staff.list_staff()):
        print(json.dumps({"staff_id": s.id, "name": s.name, "service_point": s.service_point,
                          "region_code": s.region_code,
                          "must_change_password": s.must_change_password,
                          "disabled": s.disabled_at is not None}, ensure_ascii=False))
    return 0


def run_reset(args: argparse.Namespace) -> int:
    otp = _run(lambda: staff.reset_password(args.staff_id))
    if otp is None:
        print(f"{args.staff_id}: no such staff account")
        return 1
    print(f"{args.staff_id}: a new one-time password; earlier logins have ended")
    print(json.dumps({"staff_id": args.staff_id, "one_time_password": otp}))
    return 0


def run_disable(args: argparse.Namespace) -> int:
    done = _run(lambda: staff.disable(args.staff_id))
    print(f"{args.staff_id}: {'disabled' if done else 'no such enabled account'}")
    return 0 if done else 1
