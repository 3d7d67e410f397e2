"""Fault run: complete sales keep running while every dependency fails once.

While sales run on PostgreSQL + Redis with two workers, in this order: PostgreSQL is
stopped and started again (2 s down), Redis is restarted (its data gone), one
worker is killed with SIGKILL, the face-verification provider first times out and
then answers 5xx, and the TSA goes down. The clients behave as the mini-program
does: a request that fails with 503/504 or a dropped connection is retried with the
same ``Idempotency-Key``. At the end the server is stopped with SIGTERM while
requests are in flight. Then the database is audited and the run prints:

* how requests failed: every failure must be a 503/504 with a code, or a dropped
  connection at the moment a process died; a 500 is a defect;
* contracts lost, duplicated, half-filed; feed gaps; outbox rows stuck; requests cut
  off by SIGTERM; orphaned processes: each must be 0.

PostgreSQL and Redis are private instances on free ports (tests/private_services.py),
so the run disturbs nothing else on the machine:

    python benchmarks/bench_faults.py                  # about 3 minutes on 2 cores
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import sale as s  # noqa: E402
from tests.external_tsa import DEFAULT_POLICY, ExternalTsa  # noqa: E402
from tests.flows import make_id_number  # noqa: E402
from tests.live import LiveServer, free_port  # noqa: E402
from tests.private_services import PrivatePostgres, PrivateRedis  # noqa: E402

RETRYABLE = {502, 503, 504}


# -- the face provider, behind a proxy that can misbehave -------------------------------------

class FaceProviderProxy:
    """Forwards the provider protocol (TC3-signed, path and Host kept) to the sandbox,
    or, on demand, never answers (``timeout``) or answers 503 (``error``)."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.mode = "ok"
        self.port = free_port()
        self.hits: Counter[str] = Counter()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - stdlib naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                mode = proxy.mode
                proxy.hits[mode] += 1
                if mode == "timeout":
                    time.sleep(10)  # longer than FACE_PROVIDER_TIMEOUT_S
                    return
                if mode == "error":
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("content-length", "connection")}
                resp = httpx.post(proxy.upstream + self.path, content=body, headers=headers,
                                  timeout=30)
                self.send_response(resp.status_code)
                for k, v in resp.headers.items():
                    if k.lower() not in ("content-length", "connection", "transfer-encoding",
                                         "content-encoding"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(resp.content)))
                self.end_headers()
                try:
                    self.wfile.write(resp.content)
                except BrokenPipeError:
                    pass  # the service gave up waiting (its own timeout): as intended

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()


class WebhookReceiver:
    """A registration office's webhook endpoint: answers 204, counts deliveries."""

    def __init__(self) -> None:
        self.port = free_port()
        self.ids: Counter[str] = Counter()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.ids[self.headers.get("webhook-id", "?")] += 1
                self.send_response(204)
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"


# -- the clients ---------------------------------------------------------------------------------

@dataclass
class Tally:
    statuses: Counter[str] = field(default_factory=Counter)
    unclear: list[str] = field(default_factory=list)
    created: dict[str, str] = field(default_factory=dict)  # unit_no -> contract id
    filed: dict[str, str] = field(default_factory=dict)  # contract id -> filing no
    tokens: dict[str, str] = field(default_factory=dict)  # contract id -> a party's token
    gave_up: list[str] = field(default_factory=list)


class GaveUp(Exception):
    pass


