"""``/pki/tsa`` and ``/pki/ocsp`` over real HTTP, with OpenSSL as the client.

OpenSSL is a peer nobody here wrote: ``openssl ts -query`` builds the
timestamp requests and ``openssl ts -verify`` checks the replies (nonce,
imprint, signature, chain); ``openssl ocsp`` asks for and checks the status
of a certificate, over POST and from a response fetched by a hand-built,
percent-encoded GET URL (RFC 6960 §A.1.1).
"""

from __future__ import annotations

import base64
import hashlib
import subprocess
import urllib.parse
from pathlib import Path

import httpx
import pytest
from asn1crypto import tsp

from signing.pki.config import load_config

POLICY = load_config().tsa_policy_oid


def _openssl(*args: str | Path, check: bool = True) -> str:
    done = subprocess.run(["openssl", *map(str, args)], capture_output=True, text=True)
    if check and done.returncode != 0:
        raise AssertionError(f"openssl {' '.join(map(str, args))}: {done.stdout}{done.stderr}")
    return done.stdout + done.stderr


class Tsa:
    """Requests made by ``openssl ts -query``, answered by the live server."""

    def __init__(self, base_url: str, work: Path) -> None:
        self.base_url = base_url
        self.work = work
        self.data = work / "contract.bin"
        self.data.write_bytes(b"the contract, as signed " * 100)
        self.roots = work / "roots.pem"
        self.roots.write_bytes(httpx.get(f"{base_url}/pki/roots.pem").content)
        self.n = 0

    def query(self, *options: str) -> Path:
        self.n += 1
        path = self.work / f"q{self.n}.tsq"
        _openssl("ts", "-query", "-data", self.data, "-sha256", *options, "-out", path)
        return path

    def reply(self, query: Path | bytes) -> Path:
        body = query if isinstance(query, bytes) else query.read_bytes()
        resp = httpx.post(f"{self.base_url}/pki/tsa", content=body,
                          headers={"Content-Type": "application/timestamp-query"})
        assert resp.status_code == 200, resp.text
        assert resp.headers["content-type"] == "application/timestamp-reply"
        self.n += 1
        path = self.work / f"r{self.n}.tsr"
        path.write_bytes(resp.content)
        return path

    def text(self, reply: Path) -> str:
        return _openssl("ts", "-reply", "-in", reply, "-text")

    def token_certs(self, reply: Path) -> str:
        token = self.work / f"{reply.stem}.tst"
        _openssl("ts", "-reply", "-in", reply, "-token_out", "-out", token)
        return _openssl("pkcs7", "-inform", "DER", "-in", token, "-print_certs", check=False)


@pytest.fixture(scope="module")
def tsa(live_server, tmp_path_factory) -> Tsa:
    return Tsa(live_server.base_url, tmp_path_factory.mktemp("tsa"))


@pytest.fixture(scope="module")
def tsa_cert(tsa: Tsa) -> Path:
    """The TSA's certificate, as a token with certReq carries it."""
    pem = tsa.token_certs(tsa.reply(tsa.query("-cert")))
    path = tsa.work / "tsa.pem"
    path.write_text(pem)
    return path


def test_granted_token_verifies_with_openssl(tsa: Tsa) -> None:
    query = tsa.query("-cert")
    reply = tsa.reply(query)
    text = tsa.text(reply)
    assert "Status: Granted." in text
    assert f"Policy OID: {POLICY}" in text
    # -verify checks the imprint, the nonce against the query, the signature and the chain
    out = _openssl("ts", "-verify", "-in", reply, "-queryfile", query, "-CAfile", tsa.roots)
    assert "Verification: OK" in out


def test_nonce_is_echoed(tsa: Tsa) -> None:
    query = tsa.query()
    nonce = [line for line in _openssl("ts", "-query", "-in", query, "-text").splitlines()
             if line.strip().startswith("Nonce:")]
    assert nonce and nonce[0] in tsa.text(tsa.reply(query))
    without = tsa.query("-no_nonce")
    assert "Nonce: unspecified" in tsa.text(tsa.reply(without))


