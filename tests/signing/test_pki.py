"""The platform PKI: hierarchy, party certificates, CRLs, OCSP, TSA, key storage."""

from __future__ import annotations

import hashlib
import shutil
import unicodedata
import urllib.parse
from base64 import b64encode
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import core, tsp
from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp as cocsp
from pyhanko.sign.general import as_signing_certificate_v2

from signing.keys import KeySpec, SoftKey, generate_private_key
from signing.pki import Pki, id_hash, mask_id_number
from signing.pki.certs import CertificateTemplate, SerialTagger, issue_certificate
from signing.pki.cms import signing_certificate_v2
from signing.pki.config import load_config
from signing.pki.ocsp import decode_get_request
from tests.signing.conftest import PASSPHRASE

ID_NUMBER = "42010219900101123X"


def crypto(cert) -> cx509.Certificate:
    return cx509.load_der_x509_certificate(cert.dump())


# -- hierarchy ----------------------------------------------------------------------------------


def test_hierarchy_and_pointers(pki: Pki) -> None:
    root, issuing = crypto(pki.root_cert), crypto(pki.issuing_cert)
    root.verify_directly_issued_by(root)
    issuing.verify_directly_issued_by(root)
    for cert in (pki.platform_cert, pki.tsa_cert):
        crypto(cert).verify_directly_issued_by(root)
    # the seal is an end entity under the intermediate CA, not under the root
    crypto(pki.seal_cert).verify_directly_issued_by(issuing)
    assert pki.root_cert.ca and pki.issuing_cert.ca
    assert pki.issuing_cert.max_path_length == 0
    assert not pki.seal_cert.ca
    base = pki.public_base_url
    assert pki.issuing_cert.crl_distribution_points[0]["distribution_point"].native == [
        f"{base}/pki/crl/root.crl"
    ]
    aia = {d["access_method"].native: d["access_location"].native
           for d in pki.seal_cert.authority_information_access_value}  # fmt: skip
    assert aia == {"ocsp": f"{base}/pki/ocsp", "ca_issuers": f"{base}/pki/ca/issuing.cer"}
    assert pki.tsa_cert.extended_key_usage_value.native == ["time_stamping"]
    assert pki.tsa_cert.critical_extensions >= {"extended_key_usage"}


def test_published_certificates(pki: Pki) -> None:
    assert pki.roots_pem().count(b"BEGIN CERTIFICATE") == 1
    assert cx509.load_pem_x509_certificate(pki.roots_pem()) == crypto(pki.root_cert)
    assert pki.ca_cert_der("issuing") == pki.issuing_cert.dump()
    with pytest.raises(KeyError):
        pki.ca_cert_der("seal")


def test_reopening_loads_the_same_pki_with_encrypted_keys(pki: Pki) -> None:
    reopened = Pki.load_or_create(pki.data_dir, PASSPHRASE, pki.public_base_url)
    assert reopened.root_cert.dump() == pki.root_cert.dump()
    assert reopened.key("seal").public_key_info.dump() == pki.key("seal").public_key_info.dump()
    for key_file in (pki.data_dir / "keys").glob("*.key.pem"):
        text = key_file.read_text()
        assert text.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
        assert key_file.stat().st_mode & 0o077 == 0
    with pytest.raises(ValueError):
        Pki.load_or_create(pki.data_dir, b"wrong passphrase", pki.public_base_url)


def test_seal_certificate_names_the_filing_authority(pki: Pki, tmp_path) -> None:
    """The seal certificate's subject says exactly what the visible seal says; a
    renamed authority gets a re-issued certificate for the same key."""
    assert pki.seal_cert.subject.native["organization_name"] == "咸宁市住房和城乡建设局"
    assert pki.seal_cert.subject.native["common_name"] == "网签备案专用章"
    copy = tmp_path / "pki"
    shutil.copytree(pki.data_dir, copy)
    renamed = Pki.load_or_create(copy, PASSPHRASE, pki.public_base_url,
                                 seal_authority="赤壁市住房和城乡建设局")
    assert renamed.seal_cert.subject.native["organization_name"] == "赤壁市住房和城乡建设局"
    assert renamed.seal_cert.public_key.dump() == pki.seal_cert.public_key.dump()
    assert renamed.seal_cert.issuer == pki.issuing_cert.subject
    assert renamed.root_cert.dump() == pki.root_cert.dump()
    again = Pki.load_or_create(copy, PASSPHRASE, pki.public_base_url,
                               seal_authority="赤壁市住房和城乡建设局")
    assert again.seal_cert.dump() == renamed.seal_cert.dump()  # stable once it fits


