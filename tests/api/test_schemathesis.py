"""Schemathesis, driven by /docs/openapi.json, finds no server error (issue 12).

Bounded and seeded: a fixed number of examples per operation and a fixed seed, so a run
takes about a minute per API and repeats. The mini-program and verification APIs run
authenticated as a user with a bound identity, the registry API as a registry client of
the region, the staff API as a staff member, the agencies' API as a tax client; logouts
are left out so a run does not revoke its own token halfway.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pytest

from tests import sale as s
from tests.live import ROOT, LiveServer

SEED = 20261201
MAX_EXAMPLES = 12
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


@pytest.fixture(scope="module")
def fuzz_server(backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Its own server and database: fuzzed writes do not reach the other tests' data."""
    env = backend.new_database_env(tmp_path_factory.mktemp("fuzz"))
    server = LiveServer(env)
    server.migrate()
    server.start()
    yield server
    server.stop()


def _run(server: LiveServer, token: str, tmp_path: Path, *filters: str) -> set[str]:
    """Run schemathesis; the operations it tested (from its JUnit report)."""
    report = tmp_path / "junit.xml"
    proc = subprocess.run(
        [str(SCHEMATHESIS), "run", f"{server.base_url}/docs/openapi.json",
         "--url", server.base_url, "--checks", "not_a_server_error",
         "--phases", "examples,coverage,fuzzing", "--max-examples", str(MAX_EXAMPLES),
         "--seed", str(SEED), "--workers", "1", "--no-shrink", "--request-timeout", "30",
         "--header", f"Authorization: Bearer {token}", "--report", "junit",
         "--report-junit-path", str(report), "--warnings", "off", *filters],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
        env={**os.environ, "SCHEMATHESIS_HOOKS": "tests.api.schemathesis_hooks"})
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-8000:]
    assert "No issues found" in output, output[-8000:]
    cases = ElementTree.parse(report).getroot().iter("testcase")
    return {case.get("name", "") for case in cases}


def _server_errors_in_log(server: LiveServer) -> list[str]:
    return [line for line in server.log_path.read_text().splitlines()
            if "unhandled exception" in line]


def test_mini_program_and_verification_apis(fuzz_server: LiveServer, tmp_path: Path):
    with httpx.Client(base_url=fuzz_server.base_url, timeout=30) as api:
        user = s.person(api)
    tested = _run(fuzz_server, user.token, tmp_path,
                  "--include-path-regex", "^/(api/v1|v)/",
                  "--exclude-path-regex", "^/api/v1/staff/",
                  "--exclude-path", "/api/v1/auth/logout")
    assert {"POST /api/v1/contracts", "PATCH /api/v1/contracts/{contract_id}",
            "POST /api/v1/face-verifications", "GET /api/v1/verify/{code}",
            "POST /api/v1/verify/{code}/document"} <= tested, tested
    assert "POST /api/v1/auth/logout" not in tested
    assert _server_errors_in_log(fuzz_server) == []


def test_registry_api(fuzz_server: LiveServer, tmp_path: Path):
    with httpx.Client(base_url=fuzz_server.base_url, timeout=30) as api:
        client = s.registry_client(fuzz_server, api)
    tested = _run(fuzz_server, client.token, tmp_path, "--include-path-regex", "^/registry/v1/")
    assert {"PUT /registry/v1/units/{unit_no}", "GET /registry/v1/contracts",
            "POST /registry/v1/token"} <= tested, tested
    assert _server_errors_in_log(fuzz_server) == []


def test_staff_api(fuzz_server: LiveServer, tmp_path: Path):
    from tests.agencies import support as a

    with httpx.Client(base_url=fuzz_server.base_url, timeout=30) as api:
        clerk = a.staff(fuzz_server, api, s.REGION)
    tested = _run(fuzz_server, clerk.token, tmp_path, "--include-path-regex", "^/api/v1/staff/",
                  "--exclude-path", "/api/v1/staff/logout")
    assert {"POST /api/v1/staff/contracts", "POST /api/v1/staff/login",
            "POST /api/v1/staff/contracts/{contract_id}/invitations"} <= tested, tested
    assert _server_errors_in_log(fuzz_server) == []


def test_agency_api(fuzz_server: LiveServer, tmp_path: Path):
    from tests.agencies import support as a

    with httpx.Client(base_url=fuzz_server.base_url, timeout=30) as api:
        tax = a.agency(fuzz_server, api, "tax", s.REGION)
    tested = _run(fuzz_server, tax.token, tmp_path, "--include-path-regex", "^/agency/v1/")
    assert {"POST /agency/v1/token", "GET /agency/v1/contracts/{contract_no}"} <= tested, tested
    assert _server_errors_in_log(fuzz_server) == []
