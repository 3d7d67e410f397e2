"""Configuration: the embedded default needs nothing; bad values stop the process with one line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from server.config import ConfigError, Settings
from tests.live import ROOT


def test_embedded_default_needs_no_variable(tmp_path):
    s = Settings.from_env({"DATA_DIR": str(tmp_path)})
    assert s.database_url == f"sqlite://{tmp_path / 'app.sqlite3'}"
    assert s.redis_url is None
    assert s.sandbox_enabled and s.face_provider == "sandbox"
    assert s.public_base_url == "http://127.0.0.1:8000"
    assert s.signing_suite == "ecdsa-p256"


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL: unsupported scheme 'mysql'"),
        ({"REDIS_URL": "memcached://x"}, "REDIS_URL: unsupported scheme"),
        ({"APP_ENV": "staging"}, "APP_ENV: must be one of development, production"),
        ({"SANDBOX_ENABLED": "maybe"}, "SANDBOX_ENABLED: expected true or false"),
        ({"MAX_BODY_BYTES": "big"}, "MAX_BODY_BYTES: expected a whole number"),
        ({"FACE_SIMILARITY_THRESHOLD": "101"}, "FACE_SIMILARITY_THRESHOLD: must be at least 1"),
        ({"APP_ENV": "production"}, "IDENTITY_ENCRYPTION_KEY: required when APP_ENV=production"),
        ({"APP_ENV": "production", "SANDBOX_ENABLED": "true"}, "SANDBOX_ENABLED: the sandbox"),
        ({"FACE_PROVIDER": "tencent"}, "TENCENT_SECRET_ID: required by FACE_PROVIDER=tencent"),
        ({"SANDBOX_ENABLED": "false"}, "TENCENT_SECRET_ID"),
        ({"PKCS11_MODULE": "/x.so"}, "PKCS11_TOKEN_LABEL"),
        ({"SIGNING_SUITE": "sm9"}, "SIGNING_SUITE: must be one of ecdsa-p256, sm2"),
        ({"SIGNING_SUITE": "sm2", "PKCS11_MODULE": "/x.so", "PKCS11_TOKEN_LABEL": "t",
          "PKCS11_PIN": "1"}, "PKCS11_MODULE: SIGNING_SUITE=sm2 keeps its keys in encrypted"),
    ],
)
def test_bad_configuration_names_the_variable(env, fragment):
    with pytest.raises(ConfigError) as info:
        Settings.from_env(env)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_production_refuses_plain_http_origin():
    env = {"APP_ENV": "production", "IDENTITY_ENCRYPTION_KEY": "a", "IDENTITY_INDEX_KEY": "b",
           "TOKEN_SIGNING_KEY_FILE": "/k.pem", "PKI_PASSPHRASE": "p",
           "FACE_PROVIDER": "wechat", "WECHAT_APP_ID": "wx", "WECHAT_APP_SECRET": "s"}
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL: must be https"):
        Settings.from_env(env)


def test_secrets_never_in_the_public_view(tmp_path):
    s = Settings.from_env({"DATA_DIR": str(tmp_path), "PKI_PASSPHRASE": "hunter2",
                           "DATABASE_URL": "postgres://u:pw@db:5432/app"})
    text = repr(s.public_dict())
    assert "hunter2" not in text and "pw" not in text.replace("passphrase", "")


def test_cli_exits_with_one_clear_line(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "server", "serve"], cwd=ROOT, capture_output=True, text=True,
        env={"PATH": "/usr/bin:/bin", "DATA_DIR": str(tmp_path), "DATABASE_URL": "mysql://db/x"},
        timeout=60,
    )
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert lines == ["configuration error: DATABASE_URL: unsupported scheme 'mysql' "
                     "(use sqlite:// or postgres:// or postgresql://)"]


def test_cli_refuses_several_workers_without_redis(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "server", "serve", "--workers", "2"], cwd=ROOT,
        capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "DATA_DIR": str(tmp_path)},
        timeout=60,
    )
    assert proc.returncode == 2
    assert "--workers: more than one worker needs REDIS_URL" in proc.stderr


_PRODUCTION = {"APP_ENV": "production", "IDENTITY_ENCRYPTION_KEY": "a", "IDENTITY_INDEX_KEY": "b",
               "TOKEN_SIGNING_KEY_FILE": "/k.pem", "PKI_PASSPHRASE": "p",
               "FACE_PROVIDER": "wechat", "WECHAT_APP_ID": "wx", "WECHAT_APP_SECRET": "s",
               "PUBLIC_BASE_URL": "https://wq.example.cn"}


def _anchor_file(tmp_path, *, pem: bool = True):
    from datetime import UTC, datetime, timedelta

    from asn1crypto import x509

    from signing.keys import KeySpec, SoftKey, generate_private_key
    from signing.pki.certs import ca_extensions, certificates_pem, issue_certificate

    key = SoftKey(generate_private_key(KeySpec.parse("ec-p256")))
    now = datetime.now(UTC).replace(microsecond=0)
    cert = issue_certificate(subject=x509.Name.build({"common_name": "国家授时中心 TSA CA"}),
                             public_key=key.public_key_info, serial=7, not_before=now,
                             not_after=now + timedelta(days=1), signing_key=key,
                             digest="sha256", issuer=None, extensions=ca_extensions(None))
    path = tmp_path / ("tsa-ca.pem" if pem else "tsa-ca.cer")
    path.write_bytes(certificates_pem([cert]) if pem else cert.dump())
    return path


def test_production_refuses_the_in_process_tsa():
    with pytest.raises(ConfigError, match="TSA_URL: required when APP_ENV=production"):
        Settings.from_env(_PRODUCTION)


def test_production_needs_the_tsa_trust_anchor(tmp_path):
    env = {**_PRODUCTION, "TSA_URL": "https://tsa.example.cn/tsa"}
    with pytest.raises(ConfigError, match="TSA_CA_FILE: TSA_URL needs the TSA's trust anchor"):
        Settings.from_env(env)
    with pytest.raises(ConfigError, match="TSA_CA_FILE: cannot read a certificate"):
        Settings.from_env({**env, "TSA_CA_FILE": str(tmp_path / "missing.pem")})
    (tmp_path / "junk.pem").write_text("not a certificate")
    with pytest.raises(ConfigError, match="TSA_CA_FILE: cannot read a certificate"):
        Settings.from_env({**env, "TSA_CA_FILE": str(tmp_path / "junk.pem")})
    for pem in (True, False):
        settings = Settings.from_env({**env, "TSA_CA_FILE": str(_anchor_file(tmp_path, pem=pem)),
                                      "TSA_POLICY_OID": "1.2.156.112558.1.1"})
        assert settings.production and settings.tsa_url and settings.tsa_ca_file
        assert settings.tsa_policy_oid == "1.2.156.112558.1.1"


@pytest.mark.parametrize("value", ["policy", "1", "3.1.2", "1.2.x", "1..2"])
def test_tsa_policy_must_be_an_oid(value):
    with pytest.raises(ConfigError, match="TSA_POLICY_OID: expected a dotted object identifier"):
        Settings.from_env({"TSA_POLICY_OID": value})
