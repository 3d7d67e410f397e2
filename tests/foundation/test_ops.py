"""/healthz, /readyz (and its 503s), /metrics, /docs."""

from __future__ import annotations

import httpx

from tests.live import LiveServer, free_port


def test_health_and_ready(api):
    assert api.get("/healthz").json() == {"status": "ok"}
    ready = api.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["database"] == "ok"


def test_metrics_count_requests_by_route_and_status(api):
    api.get("/healthz")
    api.get("/no/such")
    text = api.get("/metrics").text
    assert 'http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert 'route="unmatched",status="404"' in text
    assert "http_request_duration_seconds_bucket" in text


def test_openapi_lists_the_routes(api):
    spec = api.get("/docs/openapi.json").json()
    assert "/api/v1/auth/login" in spec["paths"]
    assert api.get("/docs").status_code == 200


def _dead_port_url(scheme: str) -> str:
    return f"{scheme}://127.0.0.1:{free_port()}/x"


def test_readyz_503_when_the_key_value_store_is_gone(fresh_env):
    env = {**fresh_env, "REDIS_URL": _dead_port_url("redis").rsplit("/", 1)[0] + "/0"}
    server = LiveServer(env)
    server.migrate()
    try:
        server.launch("--no-migrate")
        resp = _wait_for(server, "/readyz")
        assert resp.status_code == 503
        body = resp.json()
        assert body["error"]["code"] == "not_ready"
        assert body["error"]["details"]["failing"] == ["kv"]
        assert httpx.get(server.base_url + "/healthz").status_code == 200
    finally:
        server.stop()


def test_readyz_503_when_the_database_is_gone(fresh_env):
    env = {**fresh_env, "DATABASE_URL": _dead_port_url("postgres")}
    server = LiveServer(env)
    try:
        server.launch("--no-migrate")
        resp = _wait_for(server, "/readyz")
        assert resp.status_code == 503
        assert "database" in resp.json()["error"]["details"]["failing"]
    finally:
        server.stop()


def _wait_for(server: LiveServer, path: str) -> httpx.Response:
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            return httpx.get(server.base_url + path, timeout=10)
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError(server.log())
