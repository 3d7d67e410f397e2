"""Helpers of the house tests: registry clients, unit payloads, people, and the raw database.

People get their identity through ``tests.flows.bind_identity`` (the face
verification sandbox). Only while that endpoint is not wired in (404) do we
fall back to writing the bound identity into the user row directly, with the
live server's development keys.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from server.identity_crypto import IdentityCipher
from tests import flows
from tests.live import ROOT

_NAMES = ("王建国", "李秀英", "张伟", "刘芳", "陈明", "赵丽", "杨洋", "黄磊", "周敏", "吴强",
          "徐静", "孙涛", "马兰", "朱平", "胡军", "郭艳")


def expect(resp: httpx.Response, *statuses: int) -> Any:
    assert resp.status_code in statuses, (
        f"{resp.request.method} {resp.request.url.path} -> {resp.status_code}: {resp.text}")
    return resp.json() if resp.content else None


def run_cli(env: dict[str, str], *args: str, stdin: str | None = None
            ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "server", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, input=stdin, timeout=120)


# -- the raw database of a live server -----------------------------------------------------

class Db:
    """SQL on the live server's database: sqlite3 for the embedded default, asyncpg else."""

    def __init__(self, env: dict[str, str]) -> None:
        self.url = env.get("DATABASE_URL") or ""
        self.path = Path(env["DATA_DIR"]) / "app.sqlite3"

    def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        if self.url.startswith("postgres"):
            return asyncio.run(self._pg(sql, args, fetch=True))
        with sqlite3.connect(self.path, timeout=10) as conn:
            conn.row_factory = sqlite3.Row
            rows = conn.execute(re.sub(r"\$\d+", "?", sql), args).fetchall()
            return [dict(r) for r in rows]

    def execute(self, sql: str, *args: Any) -> None:
        if self.url.startswith("postgres"):
            asyncio.run(self._pg(sql, args, fetch=False))
            return
        with sqlite3.connect(self.path, timeout=10) as conn:
            conn.execute(re.sub(r"\$\d+", "?", sql), [
                a.isoformat(sep=" ") if isinstance(a, datetime) else a for a in args])

    async def _pg(self, sql: str, args: tuple[Any, ...], *, fetch: bool) -> Any:
        import asyncpg

        conn = await asyncpg.connect(self.url.replace("postgres://", "postgresql://", 1))
        try:
            if fetch:
                return [dict(r) for r in await conn.fetch(sql, *args)]
            await conn.execute(sql, *args)
            return None
        finally:
            await conn.close()


def dev_cipher(env: dict[str, str]) -> IdentityCipher:
    """The live server's cipher, from its development secrets (AES or SM4 rows alike)."""
    from server.config import Settings
    from server.secrets import load_secrets

    settings = Settings.from_env(env)
    return IdentityCipher.configured(settings, load_secrets(settings))


# -- people ------------------------------------------------------------------------------

@dataclass
class Person:
    name: str
    id_number: str
    token: str
    user_id: str

    @property
    def headers(self) -> dict[str, str]:
        return flows.auth(self.token)


def new_id_number() -> str:
    return flows.make_id_number(
        region=secrets.choice(["421202", "421221", "421222", "421281"]),
        birth=f"19{secrets.randbelow(40) + 60}{secrets.randbelow(12) + 1:02d}"
              f"{secrets.randbelow(28) + 1:02d}")


def login(api: httpx.Client) -> tuple[str, str]:
    """A fresh sandbox user: (access token, user id)."""
    body = expect(api.post("/api/v1/auth/login",
                           json={"provider": "sandbox", "code": "h-" + secrets.token_hex(8)}),
                  200)
    return body["access_token"], body["user"]["id"]


def bind(api: httpx.Client, env: dict[str, str], token: str, user_id: str, name: str,
         id_number: str) -> None:
    try:
        flows.bind_identity(api, token, name, id_number)
        return
    except AssertionError as exc:
        if "-> 404" not in str(exc):
            raise
    cipher = dev_cipher(env)
    Db(env).execute(
        "UPDATE users SET real_name = $1, id_number_enc = $2, id_index = $3, "
        "identity_bound_at = $4 WHERE id = $5",
        name, cipher.encrypt(id_number), cipher.index(id_number), datetime.now(UTC), user_id)


def person(api: httpx.Client, env: dict[str, str], name: str | None = None) -> Person:
    """A new user with a bound identity (name + a fresh valid ID number)."""
    name = name or secrets.choice(_NAMES)
    id_number = new_id_number()
    token, user_id = login(api)
    bind(api, env, token, user_id, name, id_number)
    return Person(name, id_number, token, user_id)


# -- the registry side ---------------------------------------------------------------------

@dataclass
class Registry:
    client_id: str
    client_secret: str
    region: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def create_client(env: dict[str, str], region: str) -> dict[str, str]:
    out = run_cli(env, "registry-client", "create", "--name", f"登记中心{region}", "--region",
                  region)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def registry(api: httpx.Client, env: dict[str, str], region: str) -> Registry:
    creds = create_client(env, region)
    body = expect(api.post("/registry/v1/token", json={
        "client_id": creds["client_id"], "client_secret": creds["client_secret"]}), 200)
    return Registry(creds["client_id"], creds["client_secret"], region, body["access_token"])


def new_unit_no(region: str = "421202") -> str:
    return region + "".join(secrets.choice("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ")
                            for _ in range(22))


def new_certificate_no() -> str:
    return f"鄂(2024)咸宁市不动产权第{secrets.randbelow(10**7):07d}号"


def owner(p: Person | tuple[str, str], kind: str = "sole", share: Any = None
          ) -> dict[str, Any]:
    name, id_number = (p.name, p.id_number) if isinstance(p, Person) else p
    out: dict[str, Any] = {"name": name, "id_number": id_number, "kind": kind}
    if share is not None:
        out["share"] = share
    return out


def unit_payload(owners: list[dict[str, Any]], *, certificate_no: str | None = None,
                 version: int = 1, **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "certificate_no": certificate_no or new_certificate_no(),
        "house_no": f"XA-{secrets.randbelow(10**6):06d}",
        "location": {"city": "咸宁市", "district": "咸安区", "community": "温泉路88号温泉花园",
                     "building": "3栋", "unit": "2单元", "room": "502", "floor": "5",
                     "total_floors": "18"},
        "building_area": 118.36, "inner_area": 96.12, "structure": 3, "planned_use": "住宅",
        "owners": owners, "source_version": version,
    }
    body.update(over)
    return body


def put_unit(api: httpx.Client, reg: Registry, owners: list[dict[str, Any]], *,
             unit_no: str | None = None, **kw: Any) -> tuple[str, str]:
    """Push a new unit; returns (unit_no, certificate_no)."""
    unit_no = unit_no or new_unit_no(reg.region)
    payload = unit_payload(owners, **kw)
    expect(api.put(f"/registry/v1/units/{unit_no}", json=payload, headers=reg.headers), 200, 201)
    return unit_no, payload["certificate_no"]


def put_restriction(api: httpx.Client, reg: Registry, unit_no: str, restriction_id: str,
                    body: dict[str, Any]) -> dict[str, Any]:
    return expect(api.put(f"/registry/v1/units/{unit_no}/restrictions/{restriction_id}",
                          json=body, headers=reg.headers), 200, 201)


def check(api: httpx.Client, who: Person, certificate_no: str, **extra: Any) -> dict[str, Any]:
    return expect(api.post("/api/v1/properties/check",
                           json={"certificate_no": certificate_no, **extra},
                           headers=who.headers), 200)
