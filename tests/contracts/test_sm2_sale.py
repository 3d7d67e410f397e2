"""A whole sale with ``SIGNING_SUITE=sm2``, over HTTP, on this run's backend.

The filed PDF, fetched as a registration office fetches it, has every SM2
signature verified by the openssl command line and by gmssl
(:mod:`tests.gm_independent`): each party's, the certification, the seal, the
timestamp tokens, the DSS's OCSP responses and CRL, every certificate. The
project's own answers — the upload check of the verification page, the
evidence report — must agree and say who checked.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from asn1crypto import crl, pem, x509

from tests import sale as s
from tests.backends import Backend
from tests.gm_independent import (
    OID_SM2_CURVE,
    OID_SM2_SM3,
    Peers,
    Sm2DocumentCheck,
    tampering_detected,
)
from tests.live import ROOT, LiveServer
from tests.verify.conftest import code_and_token
from tests.verify.test_document import flip_signed_byte

PDF = {"Content-Type": "application/pdf"}


@dataclass(frozen=True)
class Sm2Sale:
    server: LiveServer
    sale: s.Sale
    view: dict
    filed_pdf: bytes
    roots: list[x509.Certificate]
    others: dict[str, bytes]  # the sale's other filed documents (custody agreement, notice)


@pytest.fixture(scope="module")
def sm2_server(backend: Backend, tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[LiveServer]:
    env = backend.new_database_env(tmp_path_factory.mktemp("sm2-data"))
    env["SIGNING_SUITE"] = "sm2"
    with LiveServer(env).serving() as server:
        yield server


@pytest.fixture(scope="module")
def sm2_sale(sm2_server: LiveServer) -> Sm2Sale:
    with httpx.Client(base_url=sm2_server.base_url, timeout=120) as api:
        sale = s.filed_sale(sm2_server, api, sellers=2, buyers=1)
        view = s.expect(api.get(f"/api/v1/contracts/{sale.contract_id}",
                                headers=sale.sellers[0].headers), 200)
        assert view["status"] == "filed" and view["filing_state"] == "done", view
        # what a registration office downloads
        path = f"/registry/v1/contracts/{view['filing_no']}/document.pdf"
        filed = s.expect_pdf(api.get(path, headers=sale.client.headers))
        others = {doc["kind"]: s.expect_pdf(api.get(path, params={"kind": doc["kind"]},
                                                    headers=sale.client.headers))
                  for doc in view["documents"] if doc["kind"] != "contract"}
        roots_pem = api.get("/pki/roots.pem").content
    roots = [x509.Certificate.load(der) for _, _, der in pem.unarmor(roots_pem, multiple=True)]
    return Sm2Sale(sm2_server, sale, view, filed, roots, others)


def test_the_sale_ends_filed_under_sm2_certificates(sm2_sale: Sm2Sale) -> None:
    (root,) = sm2_sale.roots
    assert root["signature_algorithm"]["algorithm"].dotted == OID_SM2_SM3
    assert root.public_key["algorithm"]["parameters"].chosen.dotted == OID_SM2_CURVE
    data_dir = Path(sm2_sale.server.env["DATA_DIR"])
    assert (data_dir / "pki" / "sm2" / "keys" / "seal.key.pem").exists()
    assert not (data_dir / "pki" / "keys").exists()  # no ECDSA PKI was started beside it


def test_every_signature_verified_by_openssl_and_gmssl(sm2_sale: Sm2Sale, tmp_path) -> None:
    checked = Sm2DocumentCheck(sm2_sale.filed_pdf, sm2_sale.roots, tmp_path).run()
    names = {c for c in checked if not c.startswith(("certificate ", "OCSP", "CRL"))}
    # the certification, three parties, the seal, each with its signature timestamp; the
    # seal's maker (GB/T 38540: the SES_Seal inside the seal's SES_Signature); the
    # archive timestamp
    assert "filing-seal (SES_Seal, its maker)" in names
    assert len([n for n in names if "timestamp" not in n]) == 6, names
    assert len([n for n in names if n.endswith("(signature timestamp)")]) == 5, names
    assert "archive-timestamp-1 (document timestamp)" in names
    assert "OCSP response" in checked and "CRL" in checked
    assert tampering_detected(sm2_sale.filed_pdf, tmp_path) == 5


def test_every_other_document_of_the_sale_too(sm2_sale: Sm2Sale, tmp_path) -> None:
    """The sale's other documents (one face verification signs them all) are SM2 as well."""
    assert sm2_sale.others, sm2_sale.view["documents"]
    for kind, pdf in sm2_sale.others.items():
        (tmp_path / kind).mkdir()
        checked = Sm2DocumentCheck(pdf, sm2_sale.roots, tmp_path / kind).run()
        assert "filing-seal (SES_Seal, its maker)" in checked, kind
        assert len([c for c in checked if c.endswith("(signature timestamp)")]) == 5, kind
        (tmp_path / f"{kind}-tampered").mkdir()
        assert tampering_detected(pdf, tmp_path / f"{kind}-tampered") >= 3, kind


