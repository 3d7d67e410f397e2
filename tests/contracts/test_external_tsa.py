"""Our TSA client against a second, real TSA (``openssl ts -reply``), and against a dead
or slow one: signing fails with a clear 503 and writes nothing; never local time."""

from __future__ import annotations

import asyncio
import hashlib
import subprocess
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import httpx
import pytest
from asn1crypto import x509
from pyhanko.pdf_utils.reader import PdfFileReader

from signing.timestamps import ExternalTimeStamper, TimestampUnavailable
from tests import flows
from tests import sale as s
from tests.external_tsa import DEFAULT_POLICY, OTHER_POLICY, ExternalTsa, make_tsa_pki
from tests.live import LiveServer, free_port
from tests.verify.conftest import code_and_token


@pytest.fixture(scope="module")
def external_tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ExternalTsa]:
    tsa = ExternalTsa(tmp_path_factory.mktemp("external-tsa")).start()
    yield tsa
    tsa.stop()


def _anchor(path: Path) -> x509.Certificate:
    from asn1crypto import pem

    return x509.Certificate.load(pem.unarmor(path.read_bytes())[2])


def _client(tsa: ExternalTsa, **kw) -> ExternalTimeStamper:
    kw.setdefault("trust_anchors", [_anchor(tsa.ca_pem)])
    return ExternalTimeStamper(tsa.url, **kw)


def _stamp(client: ExternalTimeStamper, data: bytes = b"contract"):
    return asyncio.run(client.async_timestamp(hashlib.sha256(data).digest(), "sha256"))


def _tst_info(token):
    return token["content"]["encap_content_info"]["content"].parsed


# -- the client ----------------------------------------------------------------------------------


def test_client_gets_a_checked_token_openssl_verifies(external_tsa: ExternalTsa,
                                                      tmp_path: Path) -> None:
    digest = hashlib.sha256(b"contract").digest()
    token = _stamp(_client(external_tsa, policy_oid=DEFAULT_POLICY))
    assert _tst_info(token)["policy"].dotted == DEFAULT_POLICY
    path = tmp_path / "token.der"
    path.write_bytes(token.dump())
    out = subprocess.run(["openssl", "ts", "-verify", "-token_in", "-in", str(path), "-digest",
                          digest.hex(), "-CAfile", str(external_tsa.ca_pem)],
                         capture_output=True, text=True)
    assert "Verification: OK" in out.stdout, out.stdout + out.stderr


def test_client_asks_for_the_configured_policy(external_tsa: ExternalTsa) -> None:
    token = _stamp(_client(external_tsa, policy_oid=OTHER_POLICY))
    assert _tst_info(token)["policy"].dotted == OTHER_POLICY


def test_a_policy_the_tsa_refuses_is_no_timestamp(external_tsa: ExternalTsa) -> None:
    with pytest.raises(TimestampUnavailable, match="refused"):
        _stamp(_client(external_tsa, policy_oid="1.2.3.4.99"))


def test_a_token_from_an_untrusted_tsa_is_refused(external_tsa: ExternalTsa,
                                                  tmp_path: Path) -> None:
    make_tsa_pki(tmp_path / "other")
    stranger = _anchor(tmp_path / "other" / "ca.pem")
    with pytest.raises(TimestampUnavailable, match="not signed by the trusted TSA"):
        _stamp(_client(external_tsa, trust_anchors=[stranger]))


def test_a_tsa_that_is_down_is_no_timestamp() -> None:
    client = ExternalTimeStamper(f"http://127.0.0.1:{free_port()}/tsa", trust_anchors=[],
                                 timeout=2)
    with pytest.raises(TimestampUnavailable, match="timestamp service"):
        _stamp(client)


def test_a_slow_tsa_is_no_timestamp(external_tsa: ExternalTsa) -> None:
    external_tsa.delay_s = 3
    try:
        with pytest.raises(TimestampUnavailable, match="TimeoutError"):
            _stamp(_client(external_tsa, timeout=1))
    finally:
        external_tsa.delay_s = 0


