"""``import-units FILE``: load registration units from JSON lines, all or nothing.

Each non-empty line is one unit: the body of ``PUT /registry/v1/units/{unit_no}``
plus its ``unit_no``. Every line is validated first and every bad line is
reported (``line N: field: reason``); then all lines are applied in one
transaction, with the same ``source_version`` ordering as the API (a stale
line is skipped and said so). If anything fails, nothing is imported and the
exit status is 1. The last line of output is a JSON summary.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from server.commands.common import with_orm
from server.config import Settings
from server.domain.errors import FieldProblems
from server.domain.units import UnitData, parse_unit, region_code_problem
from server.identity_crypto import IdentityCipher
from server.secrets import load_secrets
from server.services.houses import ImportFailed, UnitRegistry


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import-units", help="import registration units from a JSON-lines file")
    p.add_argument("file", help="JSON lines, one unit per line ('-' for standard input)")
    p.add_argument("--region", help="refuse units outside this region code")
    p.set_defaults(handler=run)


def _read(path: str) -> list[str]:
    if path == "-":
        return sys.stdin.read().splitlines()
    return Path(path).read_text(encoding="utf-8").splitlines()


def validate_lines(lines: list[str], region: str | None
                   ) -> tuple[list[tuple[int, UnitData]], list[dict[str, Any]]]:
    """Parse every line; return the good ones and one error entry per bad line."""
    good: list[tuple[int, UnitData]] = []
    errors: list[dict[str, Any]] = []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            payload = json.loads(text)
        except json.JSONDecodeError as exc:
            errors.append({"line": number, "code": "invalid_json", "message": exc.msg})
            continue
        if not isinstance(payload, dict):
            errors.append({"line": number, "code": "invalid_json", "message": "应为 JSON 对象"})
            continue
        unit_no = payload.get("unit_no")
        try:
            good.append((number, parse_unit(unit_no if isinstance(unit_no, str) else "",
                                            payload, region_code=region)))
        except FieldProblems as exc:
            errors.append({"line": number, "code": "invalid_input", "fields": exc.fields})
    return good, errors


def _print_errors(errors: list[dict[str, Any]]) -> None:
    for e in errors:
        if "fields" in e:
            for name, reason in e["fields"].items():
                print(f"line {e['line']}: {name}: {reason}")
        else:
            print(f"line {e['line']}: {e['code']}: {e['message']}")


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    if args.region and (reason := region_code_problem(args.region)):
        print(f"error: --region: {reason}", file=sys.stderr)
        return 1
    try:
        lines = _read(args.file)
    except (OSError, UnicodeDecodeError) as exc:
        print(f"error: cannot read {args.file}: {exc}", file=sys.stderr)
        return 1
    good, errors = validate_lines(lines, args.region)
    if errors:
        _print_errors(errors)
        print(json.dumps({"imported": 0, "error_lines": [e["line"] for e in errors],
                          "errors": errors}, ensure_ascii=False))
        return 1
    secrets = load_secrets(settings)
    registry = UnitRegistry(IdentityCipher.configured(settings, secrets))
    try:
        results = with_orm(settings, lambda: registry.import_units(good),
                           migrate=not settings.uses_postgres)
    except ImportFailed as exc:
        entry = {"line": exc.line, "code": exc.error.code, "message": exc.error.message,
                 **({"fields": exc.error.details["fields"]}
                    if "fields" in exc.error.details else {})}
        print(f"line {exc.line}: {exc.error.code}: {exc.error.message} (nothing imported)")
        print(json.dumps({"imported": 0, "error_lines": [exc.line], "errors": [entry]},
                         ensure_ascii=False))
        return 1
    counts = Counter(r.result for _, r in results)
    for number, r in results:
        suffix = f" (current version {r.current_version})" if not r.applied else ""
        print(f"line {number}: {r.unit_no} {r.result}{suffix}")
    print(json.dumps({"imported": len(results), **{k: counts.get(k, 0) for k in (
        "created", "updated", "unchanged", "stale_version")}}))
    return 0
