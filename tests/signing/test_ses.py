"""GB/T 38540 seals and signatures, checked by decoders and verifiers that are not ours.

- the structures are decoded from raw ASN.1 field by field twice: by asn1crypto's
  untyped parser (universal tags only, none of our definitions) and by
  ``openssl asn1parse``;
- both SM2 signatures (the maker's over eSealInfo, the signer's over TBS_Sign) are
  verified by ``openssl pkeyutl -verify -rawin -digest sm3 -pkeyopt distid:…`` over the
  DER that openssl itself located in the structure, and by the pure-Python ``gmssl``;
- tampering with the document, the seal picture or a signature is caught by ours and by
  openssl.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import core, keys, pem, x509

from signing.gm import ses
from signing.gm.offline_check import Node
from signing.gm.oids import SM2_WITH_SM3
from signing.gm.sm2 import sm3
from signing.seal import seal_image
from tests.gm_independent import Peers
from tests.signing.gm_certs import Sm2Identity, issue

AUTHORITY = "咸宁市住房和城乡建设局"
DOCUMENT = b"%PDF-1.7\n" + "存量房买卖合同 备案编号 4212022026000017\n".encode() * 200
NOW = datetime.now(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class Parties:
    root: Sm2Identity
    maker: Sm2Identity
    holder: Sm2Identity
    picture: bytes
    seal: bytes
    signature: bytes


@pytest.fixture(scope="module")
def parties() -> Parties:
    # valid from before NOW, which is taken when the module is collected
    since = NOW - timedelta(days=2)
    root = issue("网签备案根CA", ca=True, not_before=since)
    maker = issue("电子印章制章系统", issuer=root, not_before=since)
    holder = issue("网签备案专用章", issuer=root, not_before=since)
    buf = io.BytesIO()
    seal_image(AUTHORITY, size=240).save(buf, format="PNG")
    picture = buf.getvalue()
    seal = ses.make_seal(maker_key=maker.key, maker_cert=maker.cert_der,
                         holder_certs=[holder.cert_der], name="网签备案专用章",
                         es_id="4212020000000001", picture=picture,
                         valid_start=NOW - timedelta(days=1), valid_end=NOW + timedelta(days=730),
                         created=NOW - timedelta(days=1))
    signature = ses.sign_document(seal, DOCUMENT, holder.key, holder.cert_der, signed_at=NOW)
    return Parties(root, maker, holder, picture, seal, signature)


def asn1parse(data: bytes, tmp_path: Path) -> Node:
    """``openssl asn1parse`` as the independent decoder (the offline checker's)."""
    return Peers(tmp_path).asn1parse(data)


def _kinds(node: Node) -> list[str]:
    return [c.kind for c in node.children]


def _spki(cert_der: bytes) -> keys.PublicKeyInfo:
    return x509.Certificate.load(cert_der).public_key


def _openssl_verify(tmp_path: Path, cert_der: bytes, signature: bytes, message: bytes) -> bool:
    return Peers(tmp_path).verify_openssl(_spki(cert_der), message, signature)


def _gmssl_verify(cert_der: bytes, signature: bytes, message: bytes) -> bool:
    return Peers.verify_gmssl(_spki(cert_der), message, signature)


# -- the tests ---------------------------------------------------------------------------

def test_the_seal_decodes_field_by_field_with_openssl(parties: Parties, tmp_path: Path):
    data = parties.seal
    seal = asn1parse(data, tmp_path)
    assert _kinds(seal) == ["SEQUENCE", "OCTET STRING", "OBJECT", "BIT STRING"]
    info, maker_cert, alg, signed_value = seal.children
    assert maker_cert.content(data) == parties.maker.cert_der
    assert alg.value == "SM2-with-SM3"
    assert len(signed_value.bits(data)) in range(68, 73)  # DER (r, s)
    assert _kinds(info) == ["SEQUENCE", "IA5STRING", "SEQUENCE", "SEQUENCE"]
    header, es_id, prop, picture = info.children
    assert [c.value for c in header.children] == ["ES", "04", "WQBA-HS"]
    assert _kinds(header) == ["IA5STRING", "INTEGER", "IA5STRING"]
    assert es_id.value == "4212020000000001"
    assert _kinds(prop) == ["INTEGER", "UTF8STRING", "INTEGER", "SEQUENCE", "GENERALIZEDTIME",
                            "GENERALIZEDTIME", "GENERALIZEDTIME"]
    kind, name, list_type, cert_list, created, start, end = prop.children
    assert (kind.value, name.value, list_type.value) == ("01", "网签备案专用章", "01")
    assert [c.content(data) for c in cert_list.children] == [parties.holder.cert_der]
    fmt = "%Y%m%d%H%M%SZ"
    assert created.value == (NOW - timedelta(days=1)).strftime(fmt)
    assert start.value == (NOW - timedelta(days=1)).strftime(fmt)
    assert end.value == (NOW + timedelta(days=730)).strftime(fmt)
    assert _kinds(picture) == ["IA5STRING", "OCTET STRING", "INTEGER", "INTEGER"]
    assert picture.children[0].value == "PNG"
    assert picture.children[1].content(data) == parties.picture
    assert [c.value for c in picture.children[2:]] == ["2A", "2A"]  # 42 mm × 42 mm


def test_the_signature_decodes_field_by_field_with_openssl(parties: Parties, tmp_path: Path):
    data = parties.signature
    top = asn1parse(data, tmp_path)
    assert _kinds(top) == ["SEQUENCE", "OCTET STRING", "OBJECT", "BIT STRING"]
    tbs, cert, alg, signature = top.children
    assert cert.content(data) == parties.holder.cert_der and alg.value == "SM2-with-SM3"
    assert _kinds(tbs) == ["INTEGER", "SEQUENCE", "GENERALIZEDTIME", "BIT STRING", "IA5STRING"]
    version, eseal, time_info, data_hash, prop = tbs.children
    assert version.value == "04"
    assert eseal.der(data) == parties.seal  # the seal inside, byte for byte
    assert time_info.value == NOW.strftime("%Y%m%d%H%M%SZ")
    assert data_hash.bits(data) == sm3(DOCUMENT)
    assert prop.value == "application/pdf; ByteRange"
    assert len(signature.bits(data)) in range(68, 73)


def _items(value: core.Asn1Value) -> list[core.Asn1Value]:
    return [value[i] for i in range(len(value))]  # type: ignore[index]


def test_raw_asn1_without_our_definitions(parties: Parties):
    """asn1crypto's untyped parser: universal tags and values only."""
    tbs, cert, alg, signature = _items(core.load(parties.signature))
    assert isinstance(cert, core.OctetString) and isinstance(alg, core.ObjectIdentifier)
    assert alg.dotted == SM2_WITH_SM3 and isinstance(signature, core.BitString)
    version, eseal, time_info, data_hash, prop = _items(tbs)
    assert version.native == 4 and isinstance(time_info, core.GeneralizedTime)
    assert isinstance(data_hash, core.BitString) and isinstance(prop, core.IA5String)
    info, maker_cert, seal_alg, _ = _items(eseal)
    assert maker_cert.native == parties.maker.cert_der and seal_alg.dotted == SM2_WITH_SM3
    header, es_id, prop_info, picture = _items(info)
    assert [v.native for v in _items(header)] == ["ES", 4, "WQBA-HS"]
    assert isinstance(es_id, core.IA5String)
    assert [type(v) for v in _items(prop_info)] == [
        core.Integer, core.UTF8String, core.Integer, core.Sequence, core.GeneralizedTime,
        core.GeneralizedTime, core.GeneralizedTime]
    assert [type(v) for v in _items(picture)] == [core.IA5String, core.OctetString,
                                                 core.Integer, core.Integer]
    assert _items(picture)[1].native == parties.picture


def test_openssl_and_gmssl_verify_both_signatures_over_the_exact_der(parties: Parties,
                                                                     tmp_path: Path):
    data = parties.signature
    top = asn1parse(data, tmp_path)
    tbs, cert, _, signature = top.children
    eseal = tbs.children[1]
    seal_info, maker_cert, _, signed_value = eseal.children
    # the maker's signature, over eSealInfo as openssl delimits it
    assert _openssl_verify(tmp_path, maker_cert.content(data), signed_value.bits(data),
                           seal_info.der(data))
    assert _gmssl_verify(maker_cert.content(data), signed_value.bits(data),
                         seal_info.der(data))
    # the signer's signature, over TBS_Sign
    assert _openssl_verify(tmp_path, cert.content(data), signature.bits(data), tbs.der(data))
    assert _gmssl_verify(cert.content(data), signature.bits(data), tbs.der(data))
    report = ses.verify_signature(data, DOCUMENT)
    assert report.ok, report.problems
    assert report.document is not None and report.document.seal_name == "网签备案专用章"
    assert report.document.picture == parties.picture


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:]


