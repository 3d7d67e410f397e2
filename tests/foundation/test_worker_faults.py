"""A worker killed with SIGKILL is replaced, its CPU pool does not outlive it, and
SIGTERM drains the requests in flight and leaves no process behind."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import httpx
import psutil
import pytest

from tests import sale as s
from tests.live import LiveServer


def _server_workers(main: psutil.Process) -> list[psutil.Process]:
    """Sanic's server workers: children of the main process that own a CPU pool."""
    return [p for p in main.children() if p.children()]


def _wait(predicate, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return predicate()


@pytest.mark.backend("services")
def test_a_killed_worker_is_replaced_and_leaves_no_orphans(fresh_env: dict[str, str]) -> None:
    server = LiveServer({**fresh_env, "CPU_WORKERS": "1", "LOG_LEVEL": "INFO"}, workers=2)
    with server.serving():
        main = psutil.Process(server.proc.pid)
        assert _wait(lambda: "all workers serving" in server.log(), 120)
        assert len(_server_workers(main)) == 2
        victim = _server_workers(main)[0]
        pool = victim.children(recursive=True)
        assert pool, "the worker has its CPU pool"
        victim.send_signal(signal.SIGKILL)

        # the pool of the dead worker exits on its own
        assert _wait(lambda: not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE
                                     for p in pool), 15), "the CPU pool outlived its worker"
        # and a new worker takes its place
        assert _wait(lambda: len(_server_workers(main)) == 2
                     and victim.pid not in {p.pid for p in _server_workers(main)}, 90)
        with httpx.Client(base_url=server.base_url) as api:
            assert all(api.get("/readyz").status_code == 200 for _ in range(20))
        assert "worker died, restarting it" in server.log()


def test_sigterm_drains_in_flight_requests_and_stops_every_process(
        fresh_env: dict[str, str], tmp_path: Path) -> None:
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    server = LiveServer({**fresh_env, "TEST_HOOK_DIR": str(hooks)})
    server.migrate()
    server.start()
    with httpx.Client(base_url=server.base_url, timeout=60) as api:
        sale = s.sale_in_signing(server, api)
    main = psutil.Process(server.proc.pid)
    tree = [main, *main.children(recursive=True)]
    assert len(tree) >= 3  # main, worker, CPU pool (and its fork server)
    (hooks / f"hold-signing.{sale.contract_id}").write_text("")
    answer: list[httpx.Response] = []

    def signature() -> None:
        with httpx.Client(base_url=server.base_url, timeout=60) as api:
            answer.append(s.sign(api, sale.contract_id, sale.sellers[0]))

    thread = threading.Thread(target=signature)
    thread.start()
    assert _wait(lambda: (hooks / f"signing.{sale.contract_id}").exists(), 30)
    server.proc.send_signal(signal.SIGTERM)  # while the signature is in its transaction
    time.sleep(1.0)
    (hooks / f"release.{sale.contract_id}").write_text("")
    thread.join(60)
    server.proc.wait(30)
    assert answer and answer[0].status_code == 201, answer and answer[0].text
    assert _wait(lambda: not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE
                                 for p in tree), 20), "a process outlived SIGTERM"
