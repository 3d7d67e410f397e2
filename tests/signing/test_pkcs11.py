"""The production key setup: CA and seal keys inside a PKCS#11 token (SoftHSM2 here)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from signing.keys import Pkcs11Settings
from signing.pades import SignerRequest, file_document, prepare_for_signing, sign_party
from signing.pki import Pki
from signing.validation import validate_document
from tests.signing.conftest import AUTHORITY, FILING_NO, PARTIES, Contract, handwriting

SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"
TOKEN_LABEL = "contract-test"
USER_PIN = "123456"

pytestmark = [
    pytest.mark.skipif(
        shutil.which("softhsm2-util") is None or not Path(SOFTHSM_MODULE).exists(),
        reason="SoftHSM2 not installed (Debian package softhsm2)",
    ),
    pytest.mark.filterwarnings("ignore"),
]


@pytest.fixture(scope="module")
def token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pkcs11Settings]:
    """A fresh SoftHSM2 token in a temporary directory (its own config file)."""
    base = tmp_path_factory.mktemp("softhsm")
    (base / "tokens").mkdir()
    config = base / "softhsm2.conf"
    config.write_text(
        f"directories.tokendir = {base / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(config)
    subprocess.run(
        ["softhsm2-util", "--init-token", "--free", "--label", TOKEN_LABEL,
         "--pin", USER_PIN, "--so-pin", "654321"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    yield Pkcs11Settings(SOFTHSM_MODULE, TOKEN_LABEL, USER_PIN)
    if previous is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = previous


@pytest.fixture(scope="module")
def hsm_pki(token: Pkcs11Settings, tmp_path_factory: pytest.TempPathFactory) -> Pki:
    data_dir = tmp_path_factory.mktemp("hsm-pki")
    return Pki.load_or_create(data_dir, b"file keys passphrase", "http://127.0.0.1:9", pkcs11=token)


def test_ca_and_seal_keys_live_in_the_token(hsm_pki: Pki, token: Pkcs11Settings) -> None:
    from pkcs11 import Attribute, ObjectClass

    key_files = {p.name for p in (hsm_pki.data_dir / "keys").glob("*.key.pem")}
    for role in token.roles:
        assert f"{role}.key.pem" not in key_files
    assert {"platform.key.pem", "tsa.key.pem"} <= key_files  # not configured for the HSM
    session = hsm_pki._pkcs11_session
    for role in token.roles:
        (key,) = session.get_objects(
            {Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.LABEL: token.label_prefix + role}
        )
        assert key[Attribute.SENSITIVE] and not key[Attribute.EXTRACTABLE]
    assert type(hsm_pki.seal_signer()).__name__ == "PKCS11Signer"


def test_reopening_finds_the_keys_in_the_token(hsm_pki: Pki, token: Pkcs11Settings) -> None:
    reopened = Pki.load_or_create(
        hsm_pki.data_dir, b"file keys passphrase", hsm_pki.public_base_url, pkcs11=token
    )
    assert reopened.seal_cert.dump() == hsm_pki.seal_cert.dump()
    assert reopened.key("seal").public_key_info.dump() == hsm_pki.seal_cert.public_key.dump()


def test_flow_with_hsm_keys_validates(hsm_pki: Pki, contract: Contract) -> None:
    pdf = prepare_for_signing(contract.pdf, contract.slots, pki=hsm_pki)
    for n, (field_name, (name, id_number)) in enumerate(
        zip(contract.party_fields, PARTIES, strict=True)
    ):
        # party certificates are issued by the HSM-held issuing CA key
        request = SignerRequest(name, id_number, handwriting(n + 1), datetime.now(UTC))
        pdf = sign_party(pdf, field_name, request, pki=hsm_pki)
    filed = file_document(pdf, AUTHORITY, FILING_NO, pki=hsm_pki)

    report = validate_document(filed, hsm_pki.roots_pem())
    assert report.valid, [(s.field_name, s.indication, s.message) for s in report.signatures]
    assert report.filed
    seal = next(s for s in report.signatures if s.kind == "seal")
    assert seal.ok and seal.archived
    # the seal signature was made by the token's key
    from io import BytesIO

    from pyhanko.pdf_utils.reader import PdfFileReader

    (embedded,) = [
        s
        for s in PdfFileReader(BytesIO(filed)).embedded_signatures
        if s.field_name == seal.field_name
    ]
    assert embedded.signer_cert.public_key.dump() == hsm_pki.key("seal").public_key_info.dump()