# -- party certificates -------------------------------------------------------------------------


def test_signer_certificate_never_contains_the_id_number(pki: Pki) -> None:
    issued = pki.issue_signer("张三", ID_NUMBER)
    der = issued.certificate.dump()
    forms = {ID_NUMBER, ID_NUMBER.lower(), ID_NUMBER[:17], unicodedata.normalize("NFKC", ID_NUMBER)}
    for form in forms:
        for encoding in ("ascii", "utf-16-be", "utf-8"):
            assert form.encode(encoding) not in der
    subject = issued.certificate.subject.native
    assert subject["common_name"] == "张三"
    assert subject["organizational_unit_name"] == "4201**********123X"
    assert subject["serial_number"] == pki.id_hash(ID_NUMBER)
    assert len(subject["serial_number"]) == 64


def test_signer_certificate_is_short_lived_and_single_use(pki: Pki) -> None:
    now = datetime.now(UTC)
    first = pki.issue_signer("张三", ID_NUMBER, now=now)
    second = pki.issue_signer("张三", ID_NUMBER, now=now)
    cert = first.certificate
    assert cert.not_valid_after - cert.not_valid_before == timedelta(minutes=31)
    assert cert.public_key.dump() != second.certificate.public_key.dump()
    assert cert.serial_number != second.certificate.serial_number
    assert cert.key_usage_value.native == {"digital_signature", "non_repudiation"}
    assert cert.extended_key_usage_value is None
    crypto(cert).verify_directly_issued_by(crypto(pki.issuing_cert))
    assert first.key.public_key_info.dump() == cert.public_key.dump()


def test_id_hash_is_keyed_and_normalised() -> None:
    key = b"k" * 32
    assert id_hash(ID_NUMBER, key) == id_hash(ID_NUMBER.lower(), key)
    assert id_hash(ID_NUMBER, key) == id_hash(" 42010219900101123x ", key)
    assert id_hash(ID_NUMBER, key) != id_hash(ID_NUMBER, b"j" * 32)
    assert id_hash(ID_NUMBER, key) != hashlib.sha256(ID_NUMBER.encode()).hexdigest().upper()


@pytest.mark.parametrize(
    ("id_number", "masked"),
    [
        ("420102199001011234", "4201**********1234"),
        ("42010219900101123x", "4201**********123X"),
        ("E12345678", "E1*****78"),
        ("１２３４５６７８９０１２３４５６７８", "1234**********5678"),
    ],
)
def test_mask_id_number(id_number: str, masked: str) -> None:
    assert mask_id_number(id_number) == masked


def test_serial_numbers_prove_who_issued_them() -> None:
    tagger = SerialTagger(b"s" * 32)
    not_after = datetime(2030, 1, 1, tzinfo=UTC)
    serial = tagger.new_serial("issuing", not_after)
    assert serial.bit_length() <= 160
    assert tagger.not_after("issuing", serial) == not_after
    assert tagger.not_after("root", serial) is None
    assert tagger.not_after("issuing", serial ^ (1 << 70)) is None
    assert SerialTagger(b"t" * 32).not_after("issuing", serial) is None


# -- CRL ------------------------------------------------------------------------------------------


def test_crl_lists_revoked_certificates(pki: Pki) -> None:
    cert = pki.issue_signer("李四", "420102199001011234").certificate
    before = asn1_crl.CertificateList.load(pki.crl_der("issuing"))
    revoked_before = before["tbs_cert_list"]["revoked_certificates"]
    assert cert.serial_number not in {r["user_certificate"].native for r in revoked_before}
    pki.revoke(cert.serial_number, "key_compromise")
    after = pki.crl_der("issuing")
    parsed = asn1_crl.CertificateList.load(after)
    entries = {
        r["user_certificate"].native: r for r in parsed["tbs_cert_list"]["revoked_certificates"]
    }
    assert entries[cert.serial_number]["crl_entry_extensions"][0]["extn_value"].native == (
        "key_compromise"
    )
    crl = cx509.load_der_x509_crl(after)
    assert crl.is_signature_valid(crypto(pki.issuing_cert).public_key())
    assert crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None
    assert crl.next_update_utc > datetime.now(UTC)