# -- the service with an external TSA ------------------------------------------------------------


@pytest.fixture(scope="module")
def tsa_server(backend, external_tsa: ExternalTsa,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = backend.new_database_env(tmp_path_factory.mktemp("tsa-data"))
    # the TSA's own certificate trusted directly, as trusted lists do, and its CA
    anchors = external_tsa.work / "trust.pem"
    anchors.write_bytes(external_tsa.tsa_pem.read_bytes() + external_tsa.ca_pem.read_bytes())
    env.update(TSA_URL=external_tsa.url, TSA_CA_FILE=str(anchors),
               TSA_POLICY_OID=DEFAULT_POLICY, TSA_TIMEOUT_S="2")
    with LiveServer(env).serving() as server:
        yield server


@pytest.fixture()
def tsa_api(tsa_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=tsa_server.base_url, timeout=60) as client:
        yield client


def _timestamp_signers(pdf: bytes) -> list[str]:
    """The signer common name of every timestamp in the PDF (signature and document)."""
    reader = PdfFileReader(BytesIO(pdf), strict=False)
    names = []
    for sig in reader.embedded_signatures:
        tokens = []
        if sig.sig_object.get("/Type") == "/DocTimeStamp":
            tokens.append(sig.signed_data)
        else:
            for attr in sig.signer_info["unsigned_attrs"] or ():
                if attr["type"].native == "signature_time_stamp_token":
                    tokens += [t["content"] for t in attr["values"]]
        for signed_data in tokens:
            sid = signed_data["signer_infos"][0]["sid"].chosen
            cert = next(c.chosen for c in signed_data["certificates"]
                        if c.chosen.serial_number == sid["serial_number"].native)
            names.append(cert.subject.native["common_name"])
    return names


def test_a_sale_is_timestamped_by_the_external_tsa(tsa_server, tsa_api, external_tsa) -> None:
    before = external_tsa.requests
    sale = s.filed_sale(tsa_server, tsa_api)
    view = s.expect(tsa_api.get(f"/api/v1/contracts/{sale.contract_id}",
                                headers=sale.sellers[0].headers), 200)
    assert view["status"] == "filed" and view["filing_state"] == "done"
    pdf = tsa_api.get(f"/api/v1/contracts/{sale.contract_id}/document.pdf",
                      headers=sale.sellers[0].headers).content
    signers = _timestamp_signers(pdf)
    # certification, two parties, the seal, the archive timestamp
    assert len(signers) == 5
    assert set(signers) == {"Test Time-Stamping Authority"}
    assert external_tsa.requests - before >= 5
    # the public upload check trusts the external TSA through its configured anchor
    code, token = code_and_token(view["verification_url"])
    check = s.expect(tsa_api.post(f"/api/v1/verify/{code}/document?t={token}", content=pdf,
                                  headers={"Content-Type": "application/pdf"}), 200)
    assert check["identical"] is True
    assert check["signatures_valid"] is True, check
    # the in-process TSA is not offered when an external one is configured
    resp = tsa_api.post("/pki/tsa", content=b"\x30\x00")
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "external_tsa"


def _assert_timestamp_unavailable(resp: httpx.Response) -> None:
    assert resp.status_code == 503, resp.text
    body = resp.json()
    assert body["error"]["code"] == "timestamp_unavailable"
    assert body["error"]["message"] and "request_id" in body
    assert resp.headers["retry-after"] == "30"


@pytest.mark.parametrize("failure", ["down", "slow"])
def test_signing_without_the_tsa_fails_clearly_and_can_be_retried(
        tsa_server, tsa_api, external_tsa, failure) -> None:
    sale = s.sale_in_signing(tsa_server, tsa_api)
    seller = sale.sellers[0]
    before = s.expect(tsa_api.get(f"/api/v1/contracts/{sale.contract_id}",
                                  headers=seller.headers), 200)
    events = s.expect(tsa_api.get(f"/api/v1/contracts/{sale.contract_id}/timeline",
                                  headers=seller.headers), 200)["events"]
    fv = flows.passed_verification(tsa_api, seller.token, "sign", sale.contract_id)
    body = {"face_verification_id": fv, "signature_image": s.signature_png()}
    if failure == "down":
        external_tsa.stop()
    else:
        external_tsa.delay_s = 4  # TSA_TIMEOUT_S=2
    try:
        resp = tsa_api.post(f"/api/v1/contracts/{sale.contract_id}/signatures", json=body,
                            headers=seller.headers)
    finally:
        if failure == "down":
            external_tsa.start()
        external_tsa.delay_s = 0
    _assert_timestamp_unavailable(resp)
    # nothing half-written: the same document, no signature, no event, the face
    # verification still unused
    after = s.expect(tsa_api.get(f"/api/v1/contracts/{sale.contract_id}",
                                 headers=seller.headers), 200)
    assert after["document_sha256"] == before["document_sha256"]
    assert not any(p["signed"] for p in after["parties"])
    assert s.expect(tsa_api.get(f"/api/v1/contracts/{sale.contract_id}/timeline",
                                headers=seller.headers), 200)["events"] == events
    # the TSA is back: the same request now succeeds
    s.expect(tsa_api.post(f"/api/v1/contracts/{sale.contract_id}/signatures", json=body,
                          headers=seller.headers), 201)


def test_freezing_without_the_tsa_fails_clearly_and_can_be_retried(
        tsa_server, tsa_api, external_tsa) -> None:
    client = s.registry_client(tsa_server, tsa_api)
    earlier = s.sale_in_signing(tsa_server, tsa_api, client=client)
    earlier_no = s.expect(tsa_api.get(f"/api/v1/contracts/{earlier.contract_id}",
                                      headers=earlier.sellers[0].headers), 200)["contract_no"]
    seller, buyer = s.person(tsa_api), s.person(tsa_api)
    _, cert = s.register_house(tsa_api, client, [seller])
    draft = s.create_draft(tsa_api, seller, "seller", cert, [seller], [buyer])
    view = s.invite_and_accept(tsa_api, draft, seller, buyer)
    s.expect(tsa_api.post(f"/api/v1/contracts/{draft['id']}/confirm",
                          json={"version": view["version"]}, headers=seller.headers), 200)
    external_tsa.stop()
    try:
        resp = tsa_api.post(f"/api/v1/contracts/{draft['id']}/confirm",
                            json={"version": view["version"]}, headers=buyer.headers)
    finally:
        external_tsa.start()
    _assert_timestamp_unavailable(resp)
    after = s.expect(tsa_api.get(f"/api/v1/contracts/{draft['id']}", headers=buyer.headers), 200)
    assert after["status"] == "draft" and after["contract_no"] is None
    done = s.expect(tsa_api.post(f"/api/v1/contracts/{draft['id']}/confirm",
                                 json={"version": view["version"]}, headers=buyer.headers), 200)
    assert done["status"] == "signing"
    # The number drawn for the failed attempt was kept for the retry: none skipped.
    same_day = done["contract_no"][:-5] == earlier_no[:-5]  # numbers restart each day
    expected = int(earlier_no[-5:]) + 1 if same_day else 1
    assert int(done["contract_no"][-5:]) == expected, (earlier_no, done["contract_no"])


def test_a_seal_the_tsa_could_not_timestamp_is_finished_later(
        tsa_server, tsa_api, external_tsa) -> None:
    """The last signature is timestamped, then the TSA fails: the contract is filed (the
    number is drawn and announced), the seal waits and is applied by the background task
    once the TSA answers again, never with a local time."""
    import time

    sale = s.sale_in_signing(tsa_server, tsa_api)
    seller, buyer = sale.sellers[0], sale.buyers[0]
    s.expect(s.sign(tsa_api, sale.contract_id, seller), 201)
    fv = flows.passed_verification(tsa_api, buyer.token, "sign", sale.contract_id)
    external_tsa.budget = 3  # the buyer's signature timestamps (three documents), then nothing
    try:
        view = s.expect(tsa_api.post(
            f"/api/v1/contracts/{sale.contract_id}/signatures",
            json={"face_verification_id": fv, "signature_image": s.signature_png()},
            headers=buyer.headers), 201)
    finally:
        external_tsa.budget = None
    assert view["status"] == "filed" and view["filing_state"] == "sealing"
    resp = tsa_api.get(f"/registry/v1/contracts/{view['filing_no']}/document.pdf",
                       headers=sale.client.headers)
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "document_sealing"
    deadline = time.monotonic() + 90  # the background task retries every 30 s
    while view["filing_state"] != "done" and time.monotonic() < deadline:
        time.sleep(1)
        view = s.expect(tsa_api.get(f"/api/v1/contracts/{sale.contract_id}",
                                    headers=buyer.headers), 200)
    assert view["filing_state"] == "done"
    pdf = tsa_api.get(f"/registry/v1/contracts/{view['filing_no']}/document.pdf",
                      headers=sale.client.headers).content
    assert set(_timestamp_signers(pdf)) == {"Test Time-Stamping Authority"}
    assert len(_timestamp_signers(pdf)) == 5


def test_a_failure_on_one_document_signs_none_and_keeps_the_verification(
        tsa_server, tsa_api, external_tsa) -> None:
    """Three documents to sign with one face verification; the contract's signature gets
    its timestamp, the funds-custody agreement's does not: no document of the step is
    signed, nothing is stored or recorded, and the verification is not consumed, so the
    same request succeeds once the TSA answers again."""
    from tests.db import with_db

    sale = s.sale_in_signing(tsa_server, tsa_api)
    seller = sale.sellers[0]
    url = f"/api/v1/contracts/{sale.contract_id}"
    before = s.expect(tsa_api.get(url, headers=seller.headers), 200)
    assert [d["kind"] for d in before["documents"]] == [
        "contract", "funds_custody_agreement", "transaction_notice"]
    events = s.expect(tsa_api.get(f"{url}/timeline", headers=seller.headers), 200)["events"]

    async def stages() -> list[tuple[str, str]]:
        from server.models import StoredDocument

        return sorted(await StoredDocument.filter(contract_id=sale.contract_id)
                      .values_list("kind", "stage"))

    stored = with_db(tsa_server.env, stages)
    fv = flows.passed_verification(tsa_api, seller.token, "sign", sale.contract_id)
    body = {"face_verification_id": fv, "signature_image": s.signature_png()}
    asked = external_tsa.requests
    external_tsa.budget = 1  # the first document's signature timestamp, then 503
    try:
        resp = tsa_api.post(f"{url}/signatures", json=body, headers=seller.headers)
    finally:
        external_tsa.budget = None
    _assert_timestamp_unavailable(resp)
    assert external_tsa.requests - asked == 2  # it failed on the second document
    after = s.expect(tsa_api.get(url, headers=seller.headers), 200)
    assert after["documents"] == before["documents"]
    assert after["document_sha256"] == before["document_sha256"]
    assert not any(p["signed"] for p in after["parties"])
    assert s.expect(tsa_api.get(f"{url}/timeline", headers=seller.headers),
                    200)["events"] == events
    assert with_db(tsa_server.env, stages) == stored  # no signed version of any document
    face = s.expect(tsa_api.get(f"/api/v1/face-verifications/{fv}", headers=seller.headers),
                    200)
    assert face["consumed"] is False
    # the TSA answers again: the same verification signs all three
    done = s.expect(tsa_api.post(f"{url}/signatures", json=body, headers=seller.headers), 201)
    assert all(a["sha256"] != b["sha256"]
               for a, b in zip(done["documents"], before["documents"], strict=True))
    signed = with_db(tsa_server.env, stages)
    me = next(p["party_id"] for p in done["parties"] if p["is_me"])
    assert sorted(k for k, st in signed if st == f"signed:{me}") == [
        "contract", "funds_custody_agreement", "transaction_notice"]