def test_tampering_is_caught_by_ours_and_by_openssl(parties: Parties, tmp_path: Path):
    data = parties.signature
    top = asn1parse(data, tmp_path)
    tbs, cert, _, signature = top.children
    seal_info, maker_cert, _, signed_value = tbs.children[1].children
    picture_data = seal_info.children[3].children[1]

    # the document: our hash check fails, the signatures are intact
    report = ses.verify_signature(data, DOCUMENT + b" ")
    assert not report.ok and not report.data_hash_ok and report.signature_ok

    # a byte of the seal picture: both signatures cover it
    at = picture_data.offset + picture_data.header + 100
    bad = _flip(data, at)
    report = ses.verify_signature(bad, DOCUMENT)
    assert not report.seal_signature_ok and not report.signature_ok and not report.ok
    assert not _openssl_verify(tmp_path, maker_cert.content(bad), signed_value.bits(bad),
                               seal_info.der(bad))
    assert not _openssl_verify(tmp_path, cert.content(bad), signature.bits(bad), tbs.der(bad))

    # a byte of the signature value (its last byte: s stays a valid INTEGER)
    at = signature.offset + signature.header + signature.length - 1
    bad = _flip(data, at)
    report = ses.verify_signature(bad, DOCUMENT)
    assert not report.signature_ok and report.seal_signature_ok and not report.ok
    assert not _openssl_verify(tmp_path, cert.content(bad), signature.bits(bad), tbs.der(bad))
    assert not _gmssl_verify(cert.content(bad), signature.bits(bad), tbs.der(bad))

    # a byte of the maker's signature
    at = signed_value.offset + signed_value.header + signed_value.length - 1
    report = ses.verify_signature(_flip(data, at), DOCUMENT)
    assert not report.seal_signature_ok and not report.ok