class ResilientFlow:
    """One sale as the mini-program drives it, retrying what the API says to retry."""

    def __init__(self, client: httpx.AsyncClient, registry: s.RegistryClient,
                 tally: Tally, patience_s: float) -> None:
        self.c = client
        self.registry = registry
        self.t = tally
        self.patience_s = patience_s

    async def call(self, method: str, path: str, expect: int = 200, *, key: bool = True,
                   **kw) -> httpx.Response:
        headers = dict(kw.pop("headers", {}) or {})
        if key and method in ("POST", "PUT"):
            headers["Idempotency-Key"] = secrets.token_hex(12)
        deadline = time.monotonic() + self.patience_s
        while True:
            try:
                resp = await self.c.request(method, path, headers=headers, **kw)
            except httpx.TransportError as exc:
                self.t.statuses[f"connection dropped ({type(exc).__name__})"] += 1
            else:
                if resp.status_code == expect:
                    self.t.statuses[f"{resp.status_code}"] += 1
                    return resp
                code = _error_code(resp)
                self.t.statuses[f"{resp.status_code} {code}"] += 1
                if resp.status_code >= 500 and (resp.status_code not in RETRYABLE
                                                or code is None):
                    self.t.unclear.append(f"{method} {path} -> {resp.status_code} "
                                          f"{resp.text[:200]}")
                if code == "idempotency_in_progress":
                    pass  # the first attempt is still running (or died): ask again
                elif resp.status_code not in RETRYABLE and resp.status_code < 500:
                    raise GaveUp(f"{method} {path} -> {resp.status_code} {resp.text[:200]}")
            if time.monotonic() > deadline:
                raise GaveUp(f"{method} {path}: still failing after {self.patience_s:.0f} s")
            await asyncio.sleep(0.5)

    async def face(self, token: str, purpose: str, **payload) -> str:
        h = {"Authorization": f"Bearer {token}"}
        for _ in range(5):
            started = (await self.call("POST", "/api/v1/face-verifications", 201,
                                       json={"purpose": purpose, "consent": True, **payload},
                                       headers=h)).json()
            await self.call("POST", "/sandbox/faceid/scan", 204, key=False,
                            json={"biz_token": started["client_payload"]["biz_token"],
                                  "outcome": "pass"})
            try:
                done = (await self.call(
                    "POST", f"/api/v1/face-verifications/{started['id']}/complete",
                    headers=h)).json()
            except GaveUp:
                continue  # e.g. the provider lost the token while failing: start again
            if done.get("status") == "passed":
                return started["id"]
        raise GaveUp("face verification never passed")

    async def mine(self, cid: str, who: s.Person) -> dict:
        """The caller's own party in the contract as it is now."""
        view = (await self.call("GET", f"/api/v1/contracts/{cid}", headers=who.headers)).json()
        return next(p for p in view["parties"] if p["is_me"])

    async def person(self) -> s.Person:
        name, id_number = s.random_name(), make_id_number()
        token = (await self.call("POST", "/api/v1/auth/login",
                                 json={"provider": "sandbox",
                                       "code": "f-" + secrets.token_hex(8)})).json()[
            "access_token"]
        await self.face(token, "bind_identity", name=name, id_number=id_number)
        return s.Person(name, id_number, token)

    async def sale(self) -> None:
        seller, buyer = await asyncio.gather(self.person(), self.person())
        unit_no = s.new_unit_no(self.registry.region)
        payload = s.unit_payload([seller])
        await self.call("PUT", f"/registry/v1/units/{unit_no}", 201, json=payload,
                        headers=self.registry.headers)
        draft = (await self.call("POST", "/api/v1/contracts", 201, json={
            "kind": "resale", "certificate_no": payload["certificate_no"],
            "initiator_role": "seller", "sellers": [seller.party()],
            "buyers": [buyer.party()], "terms": s.terms()}, headers=seller.headers)).json()
        cid = draft["id"]
        self.t.created[unit_no] = cid
        inv = (await self.call("POST", f"/api/v1/contracts/{cid}/invitations", 201,
                               json={"party_id": s.party_id_of(draft, buyer)},
                               headers=seller.headers)).json()
        await self.call("POST", f"/api/v1/invitations/{inv['token']}/accept",
                        headers=buyer.headers)
        for who in (seller, buyer):
            try:
                await self.call("POST", f"/api/v1/contracts/{cid}/confirm",
                                json={"version": 1}, headers=who.headers)
            except GaveUp:
                # an attempt whose answer was lost may have confirmed: look, as the app does
                if not (await self.mine(cid, who))["confirmed"]:
                    raise
        for who in (seller, buyer):
            for _ in range(3):
                fv = await self.face(who.token, "sign", contract_id=cid)
                try:
                    await self.call("POST", f"/api/v1/contracts/{cid}/signatures", 201,
                                    json={"face_verification_id": fv,
                                          "signature_image": s.signature_png(1)},
                                    headers=who.headers)
                    break
                except GaveUp:
                    if (await self.mine(cid, who))["signed"]:
                        break
            else:
                raise GaveUp(f"{cid}: never signed")
        view = (await self.call("GET", f"/api/v1/contracts/{cid}",
                                headers=seller.headers)).json()
        if view.get("status") != "filed":
            raise GaveUp(f"{cid} ended {view.get('status')}")
        self.t.filed[cid] = view["filing_no"]
        self.t.tokens[cid] = seller.token


