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


def _under_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "backend(name): runs only in that backend's pass (deselected, not skipped, "
        "in the other)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests for one backend are deselected in the other pass: a deselection is a choice
    made here, visible in the summary, where a skip would hide a missing tool."""
    name = backend_name()
    keep, drop = [], []
    for item in items:
        marker = item.get_closest_marker("backend")
        (drop if marker is not None and name not in marker.args else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Under CI a skipped test fails the run: CI installs every tool the tests need
    (scripts/bootstrap.sh --test), so a skip there means something is missing."""
    outcome = yield
    report = outcome.get_result()
    if _under_ci() and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true (a skip cannot pass CI): {reason}"