def test_certificate_only_when_certreq(tsa: Tsa, tsa_cert: Path) -> None:
    with_cert = tsa.reply(tsa.query("-cert"))
    assert "BEGIN CERTIFICATE" in tsa.token_certs(with_cert)
    query = tsa.query()  # no -cert: certReq FALSE
    without = tsa.reply(query)
    assert "BEGIN CERTIFICATE" not in tsa.token_certs(without)
    # still verifiable for a client that has the TSA certificate from elsewhere
    out = _openssl("ts", "-verify", "-in", without, "-queryfile", query, "-CAfile", tsa.roots,
                   "-untrusted", tsa_cert)
    assert "Verification: OK" in out


def test_requested_policy_is_honoured_or_refused(tsa: Tsa) -> None:
    ours = tsa.query("-tspolicy", POLICY, "-cert")
    reply = tsa.reply(ours)
    assert f"Policy OID: {POLICY}" in tsa.text(reply)
    assert "Verification: OK" in _openssl("ts", "-verify", "-in", reply, "-queryfile", ours,
                                          "-CAfile", tsa.roots)
    other = tsa.text(tsa.reply(tsa.query("-tspolicy", "1.2.3.4.5")))
    assert "Status: Rejected." in other
    assert "Failure info: the requested TSA policy is not supported by the TSA" in other
    assert "TST info:\nNot included." in other  # a rejection carries no token


def _request(algorithm: str, imprint: bytes) -> bytes:
    return tsp.TimeStampReq({
        "version": 1,
        "message_imprint": {"hash_algorithm": {"algorithm": algorithm},
                            "hashed_message": imprint},
        "cert_req": True,
    }).dump()


@pytest.mark.parametrize(("algorithm", "length"), [("sha256", 20), ("sha256", 33),
                                                   ("sha512", 32), ("sha384", 0)])
def test_imprint_that_does_not_fit_its_algorithm_is_refused(tsa: Tsa, algorithm: str,
                                                            length: int) -> None:
    text = tsa.text(tsa.reply(_request(algorithm, b"\x01" * length)))
    assert "Status: Rejected." in text
    assert "Failure info: the data submitted has the wrong format" in text


def test_unknown_algorithm_and_garbage(tsa: Tsa) -> None:
    text = tsa.text(tsa.reply(_request("md5", hashlib.md5(b"x").digest())))
    assert "Status: Rejected." in text and "unrecognized or unsupported algorithm" in text
    garbage = tsa.text(tsa.reply(b"\x30\x03junk"))
    assert "Status: Rejected." in garbage
    assert "Failure info: the data submitted has the wrong format" in garbage


# -- OCSP ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def root_pem(tsa: Tsa) -> Path:
    return tsa.roots


def test_openssl_ocsp_post(tsa: Tsa, tsa_cert: Path, root_pem: Path, live_server) -> None:
    out = _openssl("ocsp", "-issuer", root_pem, "-cert", tsa_cert, "-CAfile", root_pem,
                   "-url", f"{live_server.base_url}/pki/ocsp", "-resp_text")
    assert f"{tsa_cert}: good" in out
    assert "Response verify OK" in out


def test_ocsp_get_with_percent_encoded_path(tsa: Tsa, tsa_cert: Path, root_pem: Path,
                                            live_server) -> None:
    request = tsa.work / "ocsp.req"
    _openssl("ocsp", "-issuer", root_pem, "-cert", tsa_cert, "-no_nonce", "-reqout", request)
    encoded = base64.b64encode(request.read_bytes()).decode()
    # a request that base64-encodes with '+' or '/' shows the encoding matters; force one
    # case of each by testing the encoded and the plain form of the same request
    url_path = urllib.parse.quote(encoded, safe="")
    for path in (url_path, url_path.replace("%3D", "")):  # padding may be left off
        resp = httpx.get(f"{live_server.base_url}/pki/ocsp/{path}")
        assert resp.status_code == 200
        assert resp.headers["content-type"] == "application/ocsp-response"
        answer = tsa.work / "ocsp.resp"
        answer.write_bytes(resp.content)
        out = _openssl("ocsp", "-respin", answer, "-issuer", root_pem, "-cert", tsa_cert,
                       "-CAfile", root_pem)
        assert f"{tsa_cert}: good" in out and "Response verify OK" in out