def _error_code(resp: httpx.Response) -> str | None:
    try:
        return resp.json()["error"]["code"]
    except Exception:  # noqa: BLE001 - not the API's error format
        return None


# -- faults ----------------------------------------------------------------------------------------

def _server_workers(main: psutil.Process) -> list[psutil.Process]:
    return [p for p in main.children() if p.children()]


async def inject_faults(pg: PrivatePostgres, redis: PrivateRedis, server: LiveServer,
                        face: FaceProviderProxy, tsa: ExternalTsa, log: list[str]) -> None:
    main = psutil.Process(server.proc.pid)

    async def at(label: str, fn, *args) -> None:
        started = time.monotonic()
        await asyncio.to_thread(fn, *args)
        log.append(f"{label} ({time.monotonic() - started:.1f} s)")

    await asyncio.sleep(6)
    await at("PostgreSQL stopped, 2 s down, started", pg.restart, 2.0)
    await asyncio.sleep(8)
    await at("Redis restarted, 1 s down, data gone", redis.restart, 1.0)
    await asyncio.sleep(8)
    victim = _server_workers(main)[0]
    victim.send_signal(signal.SIGKILL)
    log.append(f"worker {victim.pid} killed with SIGKILL")
    await asyncio.sleep(10)
    face.mode = "timeout"
    await asyncio.sleep(6)
    face.mode = "error"
    await asyncio.sleep(6)
    face.mode = "ok"
    log.append("face provider: 6 s of timeouts, then 6 s of 503")
    await asyncio.sleep(4)
    tsa.stop()
    await asyncio.sleep(6)
    tsa.start()
    log.append("TSA down for 6 s")


async def drive(base_url: str, registry: s.RegistryClient, tally: Tally, concurrency: int,
                faults: asyncio.Task, min_sales: int) -> int:
    started = 0
    limits = httpx.Limits(max_connections=concurrency * 3)
    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as client:
        flow = ResilientFlow(client, registry, tally, patience_s=90)

        async def worker() -> None:
            nonlocal started
            while not faults.done() or started < min_sales:
                started += 1
                try:
                    await flow.sale()
                except GaveUp as exc:
                    tally.gave_up.append(str(exc))

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return started


def sigterm_with_requests_in_flight(server: LiveServer, tally: Tally) -> dict[str, int]:
    """Page previews of filed contracts render in the CPU pool, a few at a time. SIGTERM
    is sent when the first one is answered: by then the workers have read every
    request and the rest wait in the pool. Each of them must still be answered."""
    outcome: Counter[str] = Counter()
    first = threading.Event()
    targets = list(tally.tokens.items())[-12:]

    def one(contract_id: str, token: str) -> None:
        try:
            with httpx.Client(base_url=server.base_url, timeout=60) as c:
                r = c.get(f"/api/v1/contracts/{contract_id}/pages/1.png",
                          headers={"Authorization": f"Bearer {token}"})
                outcome["answered" if r.status_code == 200 else f"status {r.status_code}"] += 1
        except httpx.ConnectError:
            outcome["refused (arrived after SIGTERM)"] += 1
        except httpx.TransportError:
            outcome["cut off in flight"] += 1
        finally:
            first.set()

    threads = [threading.Thread(target=one, args=t) for t in targets]
    for t in threads:
        t.start()
    first.wait(60)
    server.proc.send_signal(signal.SIGTERM)
    for t in threads:
        t.join(60)
    try:
        server.proc.wait(60)
    except subprocess.TimeoutExpired:
        outcome["server still running 60 s after SIGTERM"] += 1
        server.kill()
    return dict(outcome)


# -- the audit -------------------------------------------------------------------------------------

