"""A dependency outage is a 503 with a code naming it, never a 500, and it heals.

The server reaches PostgreSQL and Redis through a proxy the test cuts and resumes,
as a restart of either looks to a client: open connections drop, new ones are
refused for a while, then everything answers again.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from server.http.outages import DATABASE, KEY_VALUE, outage_of
from tests.flows import auth, login
from tests.live import LiveServer
from tests.proxy import CuttableProxy


def test_driver_errors_below_the_orm_are_outages() -> None:
    import asyncpg
    import redis.exceptions
    from tortoise.exceptions import OperationalError, TransactionManagementError

    try:
        try:
            raise asyncpg.exceptions.AdminShutdownError("terminating connection")
        except Exception as exc:
            raise OperationalError(exc) from None
    except OperationalError as wrapped:
        assert outage_of(wrapped) == DATABASE
    assert outage_of(TransactionManagementError("Connection gone away during transaction")) \
        == DATABASE
    assert outage_of(redis.exceptions.ConnectionError("refused")) == KEY_VALUE
    assert outage_of(ValueError("a bug")) is None
    assert outage_of(OperationalError("syntax error at or near")) is None
    assert outage_of(ConnectionRefusedError()) is None  # not below a database driver


def _via(url: str, proxy: CuttableProxy) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{proxy.port}"
    return urlunsplit(parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host))


def _until(fn, timeout: float = 20.0) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        resp = fn()
        if resp.status_code == 200 or time.monotonic() > deadline:
            return resp
        time.sleep(0.3)


@pytest.mark.backend("services")
def test_postgres_and_redis_outages_answer_503_and_recover(fresh_env: dict[str, str]) -> None:
    pg = urlsplit(fresh_env["DATABASE_URL"])
    rd = urlsplit(fresh_env["REDIS_URL"])
    pg_proxy = CuttableProxy(pg.hostname or "127.0.0.1", pg.port or 5432)
    redis_proxy = CuttableProxy(rd.hostname or "127.0.0.1", rd.port or 6379)
    env = {**fresh_env, "DATABASE_URL": _via(fresh_env["DATABASE_URL"], pg_proxy),
           "REDIS_URL": _via(fresh_env["REDIS_URL"], redis_proxy)}
    server = LiveServer(env)
    try:
        with server.serving(), httpx.Client(base_url=server.base_url, timeout=30) as api:
            token = login(api, "outage-user")
            assert api.get("/api/v1/contracts", headers=auth(token)).status_code == 200

            redis_proxy.cut()
            resp = api.get("/api/v1/contracts", headers=auth(token))
            assert resp.status_code == 503, resp.text
            assert resp.json()["error"]["code"] == KEY_VALUE
            assert resp.headers["Retry-After"]
            redis_proxy.resume()
            assert _until(lambda: api.get("/api/v1/contracts", headers=auth(token))
                          ).status_code == 200

            pg_proxy.cut()
            resp = api.get("/api/v1/contracts", headers=auth(token))
            assert resp.status_code == 503, resp.text
            assert resp.json()["error"]["code"] == DATABASE
            pg_proxy.resume()
            assert _until(lambda: api.get("/api/v1/contracts", headers=auth(token))
                          ).status_code == 200
            assert "unhandled exception" not in server.log()
    finally:
        pg_proxy.close()
        redis_proxy.close()