def test_revoke_refuses_serials_we_did_not_issue(pki: Pki) -> None:
    with pytest.raises(ValueError):
        pki.revoke(123456789)


# -- OCSP -----------------------------------------------------------------------------------------


def ocsp_request(cert, issuer, nonce: bytes | None = None) -> bytes:
    builder = cocsp.OCSPRequestBuilder().add_certificate(
        crypto(cert), crypto(issuer), hashes.SHA1()
    )
    if nonce is not None:
        builder = builder.add_extension(cx509.OCSPNonce(nonce), critical=False)
    return builder.build().public_bytes(Encoding.DER)


def verify_ocsp(response: cocsp.OCSPResponse, ca) -> None:
    """Signed by a delegated responder that the CA issued for OCSP signing."""
    (responder,) = response.certificates
    responder.verify_directly_issued_by(crypto(ca))
    assert (
        cx509.ExtendedKeyUsageOID.OCSP_SIGNING
        in responder.extensions.get_extension_for_class(cx509.ExtendedKeyUsage).value
    )
    responder.extensions.get_extension_for_class(cx509.OCSPNoCheck)
    responder.public_key().verify(
        response.signature,
        response.tbs_response_bytes,
        ec.ECDSA(response.signature_hash_algorithm),
    )


def test_ocsp_good_for_a_valid_certificate(pki: Pki) -> None:
    cert = pki.issue_signer("王五", "420102199001011234").certificate
    response = cocsp.load_der_ocsp_response(
        pki.ocsp_response(ocsp_request(cert, pki.issuing_cert, nonce=b"0123456789abcdef"))
    )
    assert response.response_status == cocsp.OCSPResponseStatus.SUCCESSFUL
    assert response.certificate_status == cocsp.OCSPCertStatus.GOOD
    assert response.serial_number == cert.serial_number
    assert response.extensions.get_extension_for_class(cx509.OCSPNonce).value.nonce == (
        b"0123456789abcdef"
    )
    # status is never promised beyond the certificate's own life
    assert response.next_update_utc < cert.not_valid_after
    verify_ocsp(response, pki.issuing_cert)
    # asn1crypto parses it too, and it is canonical DER
    raw = pki.ocsp_response(ocsp_request(cert, pki.issuing_cert))
    parsed = asn1_ocsp.OCSPResponse.load(raw)
    assert parsed.basic_ocsp_response["tbs_response_data"]["responses"][0]["cert_status"].name == (
        "good"
    )
    assert parsed.dump(force=True) == raw


def test_ocsp_revoked_after_revocation(pki: Pki) -> None:
    cert = pki.issue_signer("赵六", "420102199001011234").certificate
    request = ocsp_request(cert, pki.issuing_cert)
    assert cocsp.load_der_ocsp_response(pki.ocsp_response(request)).certificate_status == (
        cocsp.OCSPCertStatus.GOOD
    )
    pki.revoke(cert.serial_number, "key_compromise")
    response = cocsp.load_der_ocsp_response(pki.ocsp_response(request))
    assert response.certificate_status == cocsp.OCSPCertStatus.REVOKED
    assert response.revocation_reason == cx509.ReasonFlags.key_compromise
    verify_ocsp(response, pki.issuing_cert)
    # the response embedded by the signing flow says so as well
    embedded = pki.ocsp_for(cert).basic_ocsp_response["tbs_response_data"]["responses"][0]
    assert embedded["cert_status"].name == "revoked"


def test_ocsp_for_ca_issued_certificates(pki: Pki) -> None:
    for cert, issuer in ((pki.issuing_cert, pki.root_cert), (pki.tsa_cert, pki.root_cert),
                         (pki.seal_cert, pki.issuing_cert)):
        response = cocsp.load_der_ocsp_response(pki.ocsp_response(ocsp_request(cert, issuer)))
        assert response.certificate_status == cocsp.OCSPCertStatus.GOOD
        verify_ocsp(response, issuer)


