"""The SM2 signing suite (国密): an SM2 PKI and a whole signed, filed contract.

Every SM2 signature of the filed PDF is verified by the openssl command line
and by the pure-Python gmssl (:mod:`tests.gm_independent`), never by our own
SM2 code alone; our own validation (:mod:`signing.validation`) must agree and
say who checked what.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

import pytest
from asn1crypto import ocsp, pem, tsp, x509
from pyhanko.pdf_utils.reader import PdfFileReader

from signing.document import CERTIFICATION_FIELD_NAME, SEAL_FIELD_NAME
from signing.electronic_seal import embedded_seals
from signing.gm.ses import parse_signature
from signing.keys import FileKeyStore
from signing.pades import SignerRequest, prepare_for_signing, sign_party
from signing.pki import Pki
from signing.pki.ocsp import cert_id_for
from signing.validation import validate_document
from tests.gm_independent import (
    OID_SM2_CURVE,
    OID_SM2_SM3,
    Peers,
    Sm2DocumentCheck,
    ses_fields,
    tampering_detected,
)
from tests.signing.conftest import PARTIES, PASSPHRASE, Contract, Filed, handwriting

pytestmark = pytest.mark.filterwarnings("ignore")


def _assert_gm_t_0015(cert: x509.Certificate) -> None:
    algorithm = cert["signature_algorithm"]
    assert algorithm["algorithm"].dotted == OID_SM2_SM3
    assert algorithm.dump() == bytes.fromhex("300a06082a811ccf55018375")  # no parameters
    assert cert["tbs_certificate"]["signature"].dump() == algorithm.dump()
    spki = cert.public_key["algorithm"]
    assert spki["algorithm"].dotted == "1.2.840.10045.2.1"  # id-ecPublicKey
    assert spki["parameters"].chosen.dotted == OID_SM2_CURVE


def test_every_certificate_is_sm2_with_sm3(sm2_pki: Pki) -> None:
    issued = sm2_pki.issue_signer("王建国", "421202197503123518")
    certs = [*sm2_pki.long_lived_certs(), *sm2_pki.responder_certs(), issued.certificate]
    assert len(certs) == 8  # root, issuing, seal, platform, TSA, 2 OCSP responders, a party
    for cert in certs:
        _assert_gm_t_0015(cert)
    for ca in ("root", "issuing"):
        item = sm2_pki.crl(ca)
        assert item["signature_algorithm"]["algorithm"].dotted == OID_SM2_SM3
    response = ocsp.OCSPResponse.load(sm2_pki.ocsp_for(sm2_pki.seal_cert).dump())
    assert response.basic_ocsp_response["signature_algorithm"]["algorithm"].dotted == OID_SM2_SM3


def test_ocsp_answers_sm3_cert_ids(sm2_pki: Pki, tmp_path: Path) -> None:
    request = ocsp.OCSPRequest({"tbs_request": {"request_list": [{
        "req_cert": cert_id_for(sm2_pki.issuing_cert, sm2_pki.seal_cert.serial_number, "sm3")}]}})
    response = ocsp.OCSPResponse.load(sm2_pki.ocsp_response(request.dump()))
    basic = response.basic_ocsp_response
    single = basic["tbs_response_data"]["responses"][0]
    assert single["cert_status"].name == "good"
    assert single["cert_id"]["hash_algorithm"]["algorithm"].native == "sm3"
    Peers(tmp_path).verify(basic["certs"][0].public_key, basic["tbs_response_data"].dump(),
                           basic["signature"].native, "OCSP response to an SM3 CertID")


def test_sm2_keys_are_encrypted_key_files_of_their_own(sm2_pki: Pki, tmp_path: Path) -> None:
    assert sm2_pki.data_dir.name == "sm2"
    files = sorted(p.name for p in (sm2_pki.data_dir / "keys").iterdir())
    assert files == sorted(f"{n}.key.pem" for n in
                           ("root", "issuing", "seal", "platform", "tsa", "ocsp-root",
                            "ocsp-issuing"))
    for path in (sm2_pki.data_dir / "keys").iterdir():
        kind, _, _ = pem.unarmor(path.read_bytes())
        assert kind == "ENCRYPTED PRIVATE KEY"
        assert path.stat().st_mode & 0o077 == 0
    store = FileKeyStore(sm2_pki.data_dir / "keys", PASSPHRASE, 1)
    assert store.load("seal").public_key_info.dump() == sm2_pki.seal_cert.public_key.dump()
    with pytest.raises(ValueError):
        FileKeyStore(sm2_pki.data_dir / "keys", b"wrong passphrase", 1).load("seal")
    # ECDSA key files where SM2 is asked for (a suite switched on old key files) are refused
    ecdsa = Pki.load_or_create(tmp_path, PASSPHRASE, "http://127.0.0.1:9")
    from signing.keys import SM2_KEY
    with pytest.raises(ValueError, match="configuration asks for sm2"):
        FileKeyStore(ecdsa.data_dir / "keys", PASSPHRASE).load_or_create("seal", SM2_KEY)


def test_one_data_dir_holds_both_suites_apart(tmp_path: Path) -> None:
    ecdsa = Pki.load_or_create(tmp_path, PASSPHRASE, "http://127.0.0.1:9")
    sm2 = Pki.load_or_create(tmp_path, PASSPHRASE, "http://127.0.0.1:9", suite="sm2")
    assert ecdsa.root_cert["signature_algorithm"]["algorithm"].native == "sha256_ecdsa"
    assert ecdsa.root_cert.public_key.curve[1] == "secp384r1"
    _assert_gm_t_0015(sm2.root_cert)
    again = Pki.load_or_create(tmp_path, PASSPHRASE, "http://127.0.0.1:9")
    assert again.root_cert.dump() == ecdsa.root_cert.dump()
    assert Pki.load_or_create(tmp_path, PASSPHRASE, "http://127.0.0.1:9",
                              suite="sm2").root_cert.dump() == sm2.root_cert.dump()
    # a serial one suite issued is not one the other would vouch for
    assert sm2.issuer_of(ecdsa.seal_cert.serial_number) is None


def test_in_process_tsa_answers_sm3_requests_with_sm2_tokens(sm2_pki: Pki) -> None:
    from signing.pki.digests import digest

    request = tsp.TimeStampReq({
        "version": "v1",
        "message_imprint": {"hash_algorithm": {"algorithm": "sm3"},
                            "hashed_message": digest("sm3", b"contract")},
        "nonce": 12345, "cert_req": True,
    })
    response = tsp.TimeStampResp.load(sm2_pki.tsa_response(request.dump()))
    assert response["status"]["status"].native == "granted"
    signed_data = response["time_stamp_token"]["content"]
    info = signed_data["signer_infos"][0]
    assert info["signature_algorithm"]["algorithm"].dotted == OID_SM2_SM3
    assert info["digest_algorithm"]["algorithm"].native == "sm3"
    assert signed_data["encap_content_info"]["content"].parsed["nonce"].native == 12345


def test_openssl_and_gmssl_verify_every_signature_of_the_filed_pdf(
        filed: Filed, tmp_path: Path) -> None:
    checked = Sm2DocumentCheck(filed.pdf, [filed.pki.root_cert], tmp_path).run()
    for name in (*filed.parties, CERTIFICATION_FIELD_NAME, SEAL_FIELD_NAME):
        assert name in checked
        assert f"{name} (signature timestamp)" in checked
    assert "archive-timestamp-1 (document timestamp)" in checked
    assert "OCSP response" in checked and "CRL" in checked
    certificates = {c for c in checked if c.startswith("certificate ")}
    # root, issuing CA, platform, seal, TSA, responders, three parties
    assert len(certificates) >= 9, certificates


def test_tampering_is_detected_by_both_and_by_our_validation(
        filed: Filed, tmp_path: Path) -> None:
    assert tampering_detected(filed.pdf, tmp_path) == 5  # certification, 3 parties, seal
    [(_, seal)] = ses_fields(PdfFileReader(BytesIO(filed.pdf)))  # pyHanko skips it
    ranges = [int(x) for x in seal["/ByteRange"]]
    # a byte every signature covers that no reader parses: the header's binary comment.
    # (A byte picked by offset, as before, sometimes fell in an object or xref stream,
    # and the report then rightly said FORMAT_FAILURE: unparseable, not a changed hash.)
    at = filed.pdf.index(b"\n%", 1) + 2
    assert filed.pdf[at] >= 0x80 and at < ranges[1]
    tampered = bytearray(filed.pdf)
    tampered[at] ^= 0x01
    report = validate_document(bytes(tampered), filed.pki.validation_roots())
    assert not report.valid
    assert all(not s.intact and s.indication == "FAILED/HASH_FAILURE"
               for s in report.signatures if s.kind != "document_timestamp"), [
        (s.field_name, s.intact, s.indication) for s in report.signatures]


def test_our_validation_checks_sm2_and_says_who_did(filed: Filed) -> None:
    report = validate_document(filed.pdf, filed.pki.validation_roots())
    assert report.valid and report.certified and report.filed, report
    assert len(report.signatures) == 6
    for sig in report.signatures:
        assert sig.ok and sig.indication == "PASSED/OK", sig
        assert sig.algorithm == "SM2/SM3"
        assert "OpenSSL 3" in sig.checked_by and "pyHanko, which does not support SM2" in (
            sig.checked_by)
        assert sig.timestamp_time is not None
    # the seal is a GB/T 38540 SES_Signature, checked by signing.gm.ses as well
    seal = next(s for s in report.signatures if s.kind == "seal")
    assert "GB/T 38540" in seal.checked_by
    assert report.checked_by == [report.signatures[0].checked_by, seal.checked_by]
    # long-term: two days on the party certificates (30 minutes) have long expired; each
    # signature stands on the time its own timestamp proves, and on the archive timestamp
    later = validate_document(filed.pdf, filed.pki.validation_roots(),
                              at=datetime.now(UTC) + timedelta(days=2))
    assert later.valid, [s for s in later.signatures if not s.ok]


def test_another_root_is_not_trusted(filed: Filed, tmp_path: Path) -> None:
    stranger = Pki.load_or_create(tmp_path, PASSPHRASE, "http://127.0.0.1:9", suite="sm2")
    report = validate_document(filed.pdf, stranger.validation_roots())
    assert not report.valid
    assert all(not s.trusted and s.indication == "INDETERMINATE/NO_CERTIFICATE_CHAIN_FOUND"
               for s in report.signatures)


def test_pyhanko_alone_cannot_validate_sm2(filed: Filed) -> None:
    """Why signing.gm.verify exists: pyHanko's own validation fails on SM2."""
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    reader = PdfFileReader(BytesIO(filed.pdf))
    sig = next(s for s in reader.embedded_signatures if s.field_name == filed.parties[0])
    context = ValidationContext(trust_roots=[filed.pki.root_cert], allow_fetching=False)
    try:
        status = validate_pdf_signature(sig, context)
    except Exception:  # noqa: BLE001 - any failure proves the point
        return
    assert not (status.valid and status.trusted), status


