"""The Standard Webhooks wire format, against the specification's own example and the
reference library (``standardwebhooks``); and what an unusable stored secret does."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import time
from datetime import UTC, datetime

import aiohttp
import orjson
import pytest
from standardwebhooks import Webhook

from server.services import standard_webhooks as sw
from tests.db import with_db
from tests.live import ROOT, LiveServer

# The example of the Standard Webhooks specification.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TS = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_signature_matches_the_specification_example():
    assert sw.signature(SPEC_SECRET, SPEC_ID, SPEC_TS, SPEC_BODY) == SPEC_SIGNATURE
    ref = Webhook(SPEC_SECRET).sign(SPEC_ID, datetime.fromtimestamp(SPEC_TS, UTC),
                                    SPEC_BODY.decode())
    assert ref == SPEC_SIGNATURE


def test_the_reference_library_accepts_our_headers():
    secret = sw.new_secret()
    body = orjson.dumps(sw.envelope("contract.filed", datetime.now(UTC),
                                    {"filing_no": "4212022026000001", "position": 7}))
    headers = sw.headers(secret, sw.message_id(41), int(time.time()), body)
    assert headers["webhook-id"] == "msg_41"
    payload = Webhook(secret).verify(body, headers)
    assert payload["type"] == "contract.filed" and payload["data"]["position"] == 7


def test_new_secrets_are_whsec_with_32_random_bytes():
    a, b = sw.new_secret(), sw.new_secret()
    assert a != b and a.startswith("whsec_")
    assert len(sw.secret_key(a)) == 32 == len(base64.b64decode(a.removeprefix("whsec_")))


@pytest.mark.parametrize("secret", [
    "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",  # no prefix (the old home-made secrets)
    "whsec_not base64!",
    "whsec_" + base64.b64encode(b"short").decode(),
])
def test_unusable_secrets_are_refused(secret: str):
    with pytest.raises(sw.BadSecret):
        sw.signature(secret, "msg_1", SPEC_TS, b"{}")


def test_an_endpoint_with_an_old_secret_goes_to_the_dead_letters_at_once(fresh_env):
    from server.models import WebhookDelivery, WebhookEndpoint
    from server.services import webhooks

    LiveServer(fresh_env).migrate()

    async def run() -> WebhookDelivery:
        endpoint = await WebhookEndpoint.create(region_code="421202", secret="old-style-secret",
                                                url="http://127.0.0.1:9/hook")
        row = await WebhookDelivery.create(endpoint=endpoint, event="filed", payload={},
                                           next_attempt_at=datetime.now(UTC))
        async with aiohttp.ClientSession() as http:
            assert await webhooks.attempt(http, row, 1.0) is False
        return await WebhookDelivery.get(id=row.id)

    row = with_db(fresh_env, run)
    assert row.status == "dead" and row.attempts == 1
    assert "whsec_" in row.last_error
    assert row.history[0]["status"] is None


def test_rotate_secret_gives_an_endpoint_a_new_one(fresh_env):
    server = LiveServer(fresh_env)
    server.migrate()

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "server", "webhooks", *args],
                              env=server.env, cwd=ROOT, capture_output=True, text=True)

    added = json.loads(cli("add", "--region", "421202", "--url",
                           "https://example.invalid/hook").stdout.splitlines()[-1])
    rotated = cli("rotate-secret", str(added["endpoint_id"]))
    assert rotated.returncode == 0, rotated.stderr
    new = json.loads(rotated.stdout.splitlines()[-1])
    assert new["endpoint_id"] == added["endpoint_id"]
    assert new["secret"] != added["secret"] and len(sw.secret_key(new["secret"])) == 32
    missing = cli("rotate-secret", "999999")
    assert missing.returncode == 1 and "no such endpoint" in missing.stdout


def test_the_readme_receiver_works_as_written():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Webhooks\n", 1)[1].split("\n## ", 1)[0]
    code = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(code) == 1
    secret, seen, queued = sw.new_secret(), set(), []

    def already_seen(msg_id: str) -> bool:
        if msg_id in seen:
            return True
        seen.add(msg_id)
        return False

    namespace = {"WEBHOOK_SECRET": secret, "already_seen": already_seen,
                 "queue_for_processing": lambda kind, data: queued.append((kind, data))}
    exec(compile(code[0], "README.md", "exec"), namespace)  # noqa: S102
    receive = namespace["receive"]
    body = orjson.dumps(sw.envelope("contract.revoked", datetime.now(UTC),
                                    {"filing_no": "4212022026000001", "position": 9}))
    headers = sw.headers(secret, "msg_9", int(time.time()), body)
    assert receive(body, headers) == 204
    assert queued == [("contract.revoked", {"filing_no": "4212022026000001", "position": 9})]
    assert receive(body, headers) == 204 and len(queued) == 1  # a repeat is dropped
    assert receive(body + b" ", headers) == 400
    stale = sw.headers(secret, "msg_10", int(time.time()) - 600, body)
    assert receive(body, stale) == 400