def test_ocsp_unknown_unauthorized_malformed(pki: Pki) -> None:
    cert = pki.issue_signer("钱七", "420102199001011234").certificate
    request = asn1_ocsp.OCSPRequest.load(ocsp_request(cert, pki.issuing_cert))
    cert_id = request["tbs_request"]["request_list"][0]["req_cert"]
    cert_id["serial_number"] = cert.serial_number ^ 1  # a serial we never issued
    forged = asn1_ocsp.OCSPRequest(
        {"tbs_request": {"request_list": [{"req_cert": cert_id}]}}
    ).dump()
    assert cocsp.load_der_ocsp_response(pki.ocsp_response(forged)).certificate_status == (
        cocsp.OCSPCertStatus.UNKNOWN
    )
    stranger_key = generate_private_key(KeySpec.parse("ec-p256"))
    stranger = cx509.CertificateBuilder().subject_name(
        cx509.Name([cx509.NameAttribute(cx509.NameOID.COMMON_NAME, "other CA")])
    )
    stranger = (
        stranger.issuer_name(stranger._subject_name)  # type: ignore[attr-defined]
        .public_key(stranger_key.public_key())
        .serial_number(7)
        .not_valid_before(datetime.now(UTC))
        .not_valid_after(datetime.now(UTC) + timedelta(days=1))
        .sign(stranger_key, hashes.SHA256())
    )
    foreign = cocsp.OCSPRequestBuilder().add_certificate(stranger, stranger, hashes.SHA1())
    foreign_der = foreign.build().public_bytes(Encoding.DER)
    assert cocsp.load_der_ocsp_response(pki.ocsp_response(foreign_der)).response_status == (
        cocsp.OCSPResponseStatus.UNAUTHORIZED
    )
    assert cocsp.load_der_ocsp_response(pki.ocsp_response(b"\x30\x03junk")).response_status == (
        cocsp.OCSPResponseStatus.MALFORMED_REQUEST
    )


def test_ocsp_get_requests_decode() -> None:
    request = b"\x30\x81\xff" + bytes(range(256))[:60]
    segment = urllib.parse.quote(b64encode(request).decode(), safe="")
    assert decode_get_request(segment) == request


def test_ocsp_responders_are_renewed(pki: Pki, tmp_path: Path) -> None:
    copy = tmp_path / "pki"
    shutil.copytree(pki.data_dir, copy)
    before = pki.responder("issuing").cert
    later = datetime.now(UTC) + timedelta(days=80)  # within 30 days of a 90-day responder's end
    future = Pki.load_or_create(copy, PASSPHRASE, pki.public_base_url, clock=lambda: later)
    renewed = future.responder("issuing").cert
    assert renewed.serial_number != before.serial_number
    assert renewed.not_valid_before <= later < renewed.not_valid_after
    # another process opening the directory picks the renewed one up
    again = Pki.load_or_create(copy, PASSPHRASE, pki.public_base_url, clock=lambda: later)
    assert again.responder("issuing").cert.dump() == renewed.dump()


# -- TSA -------------------------------------------------------------------------------------------


def test_tsa_answers_rfc3161_requests(pki: Pki) -> None:
    digest = hashlib.sha256(b"contract").digest()
    request = tsp.TimeStampReq(
        {
            "version": 1,
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha256"},
                "hashed_message": digest,
            },
            "nonce": 424242,
            "cert_req": True,
        }
    )
    response = tsp.TimeStampResp.load(pki.tsa_response(request.dump()))
    assert response["status"]["status"].native == "granted"
    token = response["time_stamp_token"]
    signed_data = token["content"]
    tst_info = signed_data["encap_content_info"]["content"].parsed
    assert tst_info["message_imprint"]["hashed_message"].native == digest
    assert tst_info["nonce"].native == 424242
    assert abs(tst_info["gen_time"].native - datetime.now(UTC)) < timedelta(seconds=5)
    signer_info = signed_data["signer_infos"][0]
    signed_attrs = signer_info["signed_attrs"].dump()
    signed_attrs = b"\x31" + signed_attrs[1:]  # verified as a SET OF
    crypto(pki.tsa_cert).public_key().verify(
        signer_info["signature"].native, signed_attrs, ec.ECDSA(hashes.SHA256())
    )
    assert token.dump(force=True) == token.dump()  # canonical DER
    # (asn1crypto cannot load a token-less TimeStampResp, though RFC 3161 allows it)
    bad = core.Sequence.load(pki.tsa_response(b"not a request"))
    status = tsp.PKIStatusInfo.load(bad[0].dump())
    assert status["status"].native == "rejection"
    assert status["fail_info"].native == {"bad_data_format"}