def test_a_revoked_seal_certificate_is_reported(filed: Filed, tmp_path: Path) -> None:
    """A seal certificate revoked before the seal was applied: the document's own OCSP
    response (taken at filing) says good, a later one says revoked with a time before."""
    pki = filed.pki
    [seal] = embedded_seals(PdfFileReader(BytesIO(filed.pdf)), filed.pdf)
    sealed_at = parse_signature(seal.contents).signed_at
    # last in this module: the revocation stays in the module's PKI
    pki.revoke(pki.seal_cert.serial_number, "key_compromise",
               at=sealed_at - timedelta(minutes=5))
    request = ocsp.OCSPRequest({"tbs_request": {"request_list": [{
        "req_cert": cert_id_for(pki.issuing_cert, pki.seal_cert.serial_number)}]}})
    fresh = pki.ocsp_response(request.dump())
    report = validate_document(filed.pdf, pki.validation_roots(), revocation_data=[fresh])
    sealed = next(s for s in report.signatures if s.kind == "seal")
    assert sealed.revocation == "revoked" and sealed.indication == "FAILED/REVOKED"
    assert not report.valid
    assert all(s.ok for s in report.signatures if s.kind != "seal")
    # a party certificate revoked only after it signed: the signature stands (past validation)
    party = next(s for s in PdfFileReader(BytesIO(filed.pdf)).embedded_signatures
                 if s.field_name == filed.parties[0])
    pki.revoke(party.signer_cert.serial_number, "key_compromise", at=datetime.now(UTC))
    request = ocsp.OCSPRequest({"tbs_request": {"request_list": [{
        "req_cert": cert_id_for(pki.issuing_cert, party.signer_cert.serial_number)}]}})
    later = ocsp.OCSPResponse.load(pki.ocsp_response(request.dump()))
    assert later.basic_ocsp_response["tbs_response_data"]["responses"][0][
        "cert_status"].name == "revoked"
    report = validate_document(filed.pdf, pki.validation_roots(),
                               revocation_data=[fresh, later.dump()])
    signed = next(s for s in report.signatures if s.field_name == filed.parties[0])
    assert signed.ok and signed.revocation == "good", signed


