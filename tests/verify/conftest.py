"""A live server of the verification tests' own, and one filed sale they share.

The server is separate from the shared ``live_server`` because of the rate
limits: these tests send many requests from one address, and the 429 tests
need limits of their own (see test_rate_limit.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests import sale as s
from tests.backends import Backend
from tests.live import LiveServer


@dataclass
class FiledContract:
    """A filed sale plus what the tests check against: its QR URL, the prepared and filed PDFs."""

    sale: s.Sale
    view: dict
    code: str
    token: str
    prepared_pdf: bytes
    filed_pdf: bytes

    @property
    def page(self) -> str:
        return f"/v/{self.code}?t={self.token}"

    @property
    def json_path(self) -> str:
        return f"/api/v1/verify/{self.code}?t={self.token}"

    @property
    def document_path(self) -> str:
        return f"/api/v1/verify/{self.code}/document?t={self.token}"


def code_and_token(verification_url: str) -> tuple[str, str]:
    parts = urlsplit(verification_url)
    return parts.path.rsplit("/", 1)[1], parse_qs(parts.query)["t"][0]


def contract_view(api: httpx.Client, sale: s.Sale) -> dict:
    return s.expect(api.get(f"/api/v1/contracts/{sale.contract_id}",
                            headers=sale.sellers[0].headers), 200)


def file_with_prepared(server: LiveServer, api: httpx.Client, **kw) -> FiledContract:
    """Like ``sale.filed_sale``, keeping the ``prepared`` PDF (the one before any signature)."""
    sale = s.sale_in_signing(server, api, **kw)
    prepared = api.get(f"/api/v1/contracts/{sale.contract_id}/document.pdf",
                       headers=sale.sellers[0].headers)
    assert prepared.status_code == 200, prepared.text
    for who in sale.people:
        s.expect(s.sign(api, sale.contract_id, who), 201)
    view = contract_view(api, sale)
    assert view["status"] == "filed" and view["filing_state"] == "done", view
    filed = api.get(f"/api/v1/contracts/{sale.contract_id}/document.pdf",
                    headers=sale.sellers[0].headers)
    assert filed.status_code == 200
    code, token = code_and_token(view["verification_url"])
    return FiledContract(sale, view, code, token, prepared.content, filed.content)


@pytest.fixture(scope="session")
def verify_server(backend: Backend, tmp_path_factory: pytest.TempPathFactory
                  ) -> Iterator[LiveServer]:
    env = backend.new_database_env(tmp_path_factory.mktemp("verify-data"))
    env.update({"VERIFY_RATE_LIMIT_PER_MINUTE": "100000",
                "VERIFY_DOCUMENT_RATE_LIMIT_PER_MINUTE": "100000"})
    # Two workers on Redis: a status change seen by one must reach the other's answers.
    server = LiveServer(env, workers=2 if backend.name == "services" else 1)
    server.migrate()
    server.start()
    yield server
    server.stop()


@pytest.fixture()
def vapi(verify_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=verify_server.base_url, timeout=60) as client:
        yield client


@pytest.fixture(scope="session")
def filed(verify_server: LiveServer) -> FiledContract:
    """One filed sale (two sellers, one buyer) that no test moves out of ``filed``."""
    with httpx.Client(base_url=verify_server.base_url, timeout=60) as api:
        return file_with_prepared(verify_server, api, sellers=2, buyers=1)
