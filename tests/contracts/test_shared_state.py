"""State that several hosts share: revocations in the database, documents in the
document store, locks in Redis. Nothing a second host needs is in one host's files."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
from io import BytesIO
from pathlib import Path

import httpx
import pytest
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp as cocsp
from pyhanko.pdf_utils.reader import PdfFileReader

from server.config import Settings
from server.secrets import load_secrets
from tests import sale as s
from tests.live import ROOT, LiveServer, free_port


def _party_cert(pdf: bytes) -> cx509.Certificate:
    reader = PdfFileReader(BytesIO(pdf))
    sig = next(e for e in reader.embedded_signatures if e.field_name.startswith("party"))
    return cx509.load_der_x509_certificate(sig.signer_cert.dump())


def _revoke(server: LiveServer, serial: int) -> dict:
    out = subprocess.run([sys.executable, "-m", "server", "pki", "revoke", f"{serial:x}",
                          "--reason", "key_compromise"], env=server.env, cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def _ocsp_status(api: httpx.Client, cert: cx509.Certificate, issuer: cx509.Certificate):
    req = cocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA256()).build()
    b64 = base64.b64encode(req.public_bytes(serialization.Encoding.DER)).decode()
    resp = api.get(f"/pki/ocsp/{b64}")
    assert resp.status_code == 200
    return cocsp.load_der_ocsp_response(resp.content).certificate_status


def _crl_serials(api: httpx.Client) -> set[int]:
    crl = cx509.load_der_x509_crl(api.get("/pki/crl/issuing.crl").content)
    return {r.serial_number for r in crl}


def _until(fn, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while not (value := fn()) and time.monotonic() < deadline:
        time.sleep(0.2)
    return value


def test_a_revocation_from_the_cli_is_in_the_crl_and_ocsp_without_a_file(
        live_server: LiveServer, api: httpx.Client) -> None:
    sale = s.filed_sale(live_server, api)
    pdf = s.expect_pdf(api.get(f"/api/v1/contracts/{sale.contract_id}/document.pdf",
                               headers=sale.sellers[0].headers))
    cert = _party_cert(pdf)
    issuer = cx509.load_der_x509_certificate(api.get("/pki/ca/issuing.cer").content)
    assert _ocsp_status(api, cert, issuer) == cocsp.OCSPCertStatus.GOOD
    first = _revoke(live_server, cert.serial_number)
    assert first["ca"] == "issuing" and first["reason"] == "key_compromise"
    assert _until(lambda: cert.serial_number in _crl_serials(api))
    assert _ocsp_status(api, cert, issuer) == cocsp.OCSPCertStatus.REVOKED
    # the first revocation stands: its date is the one already published
    assert _revoke(live_server, cert.serial_number)["revoked_at"] == first["revoked_at"]
    settings = Settings.from_env(live_server.env)
    assert not list(settings.pki_dir.rglob("revoked*.json"))


def test_revoke_refuses_what_we_did_not_issue(live_server: LiveServer) -> None:
    out = subprocess.run([sys.executable, "-m", "server", "pki", "revoke", "123abc"],
                         env=live_server.env, cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 2 and "not issued by this PKI" in out.stderr
    out = subprocess.run([sys.executable, "-m", "server", "pki", "revoke", "zz"],
                         env=live_server.env, cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 2 and "hexadecimal" in out.stderr


@pytest.mark.backend("services")
def test_two_hosts_on_one_database_and_redis_serve_one_sale(
        fresh_env: dict[str, str], tmp_path: Path) -> None:
    """Host A and host B: their own DATA_DIR, one PostgreSQL, one Redis, the PKI volume
    and the secrets from configuration. A sale started on A is confirmed, signed and
    filed through B; both serve the same PDF, CRL and OCSP answers."""
    shared_pki = tmp_path / "pki-volume"
    token_key = tmp_path / "token.pem"
    first = Settings.from_env({**fresh_env, "DATA_DIR": str(tmp_path / "seed")})
    secrets = load_secrets(first)  # development secrets, handed to both as configuration
    token_key.write_bytes(secrets.token_signing_key_pem)
    public = f"http://127.0.0.1:{free_port()}"  # the load balancer's address
    common = {**fresh_env, "PKI_DIR": str(shared_pki), "PUBLIC_BASE_URL": public,
              "IDENTITY_ENCRYPTION_KEY": base64.b64encode(
                  secrets.identity_encryption_key).decode(),
              "IDENTITY_INDEX_KEY": base64.b64encode(secrets.identity_index_key).decode(),
              "TOKEN_SIGNING_KEY_FILE": str(token_key), "TOKEN_KEY_ID": secrets.token_key_id,
              "PKI_PASSPHRASE": secrets.pki_passphrase.decode()}
    host_a = LiveServer({**common, "DATA_DIR": str(tmp_path / "host-a")})
    host_b = LiveServer({**common, "DATA_DIR": str(tmp_path / "host-b")})
    for host in (host_a, host_b):  # each reaches the sandbox face provider directly
        host.env["TENCENT_ENDPOINT"] = f"{host.base_url}/sandbox/faceid"
    host_a.migrate()
    host_a.start()
    host_b.start()
    try:
        with httpx.Client(base_url=host_a.base_url, timeout=60) as a, \
                httpx.Client(base_url=host_b.base_url, timeout=60) as b:
            client = s.registry_client(host_a, a)
            seller, buyer = s.person(a), s.person(a)
            _, cert_no = s.register_house(a, client, [seller])
            draft = s.create_draft(a, seller, "seller", cert_no, [seller], [buyer])
            # ...and everything after the draft through host B
            s.invite_and_accept(b, draft, seller, buyer)
            assert s.confirm_all(b, draft["id"], [seller, buyer])["status"] == "signing"
            for who in (seller, buyer):
                s.expect(s.sign(b, draft["id"], who), 201)
            view = s.expect(a.get(f"/api/v1/contracts/{draft['id']}",
                                  headers=seller.headers), 200)
            assert view["status"] == "filed"
            filing_no = view["filing_no"]
            client_b = s.RegistryClient(client.client_id, client.client_secret, client.region,
                                        client.token)
            pdf_a = s.expect_pdf(a.get(f"/registry/v1/contracts/{filing_no}/document.pdf",
                                       headers=client.headers))
            pdf_b = s.expect_pdf(b.get(f"/registry/v1/contracts/{filing_no}/document.pdf",
                                       headers=client_b.headers))
            assert pdf_a == pdf_b
            assert not list((tmp_path / "host-a").rglob("*.pdf"))  # in the database
            cert = _party_cert(pdf_a)
            issuer = cx509.load_der_x509_certificate(a.get("/pki/ca/issuing.cer").content)
            assert b.get("/pki/ca/issuing.cer").content == a.get("/pki/ca/issuing.cer").content
            _revoke(host_a, cert.serial_number)  # an operator on host A
            for api in (a, b):
                assert _until(lambda api=api: cert.serial_number in _crl_serials(api))
                assert _ocsp_status(api, cert, issuer) == cocsp.OCSPCertStatus.REVOKED
    finally:
        host_a.stop()
        host_b.stop()
