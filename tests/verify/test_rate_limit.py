"""Rate limits per client address: 429 in the API.md format for the API, a small page for HTML."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.backends import Backend
from tests.live import LiveServer


@pytest.fixture(scope="module")
def strict_server(backend: Backend, tmp_path_factory: pytest.TempPathFactory
                  ) -> Iterator[LiveServer]:
    env = backend.new_database_env(tmp_path_factory.mktemp("verify-strict"))
    env.update({"VERIFY_RATE_LIMIT_PER_MINUTE": "4",
                "VERIFY_DOCUMENT_RATE_LIMIT_PER_MINUTE": "2"})
    server = LiveServer(env)
    server.migrate()
    server.start()
    yield server
    server.stop()


def test_page_and_json_share_one_quota(strict_server):
    with httpx.Client(base_url=strict_server.base_url, timeout=30) as api:
        # Guessing counts like anything else: unknown codes spend the quota too.
        statuses = [api.get("/v/ABCDEFGHJK", params={"t": "guess"}).status_code,
                    api.get("/api/v1/verify/ABCDEFGHJK", params={"t": "guess"}).status_code,
                    api.get("/v/ABCDEFGHJK").status_code,
                    api.get("/api/v1/verify/ABCDEFGHJK").status_code]
        assert statuses == [404, 404, 404, 404]
        j = api.get("/api/v1/verify/ABCDEFGHJK", params={"t": "guess"})
        assert j.status_code == 429
        assert int(j.headers["retry-after"]) > 0
        body = j.json()
        assert body["error"]["code"] == "rate_limited" and body["error"]["message"]
        assert body["request_id"]
        h = api.get("/v/ABCDEFGHJK", params={"t": "guess"})
        assert h.status_code == 429
        assert h.headers["content-type"].startswith("text/html")
        assert int(h.headers["retry-after"]) > 0
        assert "访问过于频繁" in h.text
        assert "default-src 'none'" in h.headers["content-security-policy"]
        # The PDF check has its own bucket, still open...
        d = api.post("/api/v1/verify/ABCDEFGHJK/document", params={"t": "guess"},
                     content=b"%PDF-1.7", headers={"Content-Type": "application/pdf"})
        assert d.status_code == 404
        # ...until its smaller quota is spent.
        api.post("/api/v1/verify/ABCDEFGHJK/document", params={"t": "guess"},
                 content=b"%PDF-1.7", headers={"Content-Type": "application/pdf"})
        d = api.post("/api/v1/verify/ABCDEFGHJK/document", params={"t": "guess"},
                     content=b"%PDF-1.7", headers={"Content-Type": "application/pdf"})
        assert d.status_code == 429 and d.json()["error"]["code"] == "rate_limited"
        # Other endpoints are not affected.
        assert api.get("/healthz").status_code == 200