async def audit(db_url: str, tally: Tally, receiver: WebhookReceiver) -> dict[str, int]:
    import asyncpg

    conn = await asyncpg.connect(db_url.replace("postgres://", "postgresql://"))
    try:
        ids = list(tally.created.values())
        present = {r["id"] for r in await conn.fetch(
            "SELECT id FROM contracts WHERE id = ANY($1::text[])", ids)}
        per_unit = await conn.fetch(
            "SELECT unit_id, count(*) AS n FROM contracts WHERE unit_id = ANY($1::text[]) "
            "GROUP BY unit_id",
            list(tally.created))
        half_filed = await conn.fetchval("""
            SELECT count(*) FROM contracts c WHERE
              (c.status = 'filed' AND (c.filing_no IS NULL OR c.document_sha256 IS NULL
                                       OR c.filing_state IS DISTINCT FROM 'done'))
              OR (c.status = 'filed' AND NOT EXISTS (
                    SELECT 1 FROM feed_entries f WHERE f.contract_id = c.id
                    AND f.event = 'filed'))
              OR (c.status = 'signing' AND NOT EXISTS (
                    SELECT 1 FROM parties p WHERE p.contract_id = c.id
                    AND p.signed_at IS NULL))
              OR (c.filing_state = 'sealing')""")
        positions = [r["position"] for r in await conn.fetch(
            "SELECT position FROM feed_entries ORDER BY position")]
        stuck = await conn.fetchval(
            "SELECT count(*) FROM webhook_deliveries WHERE status <> 'delivered'")
        deliveries = await conn.fetchval("SELECT count(*) FROM webhook_deliveries")
        filed_db = await conn.fetchval("SELECT count(*) FROM contracts WHERE status = 'filed'")
    finally:
        await conn.close()
    gaps = sum(1 for a, b in zip(positions, positions[1:], strict=False) if b != a + 1)
    if positions and positions[0] != 1:
        gaps += 1
    return {
        "contracts lost": len(set(ids) - present),
        "contracts duplicated": sum(r["n"] - 1 for r in per_unit),
        "contracts half-filed": int(half_filed),
        "feed gaps": gaps,
        "outbox rows stuck": int(stuck),
        "_filed": int(filed_db),
        "_deliveries": int(deliveries),
        "_delivered_ids": len(receiver.ids),
    }


UNSETTLED = """
    SELECT (SELECT count(*) FROM webhook_deliveries WHERE status <> 'delivered')
         + (SELECT count(*) FROM contracts WHERE filing_state = 'sealing')
         + (SELECT count(*) FROM contracts c WHERE c.status = 'signing' AND NOT EXISTS (
              SELECT 1 FROM parties p WHERE p.contract_id = c.id AND p.signed_at IS NULL))"""