def test_tsa_policy_comes_from_configuration(pki: Pki, tmp_path: Path) -> None:
    copy = tmp_path / "pki"
    shutil.copytree(pki.data_dir, copy)
    configured = Pki.load_or_create(copy, PASSPHRASE, pki.public_base_url,
                                    tsa_policy_oid="1.2.156.112558.1.1")
    request = tsp.TimeStampReq({
        "version": 1,
        "message_imprint": {"hash_algorithm": {"algorithm": "sha256"},
                            "hashed_message": hashlib.sha256(b"x").digest()},
        "req_policy": "1.2.156.112558.1.1",
    })
    response = tsp.TimeStampResp.load(configured.tsa_response(request.dump()))
    tst_info = response["time_stamp_token"]["content"]["encap_content_info"]["content"].parsed
    assert tst_info["policy"].dotted == "1.2.156.112558.1.1"
    # the file's default policy is now refused
    request["req_policy"] = load_config().tsa_policy_oid
    refused = core.Sequence.load(configured.tsa_response(request.dump()))
    assert tsp.PKIStatusInfo.load(refused[0].dump())["fail_info"].native == {
        "unaccepted_policy"}


# -- encodings ---------------------------------------------------------------------------------


class _FixedSignature:
    """A key stand-in with a constant signature, to compare encodings byte for byte."""

    def __init__(self, key: SoftKey):
        self.key = key

    def signature_mechanism(self, digest: str):
        return self.key.signature_mechanism(digest)

    def sign(self, data: bytes, digest: str) -> bytes:
        return b"\x30\x06\x02\x01\x01\x02\x01\x01"


def test_fast_certificate_encoding_matches_asn1crypto(pki: Pki) -> None:
    from asn1crypto import x509

    from signing.pki.certs import end_entity_extensions

    key = SoftKey(generate_private_key(KeySpec.parse("ec-p256")))
    subject = x509.Name.build({"common_name": "张三", "country_name": "CN"})
    now = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    extensions = end_entity_extensions() + pki.pointers("issuing").extensions()
    stub = _FixedSignature(pki.key("issuing"))  # type: ignore[arg-type]
    reference = issue_certificate(
        subject=subject,
        public_key=key.public_key_info,
        serial=12345,
        not_before=now,
        not_after=now + timedelta(minutes=30),
        signing_key=stub,  # type: ignore[arg-type]
        digest="sha256",
        issuer=pki.issuing_cert,
        extensions=extensions,
    )
    template = CertificateTemplate(
        issuer=pki.issuing_cert,
        signing_key=stub,
        digest="sha256",
        extensions=extensions,  # type: ignore[arg-type]
    )
    fast = template.issue(
        subject=subject.dump(),
        public_key=key.public_key_info.dump(),
        serial=12345,
        not_before=now,
        not_after=now + timedelta(minutes=30),
    )
    assert fast == reference.dump()


def test_signing_certificate_attribute_matches_pyhanko(pki: Pki) -> None:
    cert = pki.issue_signer("张三", ID_NUMBER).certificate
    ours = signing_certificate_v2(cert.dump(), cert.issuer.dump(), cert.serial_number)
    assert ours == as_signing_certificate_v2(cert).dump()


def test_config_is_checked(tmp_path: Path) -> None:
    config = load_config()
    assert config.signer.lifetime_minutes == 30
    assert config.signer.masked_id_attribute != "serial_number"
    source = Path(__file__).resolve().parents[2] / "certs" / "pki.toml"
    bad = tmp_path / "pki.toml"
    bad.write_text(source.read_text().replace('key = "ec-p384"', 'key = "dsa-1024"'))
    with pytest.raises(ValueError):
        load_config(bad)
    leaky = tmp_path / "leaky.toml"
    leaky.write_text(
        source.read_text().replace(
            'masked_id_attribute = "organizational_unit_name"',
            'masked_id_attribute = "serial_number"',
        )
    )
    with pytest.raises(ValueError):
        load_config(leaky)
