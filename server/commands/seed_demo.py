"""``seed-demo``: load the 咸宁市 demo data set and print ready-to-try logins.

Idempotent: a second run changes nothing and prints the same table. The demo
users' identities are bound directly, without face verification, so the
command refuses to run in production. The output is Markdown, ready to paste
into the README; its last line is the demo registry client as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter

from server.commands.common import with_orm
from server.config import Settings
from server.demo.seed import SeedReport, seed
from server.identity_crypto import IdentityCipher
from server.secrets import load_secrets


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("seed-demo", help="load demo data (development only; idempotent)")
    p.set_defaults(handler=run)


def render(report: SeedReport, base_url: str) -> str:
    out = ["## Demo data (咸宁市, synthetic)", ""]
    counts = Counter(report.changes)
    out.append("Changes: " + (", ".join(f"{label} ×{n}" for label, n in counts.items())
                              if counts else "none (already seeded)"))
    out += [f"Note: {n}" for n in report.notes]
    out += ["",
            "Sandbox logins: `POST /api/v1/auth/login {\"provider\": \"sandbox\", \"code\": "
            "CODE}`. seed-demo bound each identity directly (no face verification). The "
            "people are made up; their ID numbers only pass the GB 11643 check digit.", "",
            "| login code | person | ID number | house (certificate_no) | "
            "`POST /api/v1/properties/check` says |",
            "|---|---|---|---|---|"]
    for row in report.logins:
        out.append(f"| `{row.code}` | {row.name} | {row.id_number} | {row.house} | "
                   f"{row.check_says} |")
    out += ["", "Any other sandbox code is a fresh user without a bound identity: "
            "403 `identity_not_bound`."]
    if report.client:
        c = report.client
        out += ["", f"Demo registry client for region {c['region_code']} ({c['name']}):", "",
                "```",
                f"curl -s -X POST {base_url}/registry/v1/token "
                f"-d client_id={c['client_id']} -d client_secret={c['client_secret']}",
                "```", "", json.dumps(c, ensure_ascii=False)]
    return "\n".join(out)


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    if settings.production:
        print("error: seed-demo binds identities without face verification; it is refused "
              "when APP_ENV=production", file=sys.stderr)
        return 2
    secrets = load_secrets(settings)
    cipher = IdentityCipher.configured(settings, secrets)
    report = with_orm(settings, lambda: seed(cipher, secrets.identity_index_key),
                      migrate=not settings.uses_postgres)
    print(render(report, settings.public_base_url))
    return 0