def test_ocsp_get_with_slashes_and_plus_signs(live_server, tsa: Tsa, tsa_cert: Path,
                                              root_pem: Path) -> None:
    """Percent-encoded '/', '+' and '=' must decode exactly (not as path separators or
    spaces): an OCSP request with a nonce chosen so its base64 has all three."""
    from asn1crypto import ocsp as asn1_ocsp

    base = tsa.work / "ocsp-n.req"
    _openssl("ocsp", "-issuer", root_pem, "-cert", tsa_cert, "-no_nonce", "-reqout", base)
    parsed = asn1_ocsp.OCSPRequest.load(base.read_bytes())
    for n in range(4096):
        nonce = bytes([0xFB, 0xEF, 0xFF]) + n.to_bytes(2, "big") + b"\xfb\xff"
        tbs = parsed["tbs_request"].copy()
        tbs["request_extensions"] = [{"extn_id": "nonce", "extn_value": nonce}]
        der = asn1_ocsp.OCSPRequest({"tbs_request": tbs}).dump()
        encoded = base64.b64encode(der).decode()
        if all(c in encoded for c in "+/="):
            break
    path = urllib.parse.quote(encoded, safe="")
    assert "%2B" in path and "%2F" in path and "%3D" in path
    resp = httpx.get(f"{live_server.base_url}/pki/ocsp/{path}")
    assert resp.headers["content-type"] == "application/ocsp-response"
    answer, sent = tsa.work / "ocsp-n.resp", tsa.work / "ocsp-n-sent.req"
    answer.write_bytes(resp.content)
    sent.write_bytes(der)
    # -reqin alone: openssl checks the response's nonce against the request sent
    out = _openssl("ocsp", "-respin", answer, "-reqin", sent, "-CAfile", root_pem, "-resp_text")
    assert "Response verify OK" in out and "Nonce Verify error" not in out
    assert nonce.hex().upper() in out.replace(":", "").replace("\n", "").replace(" ", "").upper()
    status = _openssl("ocsp", "-respin", answer, "-issuer", root_pem, "-cert", tsa_cert,
                      "-no_nonce", "-CAfile", root_pem)
    assert f"{tsa_cert}: good" in status


@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "/pki/ocsp/not%20base64!", None),
    ("GET", "/pki/ocsp/" + base64.b64encode(b"\x30\x03abc").decode(), None),
    ("POST", "/pki/ocsp", b"\x30\x03junk"),
    ("POST", "/pki/ocsp", b""),
])
def test_malformed_ocsp_requests_get_an_ocsp_answer(live_server, tsa: Tsa, method: str,
                                                    path: str, body: bytes | None) -> None:
    resp = httpx.request(method, f"{live_server.base_url}{path}", content=body)
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/ocsp-response"
    answer = tsa.work / "bad.resp"
    answer.write_bytes(resp.content)
    out = _openssl("ocsp", "-respin", answer, "-resp_text", "-noverify", check=False)
    assert "malformedrequest (1)" in out.lower()


def test_crls_verify_with_openssl(live_server, tsa: Tsa) -> None:
    for ca in ("root", "issuing"):
        crl = tsa.work / f"{ca}.crl"
        crl.write_bytes(httpx.get(f"{live_server.base_url}/pki/crl/{ca}.crl").content)
        cert = tsa.work / f"{ca}.cer"
        cert.write_bytes(httpx.get(f"{live_server.base_url}/pki/ca/{ca}.cer").content)
        chain = tsa.work / f"{ca}-chain.pem"
        chain.write_text(tsa.roots.read_text()
                         + _openssl("x509", "-inform", "DER", "-in", cert))
        out = _openssl("crl", "-inform", "DER", "-in", crl, "-CAfile", chain, "-noout")
        assert "verify OK" in out
    resp = httpx.get(f"{live_server.base_url}/pki/crl/nope.crl")
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "not_found"
