"""Evidence that lasts: a filed PDF validates offline as PAdES B-LTA from what it carries
alone, and its archive timestamp is renewed before its TSA certificate runs out.

One server files two sales with a PKI whose TSA certificate lives only 100 days
(``PKI_CONFIG``), then is stopped. Everything after that happens with the service
gone: pyHanko's AdES validation with fetching disabled (and the pyHanko CLI, whose
fetches fail against the dead address), at the filing time, a year and five years
later; then two renewers at once (``python -m server archive renew``), which see the
TSA certificate expire within 180 days, renew it and add a fresh archive timestamp.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

import httpx
import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from server.domain.clock import rfc3339
from tests import sale as s
from tests.ades import load_pem, validate_offline
from tests.db import with_db
from tests.live import ROOT, LiveServer
from tests.verify.conftest import code_and_token

SHORT_TSA_DAYS = 100
PDF = {"Content-Type": "application/pdf"}


@dataclass
class Filed:
    sale: s.Sale
    filing_no: str
    pdf: bytes
    verify_path: str


@dataclass
class Archive:
    env: dict[str, str]
    server: LiveServer
    filed: list[Filed]
    trust_dir: Path


def _short_tsa_config(path: Path) -> Path:
    """certs/pki.toml with a TSA certificate of 100 days (renewed 30 days before it ends)."""
    text = (ROOT / "certs" / "pki.toml").read_text()
    tsa = text.index("[tsa]")
    head, tail = text[:tsa], text[tsa:]
    tail = tail.replace("lifetime_days = 3652", f"lifetime_days = {SHORT_TSA_DAYS}", 1)
    tail = tail.replace("renew_days = 365", "renew_days = 30", 1)
    assert tomllib.loads(head + tail)["tsa"]["lifetime_days"] == SHORT_TSA_DAYS
    path.write_text(head + tail)
    return path


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "server", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def _registry_pdf(api: httpx.Client, f: Filed) -> httpx.Response:
    return api.get(f"/registry/v1/contracts/{f.filing_no}/document.pdf",
                   headers=f.sale.client.headers)


@pytest.fixture(scope="module")
def archive(backend, tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("archive")
    env = backend.new_database_env(tmp / "data")
    env.update({"PKI_CONFIG": str(_short_tsa_config(tmp / "pki-short-tsa.toml")),
                "ARCHIVE_RENEW_INTERVAL_S": "0"})
    server = LiveServer(env)
    server.migrate()
    server.start()
    filed = []
    try:
        with httpx.Client(base_url=server.base_url, timeout=60) as api:
            client = s.registry_client(server, api)
            for sellers in (2, 1):
                sale = s.filed_sale(server, api, sellers=sellers, client=client)
                view = s.expect(api.get(f"/api/v1/contracts/{sale.contract_id}",
                                        headers=sale.sellers[0].headers), 200)
                assert view["filing_state"] == "done", view
                code, token = code_and_token(view["verification_url"])
                f = Filed(sale, view["filing_no"], b"", f"/api/v1/verify/{code}/document?t={token}")
                f.pdf = s.expect_pdf(_registry_pdf(api, f))
                filed.append(f)
        trust = _cli(server.env, "pki", "trust-config", "--out", str(tmp / "trust"))
        assert trust.returncode == 0, trust.stderr
    finally:
        server.stop()  # from here on the service is gone: nothing can be fetched from it
    yield Archive(server.env, server, filed, tmp / "trust")


def _trust(archive: Archive, *, with_tsa: bool = True):
    blobs = [(archive.trust_dir / "roots.pem").read_bytes()]
    if with_tsa:
        blobs.append((archive.trust_dir / "tsa.pem").read_bytes())
    return load_pem(*blobs)


def _fields(pdf: bytes) -> set[str]:
    return {sig.field_name for sig in PdfFileReader(BytesIO(pdf)).embedded_regular_signatures}


# -- offline long-term validation at filing time (the later times: after renewal, below) --


def test_filed_pdf_validates_offline_at_filing_time(archive: Archive) -> None:
    """Certification, every party signature and the seal pass pyHanko's AdES validation
    with only what the PDF carries (tests/signing covers a year and five years on with
    a TSA certificate of the standard ten years)."""
    f = archive.filed[0]
    verdicts = validate_offline(f.pdf, _trust(archive), datetime.now(UTC))
    names = {v.field_name for v in verdicts}
    assert {"platform-certification", "filing-seal"} <= names
    assert len([n for n in names if n.startswith("party-")]) == 3  # two sellers, one buyer
    assert all(v.passed for v in verdicts), [v for v in verdicts if not v.passed]


def test_without_the_tsa_trusted_the_newest_timestamp_needs_fresh_status(archive: Archive
                                                                         ) -> None:
    """Why the TSA is trusted directly: a day after filing, nothing offline can prove the
    newest archive timestamp's TSA certificate unrevoked any more."""
    later = datetime.now(UTC) + timedelta(days=2)
    verdicts = validate_offline(archive.filed[0].pdf, _trust(archive, with_tsa=False), later)
    assert not any(v.passed for v in verdicts)