def test_only_a_holder_signs_and_only_within_the_seal_validity(parties: Parties):
    stranger = issue("别的章", issuer=parties.root)
    with pytest.raises(ses.SesError, match="holders"):
        ses.sign_document(parties.seal, DOCUMENT, stranger.key, stranger.cert_der)
    with pytest.raises(ses.SesError, match="not the certificate's"):
        ses.sign_document(parties.seal, DOCUMENT, stranger.key, parties.holder.cert_der)
    with pytest.raises(ses.SesError, match="not valid at the signing time"):
        ses.sign_document(parties.seal, DOCUMENT, parties.holder.key, parties.holder.cert_der,
                          signed_at=NOW + timedelta(days=800))

    # a signature assembled by hand by someone else, with the seal inside: caught
    tbs = ses.TBS_Sign({"version": 4, "eseal": ses.parse_seal(parties.seal), "timeInfo": NOW,
                        "dataHash": sm3(DOCUMENT), "propertyInfo": "x"})
    forged = ses.SES_Signature({"toSign": tbs, "cert": stranger.cert_der,
                                "signatureAlgID": SM2_WITH_SM3,
                                "signature": stranger.key.sign(tbs.dump())}).dump()
    report = ses.verify_signature(forged, DOCUMENT)
    assert report.signature_ok and not report.signer_is_holder and not report.ok


def test_a_certificate_expired_at_signing_time_is_reported(parties: Parties):
    old = issue("过期章", issuer=parties.root, not_before=NOW - timedelta(days=10),
                lifetime=timedelta(days=2))
    seal = ses.make_seal(maker_key=parties.maker.key, maker_cert=parties.maker.cert_der,
                         holder_certs=[old.cert_der], name="过期章", es_id="x",
                         picture=parties.picture, valid_start=NOW - timedelta(days=10),
                         valid_end=NOW + timedelta(days=10))
    report = ses.verify_signature(ses.sign_document(seal, DOCUMENT, old.key, old.cert_der),
                                  DOCUMENT)
    assert report.signature_ok and report.seal_signature_ok and report.seal_valid_at_signing
    assert not report.certificates_valid_at_signing and not report.ok


