"""Shared fixtures: the backend of this run, a live server, an HTTP client."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.backends import Backend, backend_name
from tests.live import LiveServer


@pytest.fixture(scope="session")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    b = Backend(backend_name(), tmp_path_factory.mktemp("backend"))
    yield b
    b.cleanup()


@pytest.fixture(scope="session")
def app_env(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of the shared live server (its own database and data dir)."""
    return backend.new_database_env(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="session")
def live_server(app_env: dict[str, str]) -> Iterator[LiveServer]:
    with LiveServer(app_env).serving() as server:
        yield server


@pytest.fixture()
def api(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.base_url, timeout=30) as client:
        yield client


@pytest.fixture()
def fresh_env(backend: Backend, tmp_path: Path) -> dict[str, str]:
    """An isolated state for one test that needs its own server or database."""
    return backend.new_database_env(tmp_path / "data")


def pytest_report_header(config: pytest.Config) -> str:
    return f"backend: {backend_name()} (TEST_BACKEND), CI={os.environ.get('CI', '')}"
