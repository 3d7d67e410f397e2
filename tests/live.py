"""A real server process for API tests: `python -m server serve` on a free port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    def __init__(self, env: dict[str, str], workers: int = 1, port: int | None = None) -> None:
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "PUBLIC_BASE_URL": self.base_url, **env}
        self.workers = workers
        self.proc: subprocess.Popen | None = None
        self.log_path = Path(env["DATA_DIR"]) / f"server-{self.port}.log"

    def migrate(self) -> None:
        subprocess.run([sys.executable, "-m", "server", "migrate"], env=self.env, cwd=ROOT,
                       check=True, capture_output=True)

    def launch(self, *extra_args: str) -> None:
        """Start the process without waiting for it to be ready."""
        Path(self.env["DATA_DIR"]).mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server", "serve", "--port", str(self.port),
             "--workers", str(self.workers), *extra_args],
            env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @contextmanager
    def serving(self) -> Iterator[LiveServer]:
        """Migrated, started, and stopped at the end (a fixture's whole life)."""
        self.migrate()
        self.start()
        try:
            yield self
        finally:
            self.stop()

    def start(self, timeout: float = 60.0) -> LiveServer:
        self.launch()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(self.base_url + "/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server not ready: {self.log_path.read_text()[-3000:]}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")
