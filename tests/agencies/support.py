"""Operators' CLI and logins for the agencies' and the staff's tests: agency clients with a
token, staff accounts logged in, and a region of a test's own."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import httpx

from tests import sale as s
from tests.live import ROOT, LiveServer


def new_region() -> str:
    """A county-level code no other test uses (湖南 43xxxx), so counts are this test's own."""
    return f"43{1000 + secrets.randbelow(9000):04d}"


def cli(server: LiveServer, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "server", *args], env=server.env, cwd=ROOT,
                          capture_output=True, text=True)


def last_json(out: subprocess.CompletedProcess) -> dict[str, Any]:
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@dataclass
class Agency:
    client_id: str
    client_secret: str
    kind: str
    region: str
    token: str = ""
    webhook: dict[str, Any] | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def agency(server: LiveServer, api: httpx.Client, kind: str, region: str, *,
           webhook_url: str | None = None, name: str | None = None) -> Agency:
    args = ["agency-client", "create", "--name", name or f"{kind}-{region}", "--kind", kind,
            "--region", region]
    if webhook_url:
        args += ["--webhook-url", webhook_url]
    creds = last_json(cli(server, *args))
    client = Agency(creds["client_id"], creds["client_secret"], kind, region,
                    webhook=creds.get("webhook"))
    body = s.expect(api.post("/agency/v1/token", data={
        "grant_type": "client_credentials", "client_id": client.client_id,
        "client_secret": client.client_secret}), 200)
    client.token = body["access_token"]
    return client


@dataclass
class Staff:
    staff_id: str
    name: str
    service_point: str
    region: str
    password: str
    token: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


COUNTER = "咸安区不动产交易大厅3号窗口"


def staff_account(server: LiveServer, region: str, service_point: str = COUNTER,
                  name: str = "窗口张晓") -> Staff:
    """A new staff account as the CLI creates it: only a one-time password, not logged in."""
    out = last_json(cli(server, "staff", "create", "--name", name, "--service-point",
                        service_point, "--region", region))
    return Staff(out["staff_id"], out["name"], out["service_point"], out["region_code"],
                 out["one_time_password"])


def staff(server: LiveServer, api: httpx.Client, region: str, **kw: str) -> Staff:
    """A staff account that has set its own password and is logged in."""
    member = staff_account(server, region, **kw)
    new_password = "Counter-" + secrets.token_hex(6) + "9"
    session = s.expect(api.post("/api/v1/staff/password", json={
        "staff_id": member.staff_id, "password": member.password,
        "new_password": new_password}), 200)
    member.password = new_password
    member.token = session["access_token"]
    return member