def test_an_external_sm2_tsa_is_checked_and_used(contract: Contract, tmp_path: Path) -> None:
    """Production needs an external TSA; an SM2 one (a national time service's) has its
    tokens checked by signing.gm.verify, since pyHanko cannot. Here the "external" TSA is
    another SM2 PKI's, over HTTP."""
    import threading

    from signing.timestamps import TimestampUnavailable
    from tests.signing.conftest import _PkiServer

    tsa_pki = Pki.load_or_create(tmp_path / "tsa", PASSPHRASE, "http://127.0.0.1:9",
                                 suite="sm2")
    server = _PkiServer()
    server.pki = tsa_pki
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        def platform(anchor: x509.Certificate, where: str) -> Pki:
            return Pki.load_or_create(tmp_path / where, PASSPHRASE, "http://127.0.0.1:9",
                                      suite="sm2", tsa_url=f"{server.base_url}/pki/tsa",
                                      tsa_trust_anchors=(anchor.dump(),))

        pki = platform(tsa_pki.tsa_cert, "platform")  # the TSA's certificate, trusted directly
        pdf = prepare_for_signing(contract.pdf, contract.slots, pki=pki)
        name, id_number = PARTIES[0]
        pdf = sign_party(pdf, contract.party_fields[0],
                         SignerRequest(name, id_number, handwriting(1), datetime.now(UTC)),
                         pki=pki)
        report = validate_document(pdf, pki.validation_roots(), revocation_data=[
            pki.ocsp_for(c).dump() for c in (pki.issuing_cert, pki.platform_cert)])
        assert [s.indication for s in report.signatures] == ["PASSED/OK", "PASSED/OK"], report
        assert ("OCSP response" in
                Sm2DocumentCheck(pdf, [pki.root_cert, tsa_pki.tsa_cert], tmp_path).run())
        # a TSA that chains to no anchor of ours is refused before anything is signed
        stranger = Pki.load_or_create(tmp_path / "stranger", PASSPHRASE, "http://127.0.0.1:9",
                                      suite="sm2")
        refusing = platform(stranger.root_cert, "refusing")
        with pytest.raises(TimestampUnavailable, match="not signed by the trusted TSA"):
            prepare_for_signing(contract.pdf, contract.slots, pki=refusing)
    finally:
        server.shutdown()
        server.server_close()


def test_gm_names_registered_after_asn1crypto_was_used() -> None:
    """A process that parsed a signature algorithm before signing.gm was imported (a
    server start with an external TSA did): both old and new names must keep working."""
    import subprocess
    import sys

    code = (
        "from asn1crypto import algos\n"
        "algos.SignedDigestAlgorithm({'algorithm': 'sha256_ecdsa'}).dump()\n"
        "algos.DigestAlgorithm({'algorithm': 'sha256'}).dump()\n"
        "import signing.gm.oids\n"
        "assert algos.SignedDigestAlgorithm({'algorithm': 'sha256_ecdsa'}).dump()\n"
        "assert algos.SignedDigestAlgorithm({'algorithm': 'sm2_sm3'}).dump().hex() == "
        "'300a06082a811ccf55018375'\n"
        "assert algos.DigestAlgorithm({'algorithm': 'sm3'})['algorithm'].dotted == "
        "'1.2.156.10197.1.401'\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.returncode == 0, out.stderr
