"""A registry client, a user with a bound identity and a filed sale, shared by the API tests."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests import sale as s
from tests.live import LiveServer


@pytest.fixture(scope="session")
def registry(live_server: LiveServer) -> s.RegistryClient:
    with httpx.Client(base_url=live_server.base_url, timeout=30) as api:
        return s.registry_client(live_server, api)


@pytest.fixture(scope="session")
def user(live_server: LiveServer) -> s.Person:
    with httpx.Client(base_url=live_server.base_url, timeout=30) as api:
        return s.person(api)


@pytest.fixture(scope="session")
def filed(live_server: LiveServer, registry: s.RegistryClient) -> s.Sale:
    with httpx.Client(base_url=live_server.base_url, timeout=60) as api:
        return s.filed_sale(live_server, api, client=registry)


def envelope(resp: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """The API.md error format, with the status and (if given) the code expected."""
    assert resp.status_code == status, f"{resp.status_code}: {resp.text[:500]}"
    body = resp.json()
    assert set(body) == {"error", "request_id"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert body["request_id"] and body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code, body
    return body


def fields(resp: httpx.Response) -> dict[str, str]:
    return envelope(resp, 400, "invalid_input")["error"]["details"]["fields"]
