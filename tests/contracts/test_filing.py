"""Submission is filing: one filed contract per house under concurrency, the registry feed,
webhooks with retries, crash recovery, revocation, and the tamper-evident timeline."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from server.config import Settings
from server.domain import clock
from server.models import Contract
from server.services.contracts import ContractDeps, filing
from tests import flows
from tests import sale as s
from tests.backends import backend_name
from tests.db import with_db
from tests.live import ROOT, LiveServer


def _contracts_for_one_house(server, api, n: int) -> tuple[list[str], s.Person, list[s.Person]]:
    """n contracts on the same house, each with only the seller's signature missing."""
    client = s.registry_client(server, api)
    seller = s.person(api)
    _, cert = s.register_house(api, client, [seller])
    ids, buyers = [], []
    for _ in range(n):
        buyer = s.person(api)
        draft = s.create_draft(api, seller, "seller", cert, [seller], [buyer])
        s.invite_and_accept(api, draft, seller, buyer)
        s.confirm_all(api, draft["id"], [seller, buyer])
        s.expect(s.sign(api, draft["id"], buyer), 201)
        ids.append(draft["id"])
        buyers.append(buyer)
    return ids, seller, buyers


async def _last_signatures_at_once(base_url: str, seller: s.Person, fvs: dict[str, str]
                                   ) -> list[httpx.Response]:
    image = s.signature_png()
    async with httpx.AsyncClient(base_url=base_url, timeout=120) as client:
        return await asyncio.gather(*(
            client.post(f"/api/v1/contracts/{cid}/signatures",
                        json={"face_verification_id": fv, "signature_image": image},
                        headers=seller.headers)
            for cid, fv in fvs.items()))


def _race(server: LiveServer, n: int = 4) -> None:
    with httpx.Client(base_url=server.base_url, timeout=60) as api:
        ids, seller, _ = _contracts_for_one_house(server, api, n)
        fvs = {cid: flows.passed_verification(api, seller.token, "sign", cid) for cid in ids}
        results = asyncio.run(_last_signatures_at_once(server.base_url, seller, fvs))
        codes = sorted(r.status_code for r in results)
        assert codes == [201] + [409] * (n - 1), [r.text for r in results]
        for r in results:
            if r.status_code == 409:
                assert r.json()["error"]["code"] == "house_already_filed"
        statuses = [s.expect(api.get(f"/api/v1/contracts/{cid}", headers=seller.headers), 200)
                    for cid in ids]
        assert sum(v["status"] == "filed" for v in statuses) == 1
        # The losers keep their signatures and their evidence.
        for v in statuses:
            if v["status"] != "filed":
                assert v["status"] == "signing" and all(p["signed"] for p in v["parties"])
                kinds = [e["kind"] for e in s.expect(api.get(
                    f"/api/v1/contracts/{v['id']}/timeline", headers=seller.headers),
                    200)["events"]]
                assert kinds.count("signed") == 2 and "filing_refused" in kinds


def test_simultaneous_last_signatures_file_exactly_one(live_server):
    _race(live_server)


@pytest.mark.backend("services")
def test_simultaneous_last_signatures_with_several_workers(fresh_env):
    server = LiveServer(fresh_env, workers=2)
    server.migrate()
    server.start()
    try:
        _race(server, n=5)
    finally:
        server.stop()