# -- deliverable 2: archive-timestamp renewal -------------------------------------------------


@pytest.fixture(scope="module")
def renewed(archive: Archive) -> dict:
    """Two renewers at once, with the standard PKI configuration (a 10-year TSA
    certificate, renewed when under 365 days): the 100-day one is replaced."""
    env = {k: v for k, v in archive.env.items() if k != "PKI_CONFIG"}
    cmd = [sys.executable, "-m", "server", "archive", "renew", "--within-days", "180"]
    procs = [subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (stdout, stderr) in zip(procs, outs, strict=True):
        assert p.returncode == 0, stdout + stderr[-3000:]
    reports = [json.loads(stdout.strip().splitlines()[-1]) for stdout, _ in outs]
    again = _cli(env, "archive", "renew", "--within-days", "180")
    assert again.returncode == 0, again.stderr
    stored = with_db(env, _renewed_reports)  # validated by the renewer, before any check
    archive.server.start()
    try:
        with httpx.Client(base_url=archive.server.base_url, timeout=60) as api:
            latest = [s.expect_pdf(_registry_pdf(api, f)) for f in archive.filed]
            feed = s.expect(api.get("/registry/v1/contracts?cursor=0&limit=200",
                                    headers=archive.filed[0].sale.client.headers), 200)
            checks = [[s.expect(api.post(f.verify_path, content=pdf, headers=PDF), 200)
                       for pdf in (f.pdf, new)] for f, new in zip(archive.filed, latest,
                                                                   strict=True)]
    finally:
        archive.server.stop()
    return {"reports": reports, "again": json.loads(again.stdout.strip().splitlines()[-1]),
            "stored": stored,
            "latest": latest, "feed": feed["items"], "checks": checks, "env": env}


async def _renewed_reports() -> dict[str, datetime]:
    """The stored public validation reports of the renewed versions, by SHA-256."""
    from server.models import FiledDocumentReport, StoredDocument

    digests = await StoredDocument.filter(stage="archive_renewed").values_list("sha256",
                                                                                flat=True)
    return {r.sha256: r.validated_at
            for r in await FiledDocumentReport.filter(sha256__in=digests)
            if r.report and r.report["valid"]}


def test_renewal_adds_one_archive_timestamp_per_document_even_with_two_renewers(
        archive: Archive, renewed: dict) -> None:
    ids = [f.sale.contract_id for f in archive.filed]
    done = [cid for r in renewed["reports"] for cid in r["renewed"]]
    assert sorted(done) == sorted(ids), renewed["reports"]  # each exactly once
    assert renewed["again"]["renewed"] == []  # idempotent: nothing due any more
    for f, new in zip(archive.filed, renewed["latest"], strict=True):
        assert new != f.pdf and new.startswith(f.pdf)  # a new incremental update
        stamps = [sig for sig in PdfFileReader(BytesIO(new)).embedded_signatures
                  if sig.sig_object_type == "/DocTimeStamp"]
        assert len(stamps) == 2
        old_tsa, new_tsa = (st.signer_cert for st in stamps)
        assert old_tsa.not_valid_after - datetime.now(UTC) < timedelta(days=SHORT_TSA_DAYS)
        assert new_tsa.not_valid_after - datetime.now(UTC) > timedelta(days=3000)


def test_the_feed_announces_each_renewal(archive: Archive, renewed: dict) -> None:
    events = [(i["event"], i["filing_no"]) for i in renewed["feed"]]
    for f in archive.filed:
        assert events.count(("document_renewed", f.filing_no)) == 1
        assert events.index(("filed", f.filing_no)) < events.index(("document_renewed",
                                                                     f.filing_no))


def test_verification_recognises_original_and_renewed_versions(renewed: dict) -> None:
    assert len(renewed["stored"]) >= len(renewed["checks"])  # at least each contract
    for original, new in renewed["checks"]:
        for report in (original, new):
            assert report["identical"] is True, report
            assert report["conclusion"]["level"] == "ok", report
            assert report["signatures_valid"] is True, report
        assert original["matches_stage"] == "filed"
        assert new["matches_stage"] == "archive_renewed"
        assert new["filed_sha256"] == new["uploaded_sha256"]  # the newest version
        # its first check used the report the renewer stored: no validation on the request
        validated_at = renewed["stored"][new["uploaded_sha256"]]
        assert new["signatures_checked_at"] == rfc3339(validated_at)


@pytest.fixture(scope="module")
def trust_after_renewal(renewed: dict, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("trust-renewed")
    trust = _cli(renewed["env"], "pki", "trust-config", "--out", str(out))
    assert trust.returncode == 0, trust.stderr
    return out


@pytest.mark.parametrize("years", [1, 5])
def test_renewed_pdf_validates_offline_after_the_first_tsa_certificate_expired(
        archive: Archive, renewed: dict, trust_after_renewal: Path, years: int) -> None:
    """A year and five years on, the first (100-day) TSA certificate long expired: the
    renewed archive timestamp, trusted with the re-exported configuration, carries the
    evidence for every signature."""
    certs = load_pem((trust_after_renewal / "roots.pem").read_bytes(),
                     (trust_after_renewal / "tsa.pem").read_bytes())
    assert len(certs) == 3  # the root and both TSA certificates
    at = datetime.now(UTC) + timedelta(days=365 * years + 1)
    verdicts = validate_offline(renewed["latest"][0], certs, at)
    assert _fields(renewed["latest"][0]) == {v.field_name for v in verdicts}
    assert all(v.passed for v in verdicts), [v for v in verdicts if not v.passed]


def test_pyhanko_cli_adesverify_with_the_service_down(renewed: dict,
                                                      trust_after_renewal: Path) -> None:
    """The command a registry office runs, with the validation configuration we export
    (the CLI tries to fetch status data; the service is stopped, so nothing comes)."""
    path = trust_after_renewal / "filed.pdf"
    path.write_bytes(renewed["latest"][0])
    later = (datetime.now(UTC) + timedelta(days=366)).strftime("%Y-%m-%dT%H:%M:%SZ")
    out = subprocess.run(
        [str(Path(sys.executable).parent / "pyhanko"), "--config", "pyhanko.yml", "sign",
         "adesverify", "--validation-context", "registry", "--validation-time", later,
         "filed.pdf"], cwd=trust_after_renewal, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr[-3000:]
    lines = [ln for ln in out.stdout.splitlines() if ln.count(":") >= 2]
    assert {ln.split(":")[0] for ln in lines} == _fields(renewed["latest"][0])
    assert all(":INTACT:TRUSTED," in ln for ln in lines), out.stdout