def test_pki_endpoints_answer_in_sm2(sm2_sale: Sm2Sale, tmp_path) -> None:
    peers = Peers(tmp_path)
    (root,) = sm2_sale.roots
    with httpx.Client(base_url=sm2_sale.server.base_url, timeout=30) as api:
        body = api.get("/pki/crl/root.crl")
        assert body.status_code == 200
    item = crl.CertificateList.load(body.content)
    assert item["signature_algorithm"]["algorithm"].dotted == OID_SM2_SM3
    peers.verify(root.public_key, item["tbs_cert_list"].dump(), item["signature"].native,
                 "root CRL over HTTP")


def test_upload_check_validates_sm2_and_says_who_checked(sm2_sale: Sm2Sale) -> None:
    code, token = code_and_token(sm2_sale.view["verification_url"])
    path = f"/api/v1/verify/{code}/document?t={token}"
    with httpx.Client(base_url=sm2_sale.server.base_url, timeout=120) as api:
        report = s.expect(api.post(path, content=sm2_sale.filed_pdf, headers=PDF), 200)
        tampered = s.expect(api.post(path, content=flip_signed_byte(sm2_sale.filed_pdf),
                                     headers=PDF), 200)
        page = api.get(f"/v/{code}?t={token}")
    assert report["identical"] is True and report["signatures_valid"] is True, report
    assert len(report["signatures"]) == 6
    for sig in report["signatures"]:
        assert sig["ok"] and sig["algorithm"] == "SM2/SM3", sig
        assert "OpenSSL 3" in sig["checked_by"] and "does not support SM2" in sig["checked_by"]
    assert report["checked_by"] and "OpenSSL 3" in report["checked_by"][0]
    [seal] = [sig for sig in report["signatures"] if sig["kind"] == "seal"]
    assert "GB/T 38540" in seal["checked_by"]  # the SES_Signature, decoded and checked
    assert report["conclusion"]["level"] == "ok"
    assert tampered["signatures_valid"] is False and tampered["identical"] is False
    assert any(not sig["intact"] for sig in tampered["signatures"])
    assert page.status_code == 200 and sm2_sale.view["filing_no"] in page.text


def test_evidence_report_is_sm2_signed_and_carries_the_check(sm2_sale: Sm2Sale,
                                                             tmp_path) -> None:
    seller = sm2_sale.sale.sellers[0]
    with httpx.Client(base_url=sm2_sale.server.base_url, timeout=120) as api:
        report = s.expect_pdf(api.get(f"/api/v1/contracts/{sm2_sale.sale.contract_id}"
                                      "/evidence.pdf", headers=seller.headers))
    checked = Sm2DocumentCheck(report, sm2_sale.roots, tmp_path).run()
    assert "platform-certification" in checked
    path = tmp_path / "evidence.pdf"
    path.write_bytes(report)
    text = re.sub(r"\s+", "", subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"],
                                             capture_output=True, text=True, check=True).stdout)
    # per document of the sale: five signatures and the archive timestamp
    per_sale = 6 * len(sm2_sale.view["documents"])
    assert text.count("签名算法SM2/SM3") == per_sale
    assert text.count("通过：SM2签名、证书链、OCSP与CRL由OpenSSL3") == per_sale
    assert "pyHanko不支持SM2" in text and "distid:1234567812345678" in text


def test_registry_office_checks_offline_with_openssl(sm2_sale: Sm2Sale, tmp_path) -> None:
    """trust-config's sm2_check.py, as an office runs it: the service stopped, nothing but
    the file, roots.pem and the openssl command line. Last in this module: it stops the
    server."""
    server = sm2_sale.server
    out = subprocess.run([sys.executable, "-m", "server", "pki", "trust-config", "--out",
                          str(tmp_path / "trust")], env=server.env, cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.splitlines()[0])["files"] == [
        "roots.pem", "tsa.pem", "sm2_check.py"]
    server.stop()
    filed = tmp_path / "filed.pdf"
    filed.write_bytes(sm2_sale.filed_pdf)
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(flip_signed_byte(sm2_sale.filed_pdf))

    def check(pdf: Path) -> subprocess.CompletedProcess:
        # run from elsewhere, as a file: it must not need this project's code
        return subprocess.run([sys.executable, str(tmp_path / "trust" / "sm2_check.py"),
                               "--roots", str(tmp_path / "trust" / "roots.pem"), str(pdf)],
                              cwd=tmp_path, capture_output=True, text=True, timeout=300,
                              env={"PATH": os.environ["PATH"]})

    good = check(filed)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "OK  filing-seal" in good.stdout and "OK  CRL" in good.stdout
    bad = check(tampered)
    assert bad.returncode == 1 and "FAILED" in bad.stdout, bad.stdout + bad.stderr