async def wait_until_settled(db_url: str, timeout: float) -> float:
    """Background work finishes what the faults interrupted: webhooks in the outbox,
    seals postponed while the TSA was down, filings of a killed worker. Returns how
    long that took."""
    import asyncpg

    started = time.monotonic()
    conn = await asyncpg.connect(db_url.replace("postgres://", "postgresql://"))
    try:
        while time.monotonic() - started < timeout:
            if await conn.fetchval(UNSETTLED) == 0:
                break
            await asyncio.sleep(1)
    finally:
        await conn.close()
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--concurrency", type=int, default=6)
    parser.add_argument("--min-sales", type=int, default=30)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-faults-"))
    pg = PrivatePostgres().start()
    redis = PrivateRedis().start()
    tsa = ExternalTsa(tmp / "tsa").start()
    receiver = WebhookReceiver()
    import asyncpg

    async def create_db() -> None:
        conn = await asyncpg.connect(pg.url.replace("postgres://", "postgresql://"))
        await conn.execute('CREATE DATABASE "faults"')
        await conn.close()

    asyncio.run(create_db())
    db_url = pg.url.rsplit("/", 1)[0] + "/faults"
    anchors = tmp / "tsa-trust.pem"
    anchors.write_bytes(tsa.tsa_pem.read_bytes() + tsa.ca_pem.read_bytes())
    port = free_port()
    face = FaceProviderProxy(f"http://127.0.0.1:{port}")
    env = {"DATA_DIR": str(tmp / "data"), "APP_ENV": "development", "LOG_LEVEL": "INFO",
           "DATABASE_URL": db_url, "REDIS_URL": redis.url, "REDIS_KEY_PREFIX": "faults:",
           "TSA_URL": tsa.url, "TSA_CA_FILE": str(anchors), "TSA_POLICY_OID": DEFAULT_POLICY,
           "TSA_TIMEOUT_S": "2", "FACE_PROVIDER": "sandbox", "FACE_PROVIDER_TIMEOUT_S": "2",
           "TENCENT_ENDPOINT": f"http://127.0.0.1:{face.port}/sandbox/faceid",
           "REGISTRY_TOKEN_FAILURES_PER_ADDRESS": "100000"}
    server = LiveServer(env, workers=2, port=port)
    server.migrate()
    server.start(timeout=180)
    log: list[str] = []
    tally = Tally()
    processes: set[int] = set()
    try:
        with httpx.Client(base_url=server.base_url, timeout=60) as api:
            registry = s.registry_client(server, api)
        subprocess.run([sys.executable, "-m", "server", "webhooks", "add", "--region",
                        registry.region, "--url", receiver.url], env=server.env, cwd=ROOT,
                       check=True, capture_output=True)
        main_proc = psutil.Process(server.proc.pid)

        async def run() -> int:
            faults = asyncio.create_task(inject_faults(pg, redis, server, face, tsa, log))

            async def watch_tree() -> None:  # every process the server ever had
                while not faults.done():
                    processes.update(p.pid for p in main_proc.children(recursive=True))
                    await asyncio.sleep(0.5)

            watcher = asyncio.create_task(watch_tree())
            n = await drive(server.base_url, registry, tally, args.concurrency, faults,
                            args.min_sales)
            await faults
            await watcher
            return n

        started = time.monotonic()
        sales = asyncio.run(run())
        elapsed = time.monotonic() - started
        settle_s = asyncio.run(wait_until_settled(db_url, 150))
        processes.update(p.pid for p in main_proc.children(recursive=True))
        processes.add(main_proc.pid)
        drain = sigterm_with_requests_in_flight(server, tally)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(psutil.pid_exists(p) and psutil.Process(p)
                                                  .status() != psutil.STATUS_ZOMBIE
                                                  for p in processes):
            time.sleep(0.5)
        orphans = sum(1 for p in processes if psutil.pid_exists(p)
                      and psutil.Process(p).status() != psutil.STATUS_ZOMBIE)
        counts = asyncio.run(audit(db_url, tally, receiver))
    finally:
        if server.proc and server.proc.poll() is None:
            server.stop()
        face.close()
        tsa.stop()
        redis.stop()
        pg.destroy()

    counts["requests cut off by SIGTERM"] = drain.get("cut off in flight", 0) + drain.get(
        "server still running 60 s after SIGTERM", 0)
    counts["orphaned processes"] = orphans
    counts["500s or errors without a code"] = len(tally.unclear)
    print(f"server log: {server.log_path}")
    print(f"\n### Fault run — PostgreSQL + Redis, 2 workers, {os.cpu_count()} CPUs\n")
    print(f"{sales} sales started, {len(tally.filed)} filed, {len(tally.gave_up)} gave up, "
          f"in {elapsed:.0f} s; {counts['_deliveries']} webhook deliveries, "
          f"{counts['_delivered_ids']} received.\n")
    print("Faults, in order: " + "; ".join(log) + f". Settled {settle_s:.0f} s after the "
          "last sale (interrupted seals and webhooks finished in the background).\n")
    print("| answer | count |\n|---|---:|")
    for status, n in sorted(tally.statuses.items()):
        print(f"| {status} | {n} |")
    print(f"\nSIGTERM with page renders in flight: {drain}\n")
    print("| check | count |\n|---|---:|")
    failed = False
    for name, n in counts.items():
        if name.startswith("_"):
            continue
        print(f"| {name} | {n} |")
        failed |= n != 0
    for line in tally.unclear[:10]:
        print("unclear:", line)
    for line in tally.gave_up[:10]:
        print("gave up:", line)
    print(json.dumps({k: v for k, v in counts.items() if not k.startswith("_")}),
          file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
