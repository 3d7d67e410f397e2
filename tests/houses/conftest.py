"""Registry clients of two regions, shared by the house tests of one run."""

from __future__ import annotations

import httpx
import pytest

from tests.houses.support import Db, Registry, registry
from tests.live import LiveServer


@pytest.fixture(scope="session")
def reg(live_server: LiveServer, app_env: dict[str, str]) -> Registry:
    """A registry client of 咸安区 (421202)."""
    with httpx.Client(base_url=live_server.base_url, timeout=30) as api:
        return registry(api, app_env, "421202")


@pytest.fixture(scope="session")
def reg_tongcheng(live_server: LiveServer, app_env: dict[str, str]) -> Registry:
    """A registry client of 通城县 (421222)."""
    with httpx.Client(base_url=live_server.base_url, timeout=30) as api:
        return registry(api, app_env, "421222")


@pytest.fixture(scope="session")
def db(app_env: dict[str, str]) -> Db:
    return Db(app_env)
