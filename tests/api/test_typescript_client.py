"""A TypeScript client generated from /docs/openapi.json with openapi-typescript type-checks
(tsc --noEmit) against tests/typescript/sale-flow.ts, which walks a whole sale."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent.parent / "typescript"
BIN = HERE / "node_modules" / ".bin"


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    assert (BIN / args[0]).exists(), (
        f"{args[0]} is not installed: run scripts/bootstrap.sh --test (npm ci in {HERE.name})")
    return subprocess.run([str(BIN / args[0]), *args[1:]], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def test_generated_client_type_checks_the_sale_flow(api: httpx.Client, tmp_path: Path):
    (tmp_path / "openapi.json").write_bytes(api.get("/docs/openapi.json").content)
    for name in ("sale-flow.ts", "tsconfig.json"):
        shutil.copy(HERE / name, tmp_path / name)
    # Request fields with a default are optional to send: openapi-typescript would otherwise
    # type every defaulted property as present (its own default, meant for answers).
    gen = _run("openapi-typescript", "openapi.json", "--default-non-nullable", "false",
               "-o", "api.d.ts", cwd=tmp_path)
    assert gen.returncode == 0, gen.stderr
    types = (tmp_path / "api.d.ts").read_text()
    assert '"/api/v1/contracts/{contract_id}/confirm"' in types
    check = _run("tsc", "--noEmit", "-p", "tsconfig.json", cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr


def test_the_check_fails_on_a_wrong_type(api: httpx.Client, tmp_path: Path):
    """The usage file is not vacuous: the same check refuses a body of the wrong shape."""
    (tmp_path / "openapi.json").write_bytes(api.get("/docs/openapi.json").content)
    shutil.copy(HERE / "tsconfig.json", tmp_path / "tsconfig.json")
    flow = (HERE / "sale-flow.ts").read_text()
    broken = flow.replace("version: contract.version,", 'version: String(contract.version),')
    assert broken != flow
    (tmp_path / "sale-flow.ts").write_text(broken)
    assert _run("openapi-typescript", "openapi.json", "--default-non-nullable", "false",
                "-o", "api.d.ts", cwd=tmp_path).returncode == 0
    check = _run("tsc", "--noEmit", "-p", "tsconfig.json", cwd=tmp_path)
    assert check.returncode != 0 and "sale-flow.ts(" in check.stdout
    assert "'string' is not assignable to type 'number'" in check.stdout
