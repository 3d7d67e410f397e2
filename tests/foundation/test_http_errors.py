"""Every kind of error answers in the API.md format, with a request id, never a stack trace."""

from __future__ import annotations

import pytest
from sanic import Sanic

from server.app import create_app
from server.config import Settings


def assert_error(resp, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error", "request_id"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["details"], dict)
    assert body["request_id"] == resp.headers["x-request-id"]
    assert "Traceback" not in resp.text
    return body


def test_unknown_route(api):
    assert_error(api.get("/no/such/route"), 404, "not_found")


def test_wrong_method(api):
    assert_error(api.delete("/healthz"), 405, "method_not_allowed")


def test_bad_json(api):
    resp = api.post("/api/v1/auth/login", content=b"{not json",
                    headers={"content-type": "application/json"})
    assert_error(resp, 400, "invalid_json")


def test_json_that_is_not_an_object(api):
    assert_error(api.post("/api/v1/auth/login", json=[1, 2]), 400, "invalid_json")


def test_validation_error_names_the_field(api):
    body = assert_error(api.post("/api/v1/auth/login", json={"provider": "sandbox"}), 400,
                        "invalid_input")
    assert "code" in body["error"]["details"]["fields"]


def test_body_too_large(api):
    big = b'{"code": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    resp = api.post("/api/v1/auth/login", content=big,
                    headers={"content-type": "application/json"})
    assert_error(resp, 413, "payload_too_large")


def test_unauthenticated(api):
    assert_error(api.get("/api/v1/me"), 401, "unauthenticated")


def test_incoming_request_id_is_kept(api):
    resp = api.get("/nope", headers={"X-Request-ID": "abc123def456"})
    assert resp.json()["request_id"] == "abc123def456"


@pytest.fixture()
def inprocess_app(tmp_path) -> Sanic:
    Sanic.test_mode = True
    app = create_app(Settings.from_env({"DATA_DIR": str(tmp_path)}), name=f"t{id(tmp_path)}")

    @app.get("/boom")
    async def boom(request):
        raise RuntimeError("secret detail 4201")

    return app


def test_unexpected_exception_is_internal_error_with_request_id_only(inprocess_app, caplog):
    _, resp = inprocess_app.test_client.get("/boom")
    assert resp.status == 500
    body = resp.json
    assert body["error"] == {"code": "internal_error", "message": "服务器内部错误", "details": {}}
    assert body["request_id"]
    assert "secret detail" not in resp.text and "Traceback" not in resp.text
    # The stack trace goes to the log, tagged with the same request id.
    from server.logs import JsonFormatter

    lines = [JsonFormatter().format(r) for r in caplog.records if r.name == "server.errors"]
    assert any("secret detail 4201" in ln and body["request_id"] in ln for ln in lines)