def test_the_seal_maker_must_hold_its_key(parties: Parties):
    with pytest.raises(ses.SesError, match="maker"):
        ses.make_seal(maker_key=parties.holder.key, maker_cert=parties.maker.cert_der,
                      holder_certs=[parties.holder.cert_der], name="x", es_id="x",
                      picture=parties.picture, valid_start=NOW, valid_end=NOW + timedelta(1))
    with pytest.raises(ses.SesError, match="validEnd"):
        ses.make_seal(maker_key=parties.maker.key, maker_cert=parties.maker.cert_der,
                      holder_certs=[parties.holder.cert_der], name="x", es_id="x",
                      picture=parties.picture, valid_start=NOW, valid_end=NOW)


def test_malformed_input_is_a_report_not_a_crash(parties: Parties):
    for junk in (b"", b"\x30\x00", parties.signature[:-1], parties.signature + b"\x00",
                 parties.seal):
        report = ses.verify_signature(junk, DOCUMENT)
        assert not report.ok and report.document is None and report.problems


def test_a_timestamp_over_the_signature_value(parties: Parties, pki, tmp_path: Path):
    from signing.gm.verify import Material

    stamper = pki.timestamper()

    def timestamp(signature: bytes) -> bytes:
        return stamper.token_der(hashlib.sha256(signature).digest(), "sha256")

    der = ses.sign_document(parties.seal, DOCUMENT, parties.holder.key,
                            parties.holder.cert_der, timestamp=timestamp)
    report = ses.verify_signature(der, DOCUMENT)
    assert report.ok, report.problems
    ts = report.timestamp
    assert ts is not None and ts.imprint_ok and ts.token is not None
    assert abs((ts.gen_time - datetime.now(UTC)).total_seconds()) < 120
    # the token itself: intact and signed by the TSA (checked where the trust roots are)
    value = ses.signature_value(der)
    check = Material([pki.root_cert]).check_token(ts.token["content"], value, current_at=None)
    assert check.intact and check.valid and check.signer.dump() == pki.tsa_cert.dump()
    # [0] EXPLICIT BIT STRING holding the token, as openssl sees it
    top = asn1parse(der, tmp_path)
    assert _kinds(top) == ["SEQUENCE", "OCTET STRING", "OBJECT", "BIT STRING", "cont [ 0 ]"]
    [token] = top.children[4].children
    assert token.bits(der) == report.document.timestamp_token  # type: ignore[union-attr]
    # a token over some other value is caught
    other = ses.sign_document(parties.seal, DOCUMENT, parties.holder.key,
                              parties.holder.cert_der,
                              timestamp=lambda _sig: timestamp(b"something else"))
    report = ses.verify_signature(other, DOCUMENT)
    assert report.timestamp is not None and not report.timestamp.imprint_ok
    assert not report.ok


def test_pdf_contents_padding_is_stripped_and_nothing_else(parties: Parties):
    assert ses.strip_padding(parties.signature + b"\x00" * 300) == parties.signature
    for bad in (parties.signature[:-5], parties.signature + b"\x01",
                b"\x04\x02ab", b""):
        with pytest.raises(ses.SesError):
            ses.strip_padding(bad)


def test_test_certificates_are_gm_t_0015_shaped(parties: Parties, tmp_path: Path):
    (tmp_path / "c.der").write_bytes(parties.holder.cert_der)
    out = subprocess.run(["openssl", "x509", "-inform", "DER", "-in", str(tmp_path / "c.der"),
                          "-noout", "-text"], capture_output=True, text=True)
    assert out.returncode == 0
    assert "Signature Algorithm: SM2-with-SM3" in out.stdout and "ASN1 OID: SM2" in out.stdout
    spki = keys.PublicKeyInfo.load(pem.unarmor(
        pem.armor("PUBLIC KEY", parties.holder.cert.public_key.dump()))[2])
    assert spki["algorithm"]["parameters"].chosen.dotted == "1.2.156.10197.1.301"


def test_the_gm_identifiers_register_in_any_import_order():
    """asn1crypto builds an OID class's reverse map once, on its first instance: the GM/T
    names must be added to it, not reset it (which broke every later ECDSA certificate
    in a process that had built one before importing signing.gm)."""
    import sys

    code = ("from asn1crypto import algos\n"
            "algos.SignedDigestAlgorithm({'algorithm': 'sha256_ecdsa'})\n"
            "import signing.gm.oids\n"
            "algos.SignedDigestAlgorithm({'algorithm': 'sha256_ecdsa'})\n"
            "print(algos.SignedDigestAlgorithm({'algorithm': 'sm2_sm3'})['algorithm'].dotted)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == SM2_WITH_SM3
