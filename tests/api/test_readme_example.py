"""The README's contract-creation body works as written: copied from the README, posted
as the demo seller, it creates a draft (issue 13, item 6)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from tests import flows
from tests.live import ROOT, LiveServer


def readme_example() -> dict:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- contract-example -->\s*```json\n(.*?)\n```", text, re.S)
    assert match, "the README lost its contract example"
    return json.loads(match.group(1))


@pytest.fixture()
def demo_server(fresh_env: dict[str, str]) -> Iterator[LiveServer]:
    server = LiveServer(fresh_env)
    server.migrate()
    subprocess.run([sys.executable, "-m", "server", "seed-demo"], env=server.env, cwd=ROOT,
                   check=True, capture_output=True)
    server.start()
    yield server
    server.stop()


def test_the_readme_body_creates_a_draft(demo_server: LiveServer):
    body = readme_example()
    with httpx.Client(base_url=demo_server.base_url, timeout=60) as api:
        token = flows.login(api, "demo-wangjianguo")
        resp = api.post("/api/v1/contracts", json=body, headers=flows.auth(token))
        assert resp.status_code == 201, resp.text
        draft = resp.json()
    assert draft["status"] == "draft" and draft["version"] == 1
    assert draft["terms"]["price_fen"] == body["terms"]["price_fen"]
    assert draft["terms"]["taxes_borne_by"] == "by_law"  # a default the README names
    assert sorted(p["role"] for p in draft["parties"]) == ["buyer", "seller", "seller"]


def test_the_readme_lists_every_required_term_with_its_values():
    from server.schemas.miniapp import Terms

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text[text.index("### Contract terms"):text.index("<!-- contract-example -->")]
    for name, field in Terms.model_fields.items():
        row = next((line for line in table.splitlines() if line.startswith(f"| `{name}` ")),
                   None)
        assert row is not None, f"README: no row for terms.{name}"
        assert ("| yes |" in row) == field.is_required(), row
    for method in ("full", "commercial_loan", "provident_fund_loan", "combined",
                   "arbitration", "court"):
        assert f"`{method}`" in table or method in table
