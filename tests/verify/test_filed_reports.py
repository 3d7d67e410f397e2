"""The filed document's durable validation report: the first check of the filed original
runs no validation, a modified copy still gets one, a revocation makes the report be
computed again, and the report outlives the key-value store.

Where each check's signature report came from is read off ``/metrics``
(``verify_document_reports_total{source=...}``): ``stored`` (the durable report),
``computed`` (a validation for that request), ``cached``, ``background``.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from datetime import datetime
from io import BytesIO

import httpx
import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from tests.db import with_db
from tests.live import ROOT, LiveServer
from tests.metrics import totals_by_label
from tests.pdf_edits import add_revision
from tests.verify.conftest import FiledContract, file_with_prepared
from tests.verify.test_document import check


def counts(api: httpx.Client) -> dict[str, float]:
    return {"stored": 0.0, "computed": 0.0, "cached": 0.0, "background": 0.0,
            **totals_by_label(api.get("/metrics").text, "verify_document_reports_total",
                              "source")}


def stored_report(server: LiveServer, sha256: str):
    async def read():
        from server.models import FiledDocumentReport

        return await FiledDocumentReport.get_or_none(sha256=sha256)

    return with_db(server.env, read)


def wait_for_stored_report(server: LiveServer, sha256: str, timeout: float = 180.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = stored_report(server, sha256)
        if row is not None:
            return row
        time.sleep(0.5)
    raise AssertionError(f"no stored report for {sha256} after {timeout} s")


def checked_at(report: dict) -> datetime:
    """``signatures_checked_at`` (RFC 3339: whole seconds)."""
    return datetime.fromisoformat(report["signatures_checked_at"])


def sha(pdf: bytes) -> str:
    import hashlib

    return hashlib.sha256(pdf).hexdigest()


@pytest.fixture(scope="module")
def own(verify_server: LiveServer) -> FiledContract:
    """A sale of this module's own: its first check is the first check ever."""
    with httpx.Client(base_url=verify_server.base_url, timeout=60) as api:
        return file_with_prepared(verify_server, api, sellers=1, buyers=1)


def test_filing_validates_the_filed_document_in_the_background(verify_server, own):
    row = wait_for_stored_report(verify_server, sha(own.filed_pdf))
    assert row.report["valid"] is True
    kinds = [s["kind"] for s in row.report["signatures"]]
    assert "seal" in kinds and kinds.count("party") == 2
    # stored masked, as the public check shows it
    assert all("*" in s["signer"] for s in row.report["signatures"] if s["kind"] == "party")
    assert all(p.name not in str(row.report) for p in own.sale.people)


def test_first_check_of_the_filed_original_runs_no_validation(vapi, verify_server, own):
    row = wait_for_stored_report(verify_server, sha(own.filed_pdf))
    before = counts(vapi)
    report = check(vapi, own, own.filed_pdf).json()
    after = counts(vapi)
    assert after["computed"] == before["computed"]
    assert after["stored"] == before["stored"] + 1
    assert report["identical"] is True and report["signatures_valid"] is True
    assert report["conclusion"]["level"] == "ok"
    assert checked_at(report) == row.validated_at.replace(microsecond=0)
    assert [s["kind"] for s in report["signatures"]] == \
        [s["kind"] for s in row.report["signatures"]]


def test_a_modified_copy_is_validated_in_full(vapi, verify_server, own):
    extended = add_revision(own.filed_pdf)
    before = counts(vapi)
    report = check(vapi, own, extended).json()
    after = counts(vapi)
    assert after["computed"] == before["computed"] + 1
    assert after["stored"] == before["stored"]
    assert report["identical"] is False and report["added_after_filing"] is True
    assert report["conclusion"]["level"] == "bad"
    assert report["signatures"]  # really validated: every signature is reported
    assert stored_report(verify_server, sha(extended)) is None  # never kept for uploads


def _flush_kv(server: LiveServer) -> None:
    """Every key of this server's key space (Redis); the embedded one goes with the process."""
    url, prefix = server.env.get("REDIS_URL"), server.env.get("REDIS_KEY_PREFIX", "")
    if not url:
        return

    async def flush() -> None:
        import redis.asyncio as redis

        client = redis.from_url(url)
        try:
            async for key in client.scan_iter(match=f"{prefix}*"):
                await client.delete(key)
        finally:
            await client.aclose()

    asyncio.run(flush())


def test_the_stored_report_survives_a_restart_and_a_flushed_kv(verify_server, own):
    row = wait_for_stored_report(verify_server, sha(own.filed_pdf))
    verify_server.stop()
    _flush_kv(verify_server)
    verify_server.start(timeout=120)
    with httpx.Client(base_url=verify_server.base_url, timeout=60) as api:
        report = check(api, own, own.filed_pdf).json()
        assert counts(api)["computed"] == 0  # metrics start afresh with the process
    assert checked_at(report) == row.validated_at.replace(microsecond=0)
    assert report["identical"] is True and report["signatures_valid"] is True


def _party_serial(pdf: bytes) -> int:
    sigs = PdfFileReader(BytesIO(pdf)).embedded_regular_signatures
    return next(s.signer_cert.serial_number for s in sigs
                if str(s.field_name).startswith("party-"))


def test_a_revocation_makes_the_report_be_computed_again(vapi, verify_server):
    with httpx.Client(base_url=verify_server.base_url, timeout=60) as api:
        fc = file_with_prepared(verify_server, api, sellers=1, buyers=1)
    digest = sha(fc.filed_pdf)
    old = wait_for_stored_report(verify_server, digest)
    serial = _party_serial(fc.filed_pdf)
    done = subprocess.run([sys.executable, "-m", "server", "pki", "revoke", f"{serial:x}",
                           "--reason", "key_compromise"], env=verify_server.env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    revoked = stored_report(verify_server, digest)
    assert revoked is None or revoked.validated_at > old.validated_at  # forgotten
    time.sleep(1.1)  # each worker re-reads the revocations at most once a second
    report = check(vapi, fc, fc.filed_pdf).json()
    checked = checked_at(report)
    assert checked > old.validated_at.replace(microsecond=0)
    # The stored report said "good"; the new one knows. (Whether a signature made before
    # its certificate was revoked still passes is pyHanko's AdES verdict, not ours.)
    def states(signatures: list[dict]) -> list[str]:
        return [s["revocation"] for s in signatures if s["kind"] == "party"]

    assert "revoked" not in states(old.report["signatures"])
    assert "revoked" in states(report["signatures"])
    again = stored_report(verify_server, digest)
    assert again is not None and again.validated_at.replace(microsecond=0) == checked