def _wait_for(path: Path, what: str, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"never reached: {what}"
        time.sleep(0.02)
    return path.read_text()


def test_the_filing_race_overlaps_and_the_locked_house_check_refuses_the_loser(
        fresh_env, tmp_path):
    """Two last signatures for one house, interleaved on purpose: the winner holds the house's
    row lock (paused inside its filing transaction) while the loser enters its own filing;
    then the winner commits and the loser is refused by the re-check under the lock.
    SQLite: one worker (its in-process store); PostgreSQL + Redis: two workers."""
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    workers = 2 if backend_name() == "services" else 1
    server = LiveServer({**fresh_env, "TEST_HOOK_DIR": str(hooks)}, workers=workers)
    server.migrate()
    server.start()
    try:
        with httpx.Client(base_url=server.base_url, timeout=60) as api:
            (winner, loser), seller, _ = _contracts_for_one_house(server, api, 2)
            fvs = {cid: flows.passed_verification(api, seller.token, "sign", cid)
                   for cid in (winner, loser)}
            (hooks / f"hold-checked.{winner}").write_text("")

            def last_signature(cid: str) -> httpx.Response:
                with httpx.Client(base_url=server.base_url, timeout=120) as c:
                    return c.post(f"/api/v1/contracts/{cid}/signatures",
                                  json={"face_verification_id": fvs[cid],
                                        "signature_image": s.signature_png()},
                                  headers=seller.headers)

            with ThreadPoolExecutor(2) as pool:
                first = pool.submit(last_signature, winner)
                # The winner has checked the house and holds its lock, uncommitted...
                winner_pid = _wait_for(hooks / f"checked.{winner}", "the winner's check")
                second = pool.submit(last_signature, loser)
                # ...while the loser's last signature is being handled: the two overlap.
                loser_pid = _wait_for(hooks / f"signing.{loser}", "the loser's signature")
                if backend_name() == "services":
                    # PostgreSQL: the loser signs and enters its filing, then waits for the
                    # house's row lock. (SQLite has one writer: its signature's transaction
                    # waits for the winner's, so it reaches filing only after the commit.)
                    _wait_for(hooks / f"entered.{loser}", "the loser's filing")
                assert not first.done() and not second.done()
                assert not (hooks / f"checked.{loser}").exists(), \
                    "the loser passed the house check while the winner held the lock"
                (hooks / f"release.{winner}").write_text("")
                won, lost = first.result(), second.result()
        assert won.status_code == 201, won.text
        assert lost.status_code == 409, lost.text
        error = lost.json()["error"]
        assert error["code"] == "house_already_filed"
        assert error["details"]["guard"] == "house_check"
        assert [r["code"] for r in error["details"]["reasons"]] == ["under_filed_contract"]
        assert not (hooks / f"checked.{loser}").exists()  # refused at the check, never past
        with httpx.Client(base_url=server.base_url, timeout=60) as api:
            events = s.expect(api.get(f"/api/v1/contracts/{loser}/timeline",
                                      headers=seller.headers), 200)["events"]
        refused = [e for e in events if e["kind"] == "filing_refused"]
        assert len(refused) == 1 and refused[0]["data"]["guard"] == "house_check"
        print(f"winner on worker {winner_pid}, loser on worker {loser_pid}")
    finally:
        server.stop()


def test_feed_has_no_gaps_or_duplicates_under_concurrent_filings(live_server, api):
    client = s.registry_client(live_server, api, region="421222")
    sales = []
    for _ in range(4):
        seller, buyer = s.person(api), s.person(api)
        _, cert = s.register_house(api, client, [seller])
        draft = s.create_draft(api, seller, "seller", cert, [seller], [buyer])
        s.invite_and_accept(api, draft, seller, buyer)
        s.confirm_all(api, draft["id"], [seller, buyer])
        s.expect(s.sign(api, draft["id"], buyer), 201)
        sales.append((draft["id"], seller))
    fvs = [(cid, seller, flows.passed_verification(api, seller.token, "sign", cid))
           for cid, seller in sales]

    seen: list[int] = []
    stop = threading.Event()

    def reader() -> None:
        cursor = "0"
        with httpx.Client(base_url=live_server.base_url, timeout=30) as r:
            while not stop.is_set():
                page = r.get(f"/registry/v1/contracts?cursor={cursor}&limit=2",
                             headers=client.headers).json()
                seen.extend(item["position"] for item in page["items"])
                cursor = page["next_cursor"]
                time.sleep(0.01)

    thread = threading.Thread(target=reader)
    thread.start()

    async def sign_all() -> list[httpx.Response]:
        image = s.signature_png()
        async with httpx.AsyncClient(base_url=live_server.base_url, timeout=120) as c:
            return await asyncio.gather(*(
                c.post(f"/api/v1/contracts/{cid}/signatures",
                       json={"face_verification_id": fv, "signature_image": image},
                       headers=seller.headers) for cid, seller, fv in fvs))

    results = asyncio.run(sign_all())
    time.sleep(0.5)
    stop.set()
    thread.join()
    assert all(r.status_code == 201 for r in results)
    full = s.expect(api.get("/registry/v1/contracts?cursor=0&limit=200",
                            headers=client.headers), 200)["items"]
    filed = [i for i in full if i["event"] == "filed"]
    assert len(filed) == 4 and len({i["filing_no"] for i in filed}) == 4
    positions = [i["position"] for i in full]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    # The concurrent reader saw each entry exactly once, in order, and missed none.
    assert seen == positions


class _Receiver(BaseHTTPRequestHandler):
    """Fails the first attempt (503), redirects the second (307, which must not be followed),
    accepts the third; records every attempt's headers and body."""

    answers = [503, 307]
    attempts: list[tuple[dict[str, str], bytes, str]] = []

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        cls = type(self)
        cls.attempts.append(({k.lower(): v for k, v in self.headers.items()}, body, self.path))
        status = cls.answers.pop(0) if cls.answers else 204
        self.send_response(status)
        if status == 307:
            self.send_header("Location", "/elsewhere")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        return None


def test_webhook_is_retried_until_delivered_per_standard_webhooks(live_server, api):
    from standardwebhooks import Webhook, WebhookVerificationError

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        region = "421223"
        out = subprocess.run(
            [sys.executable, "-m", "server", "webhooks", "add", "--region", region, "--url",
             f"http://127.0.0.1:{httpd.server_port}/hook"],
            env=live_server.env, cwd=ROOT, check=True, capture_output=True, text=True)
        secret = json.loads(out.stdout.strip().splitlines()[-1])["secret"]
        assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32
        client = s.registry_client(live_server, api, region=region)
        sale = s.filed_sale(live_server, api, client=client)
        deadline = time.monotonic() + 40
        while len(_Receiver.attempts) < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(_Receiver.attempts) == 3, _Receiver.attempts
        # The redirect was not followed: every attempt went to the registered URL.
        assert [path for _, _, path in _Receiver.attempts] == ["/hook"] * 3
        headers, body, _ = _Receiver.attempts[-1]
        # The Standard Webhooks reference library verifies the delivery as it is.
        payload = Webhook(secret).verify(body, headers)
        assert payload["type"] == "contract.filed"
        assert payload["data"]["region_code"] == region
        assert payload["data"]["status"] == "filed" and payload["data"]["filing_no"]
        assert isinstance(payload["data"]["position"], int) and payload["timestamp"]
        assert headers["content-type"] == "application/json"
        assert headers["webhook-signature"].startswith("v1,")
        assert abs(int(headers["webhook-timestamp"]) - time.time()) < 60
        # One message: the same webhook-id on every retry, each attempt signed afresh.
        assert len({h["webhook-id"] for h, _, _ in _Receiver.attempts}) == 1
        assert all(b == body for _, b, _ in _Receiver.attempts)
        for h, b, _ in _Receiver.attempts:
            Webhook(secret).verify(b, h)
        # And the check can fail: another secret, a changed body, a changed id.
        with pytest.raises(WebhookVerificationError):
            Webhook("whsec_" + base64.b64encode(b"x" * 32).decode()).verify(body, headers)
        with pytest.raises(WebhookVerificationError):
            Webhook(secret).verify(body.replace(b"filed", b"FILED"), headers)
        with pytest.raises(WebhookVerificationError):
            Webhook(secret).verify(body, {**headers, "webhook-id": "msg_other"})
        listed = subprocess.run(
            [sys.executable, "-m", "server", "webhooks", "list", "--status", "delivered"],
            env=live_server.env, cwd=ROOT, check=True, capture_output=True, text=True)
        rows = [json.loads(line) for line in listed.stdout.splitlines()]
        mine = [r for r in rows if r["filing_no"] == payload["data"]["filing_no"]]
        assert mine and mine[0]["attempts"] == 3
        assert mine[0]["webhook_id"] == headers["webhook-id"]
        assert [h["status"] for h in mine[0]["history"]] == [503, 307, 204]
        assert sale.contract_id
    finally:
        httpd.shutdown()


@pytest.mark.parametrize("crash_point", ["before_filing", "before_sealing"])
def test_crash_during_filing_converges_after_restart(fresh_env, crash_point):
    server = LiveServer({**fresh_env, "CRASH_POINT": crash_point})
    server.migrate()
    server.start()
    try:
        with httpx.Client(base_url=server.base_url, timeout=60) as api:
            sale = s.sale_in_signing(server, api)
            s.expect(s.sign(api, sale.contract_id, sale.sellers[0]), 201)
            fv = flows.passed_verification(api, sale.buyers[0].token, "sign", sale.contract_id)
            try:
                resp = api.post(f"/api/v1/contracts/{sale.contract_id}/signatures",
                                json={"face_verification_id": fv,
                                      "signature_image": s.signature_png()},
                                headers=sale.buyers[0].headers)
                raise AssertionError(f"expected the server to die, got {resp.status_code} "
                                     f"{resp.text}")
            except httpx.HTTPError:
                pass
        # The worker died mid-filing; take the rest of the server down hard, as a
        # power cut would, then start it again without the crash point.
        server.kill()
        server.env.pop("CRASH_POINT")
        server.start()
        with httpx.Client(base_url=server.base_url, timeout=60) as api:
            deadline = time.monotonic() + 60
            while True:
                view = s.expect(api.get(f"/api/v1/contracts/{sale.contract_id}",
                                        headers=sale.buyers[0].headers), 200)
                if view["filing_state"] == "done" or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            assert view["status"] == "filed" and view["filing_state"] == "done"
            assert all(p["signed"] for p in view["parties"])
            pdf = api.get(f"/registry/v1/contracts/{view['filing_no']}/document.pdf",
                          headers=sale.client.headers)
            assert pdf.status_code == 200
    finally:
        server.stop()


def test_revocation_releases_the_house_and_is_refused_after_acceptance(live_server, api):
    sale = s.filed_sale(live_server, api)
    cid = sale.contract_id
    seller, buyer = sale.sellers[0], sale.buyers[0]
    no_request = api.post(f"/api/v1/contracts/{cid}/revocation/confirm",
                          json={"face_verification_id": "x"}, headers=seller.headers)
    assert no_request.status_code == 409
    s.expect(api.post(f"/api/v1/contracts/{cid}/revocation", json={"reason": "双方协商一致"},
                      headers=seller.headers), 202)
    for who in (seller, buyer):
        fv = flows.passed_verification(api, who.token, "revoke", cid)
        s.expect(api.post(f"/api/v1/contracts/{cid}/revocation/confirm",
                          json={"face_verification_id": fv}, headers=who.headers), 200)
    view = s.expect(api.get(f"/api/v1/contracts/{cid}", headers=buyer.headers), 200)
    assert view["status"] == "revoked"
    feed = s.expect(api.get("/registry/v1/contracts?limit=200", headers=sale.client.headers),
                    200)["items"]
    assert any(i["event"] == "revoked" and i["filing_no"] == view["filing_no"] for i in feed)
    # The house is free again: a change (变更) is a new contract that names the old one.
    new_buyer = s.person(api)
    draft = s.create_draft(api, seller, "seller", sale.certificate_no, [seller], [new_buyer],
                           replaces=cid)
    assert draft["replaces"] == cid
    s.invite_and_accept(api, draft, seller, new_buyer)
    s.confirm_all(api, draft["id"], [seller, new_buyer])
    for who in (seller, new_buyer):
        s.expect(s.sign(api, draft["id"], who), 201)
    refiled = s.expect(api.get(f"/api/v1/contracts/{draft['id']}", headers=seller.headers), 200)
    assert refiled["status"] == "filed"
    # Acceptance by the registry locks it.
    s.expect(api.post(f"/registry/v1/contracts/{refiled['filing_no']}/acceptance",
                      json={"case_no": "DJ2026-0001"}, headers=sale.client.headers), 200)
    refused = api.post(f"/api/v1/contracts/{draft['id']}/revocation", json={},
                       headers=seller.headers)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "registration_already_accepted"
    shared = s.expect(api.get(f"/registry/v1/contracts/{refiled['filing_no']}",
                              headers=sale.client.headers), 200)
    assert shared["status"] == "registration_accepted"
    assert shared["sellers"][0]["id_number"] == seller.id_number  # full, for the office only
    s.expect(api.post(f"/registry/v1/contracts/{refiled['filing_no']}/completion",
                      headers=sale.client.headers), 200)


def test_registry_sees_only_its_region(live_server, api):
    sale = s.filed_sale(live_server, api)
    other = s.registry_client(live_server, api, region="421281")
    view = s.expect(api.get(f"/api/v1/contracts/{sale.contract_id}",
                            headers=sale.sellers[0].headers), 200)
    for path in (f"/registry/v1/contracts/{view['filing_no']}",
                 f"/registry/v1/contracts/{view['filing_no']}/document.pdf"):
        assert api.get(path, headers=other.headers).status_code == 404
    feed = s.expect(api.get("/registry/v1/contracts?limit=200", headers=other.headers), 200)
    assert all(i["filing_no"] != view["filing_no"] for i in feed["items"])


def test_a_hand_edited_event_breaks_the_chain(live_server, api):
    sale = s.filed_sale(live_server, api)
    ok = subprocess.run([sys.executable, "-m", "server", "verify-chains", "--contract",
                         sale.contract_id], env=live_server.env, cwd=ROOT, capture_output=True,
                        text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    with_db(live_server.env, lambda: _tamper(sale.contract_id, seq=3))
    bad = subprocess.run([sys.executable, "-m", "server", "verify-chains"],
                         env=live_server.env, cwd=ROOT, capture_output=True, text=True)
    assert bad.returncode == 1
    broken = [json.loads(x) for x in bad.stdout.splitlines() if "first_broken_seq" in x]
    assert broken == [{"contract_id": sale.contract_id, "first_broken_seq": 3,
                       "reason": "content altered"}]


async def _tamper(contract_id: str, seq: int) -> None:
    """Edit one stored event behind the application's back, as an intruder with SQL would."""
    from server.models import ContractEvent

    ev = await ContractEvent.get(contract_id=contract_id, seq=seq)
    ev.data = {**ev.data, "forged": True}
    await ev.save(update_fields=["data"])


class _BlindChecks:
    """A house check that misses every filing: only the database's own guard is left."""

    async def check_house(self, *args, **kwargs):
        from server.services.houses.checks import CheckOutcome

        return CheckOutcome(check_id="chk_blind", eligible=True, reasons=[], unit=None,
                            unit_no=None, data_version="blind", checked_at=clock.now(),
                            purpose="filing")


def test_the_unique_active_unit_refuses_what_a_blind_check_lets_through(live_server, api):
    (winner, loser), seller, _ = _contracts_for_one_house(live_server, api, 2)
    assert s.sign(api, winner, seller).status_code == 201
    refused = s.sign(api, loser, seller)
    assert refused.status_code == 409
    assert refused.json()["error"]["details"]["guard"] == "house_check"

    async def file_blind() -> tuple[dict, str | None, str]:
        # The loser again, as if its check had raced past the winner's filing.
        await Contract.filter(id=loser).update(filing_state=None)
        deps = ContractDeps(settings=Settings.from_env(live_server.env), cipher=None,
                            files=None, pool=None, kv=None, houses=_BlindChecks(), face=None,
                            fonts=None)
        with pytest.raises(filing.FilingRefused) as caught:
            await filing.record(deps, loser)
        row = await Contract.get(id=loser)
        return caught.value.details, row.active_unit_no, row.status

    details, active_unit, status = with_db(live_server.env, file_blind)
    assert details == {"guard": "unique_active_unit"}
    assert active_unit is None and status == "signing"  # the transaction rolled back
    events = s.expect(api.get(f"/api/v1/contracts/{loser}/timeline", headers=seller.headers),
                      200)["events"]
    guards = [e["data"]["guard"] for e in events if e["kind"] == "filing_refused"]
    assert guards == ["house_check", "unique_active_unit"]


def test_the_last_signature_answers_after_the_seal_even_when_another_worker_recorded_it(
        fresh_env, tmp_path):
    """A worker's resume_pending can record a filing between the last signature's commit
    and the request's own filing step. The request still answers only once the documents
    are sealed: the registry's first pull gets the PDF, not 409 document_sealing."""
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    server = LiveServer({**fresh_env, "TEST_HOOK_DIR": str(hooks)})
    server.migrate()
    server.start()
    try:
        with httpx.Client(base_url=server.base_url, timeout=120) as api:
            (cid,), seller, _ = _contracts_for_one_house(server, api, 1)
            fv = flows.passed_verification(api, seller.token, "sign", cid)
            (hooks / f"hold-all_signed.{cid}").write_text("")
            with ThreadPoolExecutor(1) as pool:
                answer = pool.submit(
                    lambda: httpx.post(f"{server.base_url}/api/v1/contracts/{cid}/signatures",
                                       json={"face_verification_id": fv,
                                             "signature_image": s.signature_png()},
                                       headers=seller.headers, timeout=120))
                _wait_for(hooks / f"all_signed.{cid}", "the last signature's filing")

                async def record_as_another_worker() -> str | None:
                    deps = ContractDeps(settings=Settings.from_env(server.env), cipher=None,
                                        files=None, pool=None, kv=None,
                                        houses=_BlindChecks(), face=None, fonts=None)
                    assert await filing.record(deps, cid)
                    return (await Contract.get(id=cid)).filing_state

                assert with_db(server.env, record_as_another_worker) == "sealing"
                (hooks / f"release.{cid}").write_text("")
                view = s.expect(answer.result(), 201)
            assert view["status"] == "filed"
            client = s.registry_client(server, api)
            pdf = api.get(f"/registry/v1/contracts/{view['filing_no']}/document.pdf",
                          headers=client.headers)
            assert pdf.status_code == 200, pdf.text
            assert pdf.content.startswith(b"%PDF")
    finally:
        server.stop()
