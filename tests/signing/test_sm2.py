"""SM2 with SM3 by our OpenSSL binding, checked against the ``openssl`` command line.

The command line parses keys and signatures itself, so a wrong DER layout, a wrong
curve identifier or a signer ID other than GM/T 0009's default would fail here.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from asn1crypto import keys, pem

from signing.gm.sm2 import Sm2Error, Sm2PrivateKey, Sm2PublicKey, sm3

ID = "distid:1234567812345678"


def _openssl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["openssl", *args], capture_output=True, text=True)


def test_sm3_matches_the_standard_vector() -> None:
    # GB/T 32905-2016, appendix A.1
    assert sm3(b"abc").hex() == (
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0")


def test_openssl_verifies_our_signature_and_detects_tampering(tmp_path: Path) -> None:
    key = Sm2PrivateKey.generate()
    message = "房屋买卖合同".encode() * 50
    (tmp_path / "m").write_bytes(message)
    (tmp_path / "bad").write_bytes(message + b".")
    (tmp_path / "s").write_bytes(key.sign(message))
    (tmp_path / "pub.pem").write_bytes(pem.armor("PUBLIC KEY", key.public_key().to_der()))
    base = ["pkeyutl", "-verify", "-rawin", "-digest", "sm3", "-pkeyopt", ID, "-pubin",
            "-inkey", str(tmp_path / "pub.pem"), "-sigfile", str(tmp_path / "s")]
    assert _openssl(*base, "-in", str(tmp_path / "m")).returncode == 0
    assert _openssl(*base, "-in", str(tmp_path / "bad")).returncode != 0
    other_id = [a if a != ID else "distid:ALICE123@YAHOO.COM" for a in base]
    assert _openssl(*other_id, "-in", str(tmp_path / "m")).returncode != 0


def test_we_verify_openssls_signature(tmp_path: Path) -> None:
    assert _openssl("genpkey", "-algorithm", "SM2", "-out", str(tmp_path / "k.pem")).returncode == 0
    (tmp_path / "m").write_bytes(b"filed contract")
    signed = _openssl("pkeyutl", "-sign", "-rawin", "-digest", "sm3", "-pkeyopt", ID,
                      "-inkey", str(tmp_path / "k.pem"), "-in", str(tmp_path / "m"),
                      "-out", str(tmp_path / "s"))
    assert signed.returncode == 0, signed.stderr
    pub = _openssl("pkey", "-in", str(tmp_path / "k.pem"), "-pubout", "-outform", "DER",
                   "-out", str(tmp_path / "pub.der"))
    assert pub.returncode == 0
    public = Sm2PublicKey.from_der((tmp_path / "pub.der").read_bytes())
    sig = (tmp_path / "s").read_bytes()
    assert public.verify(sig, b"filed contract")
    assert not public.verify(sig, b"filed contracT")


def test_keys_round_trip_as_gm_t_0015_der() -> None:
    key = Sm2PrivateKey.generate()
    again = Sm2PrivateKey.from_der(key.to_der())
    spki = keys.PublicKeyInfo.load(again.public_key().to_der())
    assert spki["algorithm"]["algorithm"].native == "ec"
    assert spki["algorithm"]["parameters"].chosen.dotted == "1.2.156.10197.1.301"
    assert key.public_key().verify(again.sign(b"x"), b"x")


def test_a_p256_key_is_refused() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    p256 = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(Sm2Error):
        Sm2PublicKey.from_der(p256)
