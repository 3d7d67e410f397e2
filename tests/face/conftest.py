"""A live server of the face tests' own, with the sandbox behind a switchable proxy.

Its own server because it needs settings the shared one does not have: known
sandbox credentials (so tests can sign raw requests), a 1-second provider
timeout, tight start limits, and ``TENCENT_ENDPOINT`` pointing at a proxy that
can be made to hang. The proxy forwards to this very server's sandbox, so the
real Tencent adapter still does the whole round trip over HTTP.
"""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.backends import Backend
from tests.face.fakes import ProxyState, ThreadedApp, tencent_proxy_app
from tests.live import LiveServer, free_port

SECRET_ID = "AKIDfacetests" + secrets.token_hex(6)
SECRET_KEY = secrets.token_urlsafe(30)
PER_USER = 6
PER_ID_NUMBER = 3


class FaceServer:
    def __init__(self, server: LiveServer, proxy: ProxyState, env: dict[str, str]) -> None:
        self.server = server
        self.proxy = proxy
        self.env = env
        self.base_url = server.base_url

    def rows(self, table: str) -> list[dict[str, Any]]:
        """Every row of ``table`` as stored, read past the application."""
        url = self.env.get("DATABASE_URL")
        if not url:
            path = Path(self.env["DATA_DIR"]) / "app.sqlite3"
            with sqlite3.connect(path) as conn:
                conn.row_factory = sqlite3.Row
                return [dict(r) for r in conn.execute(f"SELECT * FROM {table}")]  # noqa: S608

        async def fetch() -> list[dict[str, Any]]:
            import asyncpg

            conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
            try:
                return [dict(r) for r in await conn.fetch(f"SELECT * FROM {table}")]
            finally:
                await conn.close()

        return asyncio.run(fetch())


@pytest.fixture(scope="session")
def tencent_proxy() -> Iterator[tuple[ProxyState, ThreadedApp]]:
    state = ProxyState()
    app = ThreadedApp(tencent_proxy_app(state)).start()
    yield state, app
    app.stop()


@pytest.fixture(scope="session")
def face_server(backend: Backend, tmp_path_factory: pytest.TempPathFactory,
                tencent_proxy: tuple[ProxyState, ThreadedApp]) -> Iterator[FaceServer]:
    state, proxy = tencent_proxy
    port = free_port()
    state.upstream = f"http://127.0.0.1:{port}"
    env = backend.new_database_env(tmp_path_factory.mktemp("face-data"))
    env.update({
        "TENCENT_ENDPOINT": proxy.url + "/sandbox/faceid",
        "SANDBOX_TENCENT_SECRET_ID": SECRET_ID,
        "SANDBOX_TENCENT_SECRET_KEY": SECRET_KEY,
        "FACE_PROVIDER_TIMEOUT_S": "1",
        "FACE_QUERY_RETRIES": "1",
        "FACE_RATE_PER_USER": str(PER_USER),
        "FACE_RATE_PER_ID_NUMBER": str(PER_ID_NUMBER),
        "FACE_RATE_WINDOW_S": "600",
        "LOG_LEVEL": "INFO",  # so the log test sees what is logged
    })
    server = LiveServer(env, port=port)
    server.migrate()
    server.start()
    yield FaceServer(server, state, env)
    server.stop()


@pytest.fixture()
def face_api(face_server: FaceServer) -> Iterator[httpx.Client]:
    face_server.proxy.mode = "forward"
    with httpx.Client(base_url=face_server.base_url, timeout=30) as client:
        yield client
    face_server.proxy.mode = "forward"
