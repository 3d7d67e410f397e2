"""ID numbers and phones at rest: AES-256-GCM by default, SM4-GCM with SIGNING_SUITE=sm2,
both readable side by side, and ``reencrypt`` converting between them.

SM4 itself is checked against RFC 8998's SM4-GCM test vector and against the ``openssl``
command line (GCM's keystream is SM4-CTR from the nonce's second counter block), so a
wrong mode, byte order or key use would fail here, not only in our own round trip.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from server.identity_crypto import (
    AES_256_GCM,
    SM4_GCM,
    IdentityCipher,
    KeyNotConfigured,
    Sm4Gcm,
    read_header,
)
from tests.db import with_db
from tests.houses.support import Db, run_cli
from tests.live import LiveServer
from tests.sale import expect, filed_sale, registry_client

AES_KEY, INDEX_KEY, SM4_KEY = os.urandom(32), os.urandom(32), os.urandom(16)


def _ciphers() -> tuple[IdentityCipher, IdentityCipher]:
    aes = IdentityCipher(AES_KEY, INDEX_KEY, sm4_key=SM4_KEY)
    return aes, aes.writing(SM4_GCM)


def test_sm4_gcm_matches_rfc_8998_test_vector() -> None:
    # RFC 8998, appendix A.1 (SM4-GCM)
    key = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
    nonce = bytes.fromhex("00001234567800000000ABCD")
    aad = bytes.fromhex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2")
    plain = bytes.fromhex("".join(c * 16 for c in "ABCDEFEA"))
    out = Sm4Gcm(key).encrypt(nonce, plain, aad)
    assert out[:-16].hex() == (
        "17f399f08c67d5ee19d0dc9969c4bb7d5fd46fd3756489069157b282bb200735"
        "d82710ca5c22f0ccfa7cbf93d496ac15a56834cbcf98c397b4024a2691233b8d")
    assert out[-16:].hex() == "83de3541e4c2b58177e065a9bf7b62ec"
    assert Sm4Gcm(key).decrypt(nonce, out, aad) == plain
    with pytest.raises(InvalidTag):
        Sm4Gcm(key).decrypt(nonce, out, aad + b"x")


def test_openssl_agrees_on_our_sm4_rows() -> None:
    _, sm4 = _ciphers()
    plain = b"421202197503123518"
    raw = base64.urlsafe_b64decode(sm4.encrypt(plain.decode()))
    nonce, body = raw[6:18], raw[18:-16]
    counter = nonce + (2).to_bytes(4, "big")  # GCM: J0 = nonce || 1, data from J0 + 1
    out = subprocess.run(["openssl", "enc", "-sm4-ctr", "-K", SM4_KEY.hex(), "-iv",
                          counter.hex(), "-nosalt"], input=body, capture_output=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout == plain


def test_rows_name_their_algorithm_and_key_and_both_kinds_are_read() -> None:
    aes, sm4 = _ciphers()
    old = aes.encrypt("421202197503123518")
    new = sm4.encrypt("13907150001", "phone")
    raw_old, raw_new = base64.urlsafe_b64decode(old), base64.urlsafe_b64decode(new)
    # version 1 is exactly what the service always wrote: AES-GCM(nonce, data, purpose)
    assert raw_old[0] == 1
    assert AESGCM(AES_KEY).decrypt(raw_old[1:13], raw_old[13:], b"id") == b"421202197503123518"
    h = read_header(raw_new)
    assert (h.version, h.algorithm) == (2, SM4_GCM) and len(h.key_id or b"") == 4
    for reader in (aes, sm4):
        assert reader.decrypt(old) == "421202197503123518"
        assert reader.decrypt(new, "phone") == "13907150001"
    assert sm4.is_current_text(new) and not sm4.is_current_text(old)
    assert aes.is_current_text(old) and not aes.is_current_text(new)
    # bound to the purpose, and the header is authenticated: a relabelled row fails
    with pytest.raises(InvalidTag):
        sm4.decrypt(new, "id")
    relabelled = bytearray(raw_new)
    relabelled[1] = 0x01  # "AES" with the SM4 key id
    with pytest.raises(KeyNotConfigured):
        sm4.unseal(bytes(relabelled), "phone")
    # sealed bytes (idempotency bodies) follow the same rule
    body = sm4.seal(b'{"token": "x"}', "idempotency:u:k")
    assert read_header(body).algorithm == SM4_GCM
    assert aes.unseal(body, "idempotency:u:k") == b'{"token": "x"}'


def test_an_sm4_row_without_its_key_says_which_key() -> None:
    _, sm4 = _ciphers()
    token = sm4.encrypt("421202197503123518")
    kid = read_header(base64.urlsafe_b64decode(token)).key_id.hex()  # type: ignore[union-attr]
    for reader in (IdentityCipher(AES_KEY, INDEX_KEY),
                   IdentityCipher(AES_KEY, INDEX_KEY, sm4_key=os.urandom(16))):
        with pytest.raises(KeyNotConfigured, match=kid):
            reader.decrypt(token)
    with pytest.raises(KeyNotConfigured):
        IdentityCipher(AES_KEY, INDEX_KEY, write=SM4_GCM)


def test_the_blind_index_does_not_depend_on_the_cipher() -> None:
    aes, sm4 = _ciphers()
    assert aes.write_algorithm == AES_256_GCM
    assert aes.index("421202197503123518") == sm4.index("421202197503123518")


# -- a live deployment moving from AES to SM4 and back -------------------------------------

_COLUMNS = {"users": ("id", "id_number_enc"), "parties": ("id", "id_number_enc"),
            "owners": ("id", "id_number_enc"), "face_verifications": ("id", "expected_id_enc")}
_INDEXES = {"users": "id_index", "parties": "id_index", "owners": "id_index",
            "face_verifications": "expected_id_index"}


def _snapshot(db: Db) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for table, (pk, col) in _COLUMNS.items():
        for r in db.fetch(f"SELECT {pk} AS k, {col} AS v FROM {table} WHERE {col} IS NOT NULL"):
            out[f"{table}:{r['k']}"] = r["v"]
    for r in db.fetch("SELECT id, phone_enc FROM parties"):
        out[f"parties.phone:{r['id']}"] = r["phone_enc"]
    for r in db.fetch("SELECT id, body FROM idempotency_records"):
        out[f"idempotency:{r['id']}"] = base64.urlsafe_b64encode(bytes(r["body"])).decode()
    return out


def _indexes(db: Db) -> dict[str, str]:
    return {f"{t}:{r['id']}": r["i"] for t, c in _INDEXES.items()
            for r in db.fetch(f"SELECT id, {c} AS i FROM {t}")}


def _algorithms(snapshot: dict[str, str]) -> set[str]:
    return {read_header(base64.urlsafe_b64decode(v)).algorithm for v in snapshot.values()}


def _shared(api, client, sale) -> dict:
    view = expect(api.get(f"/api/v1/contracts/{sale.contract_id}",
                          headers=sale.sellers[0].headers), 200)
    return expect(api.get(f"/registry/v1/contracts/{view['filing_no']}",
                          headers=client.headers), 200)


def _assert_full_data(shared: dict, sale) -> None:
    """The registry office's full view: every ID number and phone decrypted correctly."""
    got = {(p["id_number"], p["phone"]) for p in shared["sellers"] + shared["buyers"]}
    assert got == {(p.id_number, p.phone) for p in sale.people}
    assert {o["id_number"] for o in shared["co_owners"]} == {p.id_number for p in sale.sellers}


def test_a_deployment_moves_to_sm4_and_back_without_losing_a_row(fresh_env):
    import httpx

    env = fresh_env
    db = Db(env)
    aes_server = LiveServer(env)
    with aes_server.serving(), httpx.Client(base_url=aes_server.base_url, timeout=60) as api:
        client = registry_client(aes_server, api)
        old_sale = filed_sale(aes_server, api, client=client)
        key = "k-" + os.urandom(6).hex()
        expect(api.post(f"/api/v1/contracts/{old_sale.contract_id}/revocation",
                        headers={**old_sale.sellers[0].headers, "Idempotency-Key": key}),
               200, 201, 202)
    before = _snapshot(db)
    assert _algorithms(before) == {AES_256_GCM}
    assert any(k.startswith("idempotency:") for k in before)

    sm2_env = {**env, "SIGNING_SUITE": "sm2"}
    sm2_server = LiveServer(sm2_env, port=aes_server.port)
    logs: list[str] = []
    with sm2_server.serving(), httpx.Client(base_url=sm2_server.base_url, timeout=60) as api:
        new_sale = filed_sale(sm2_server, api, client=client)
        mixed = _snapshot(db)
        assert _algorithms(mixed) == {AES_256_GCM, SM4_GCM}
        assert {k: v for k, v in mixed.items() if k in before} == before
        # both kinds read by the same service
        _assert_full_data(_shared(api, client, old_sale), old_sale)
        _assert_full_data(_shared(api, client, new_sale), new_sale)
        indexes = _indexes(db)

        # a dry run counts and writes nothing
        dry = run_cli(sm2_env, "reencrypt", "--dry-run")
        logs += [dry.stdout, dry.stderr]
        assert dry.returncode == 0, dry.stderr
        dry_report = json.loads(dry.stdout.strip().splitlines()[-1])
        aes_rows = sum(1 for k in mixed if _algorithms({k: mixed[k]}) == {AES_256_GCM})
        assert dry_report["dry_run"] and dry_report["target"] == SM4_GCM
        assert dry_report["totals"]["converted"] == aes_rows
        assert _snapshot(db) == mixed

        # the real run, while the service serves, in small batches
        first = run_cli(sm2_env, "reencrypt", "--batch-size", "3")
        logs += [first.stdout, first.stderr]
        assert first.returncode == 0, first.stderr
        report = json.loads(first.stdout.strip().splitlines()[-1])
        assert report["totals"]["converted"] == aes_rows
        assert report["totals"]["unreadable"] == 0
        assert "users.id_number_enc: rows" in first.stdout
        after = _snapshot(db)
        assert _algorithms(after) == {SM4_GCM} and after.keys() == mixed.keys()
        assert {k: v for k, v in after.items() if k not in before} == \
            {k: v for k, v in mixed.items() if k not in before}  # SM4 rows untouched

        # a second run changes nothing
        second = run_cli(sm2_env, "reencrypt")
        logs += [second.stdout, second.stderr]
        again = json.loads(second.stdout.strip().splitlines()[-1])
        assert again["totals"]["converted"] == 0
        assert again["totals"]["already"] == len(after)
        assert _snapshot(db) == after
        assert _indexes(db) == indexes  # the blind index never moves

        _assert_full_data(_shared(api, client, old_sale), old_sale)
        _assert_full_data(_shared(api, client, new_sale), new_sale)
        logs.append(sm2_server.log())

    # back to AES, and a default deployment reads everything again
    back = run_cli(env, "reencrypt", "--to", "aes")
    logs += [back.stdout, back.stderr]
    assert json.loads(back.stdout.strip().splitlines()[-1])["totals"]["converted"] == len(after)
    assert _algorithms(_snapshot(db)) == {AES_256_GCM}
    with aes_server.serving(), httpx.Client(base_url=aes_server.base_url, timeout=60) as api:
        _assert_full_data(_shared(api, client, new_sale), new_sale)
        logs.append(aes_server.log())

    secrets_seen = [p.id_number for p in old_sale.people + new_sale.people] + \
        [p.phone for p in old_sale.people + new_sale.people]
    text = "\n".join(logs)
    assert not [s for s in secrets_seen if s in text], "plaintext in a log or CLI output"


def test_an_interrupted_run_keeps_its_batches_and_the_next_run_finishes(fresh_env):
    """Stopped after its first batch (an exception, as a kill would): that batch is
    committed whole, the rest untouched, and the next run converts only the rest."""
    from server.config import Settings
    from server.secrets import load_secrets
    from server.services.reencryption import ENCRYPTED_COLUMNS, reencrypt

    assert run_cli(fresh_env, "migrate").returncode == 0
    assert run_cli(fresh_env, "seed-demo").returncode == 0
    db = Db(fresh_env)
    before = _snapshot(db)
    settings = Settings.from_env({**fresh_env, "SIGNING_SUITE": "sm2"})
    target = IdentityCipher.configured(settings, load_secrets(settings))
    users = tuple(c for c in ENCRYPTED_COLUMNS if c.name == "users.id_number_enc")

    class Stop(Exception):
        pass

    def stop(_column, _stats):
        raise Stop

    with pytest.raises(Stop):
        with_db(fresh_env, lambda: reencrypt(target, batch_size=4, columns=users,
                                             on_batch=stop))
    partial = _snapshot(db)
    converted = {k for k in partial if partial[k] != before[k]}
    assert len(converted) == 4 and all(k.startswith("users:") for k in converted)
    assert _algorithms({k: partial[k] for k in converted}) == {SM4_GCM}

    report = with_db(fresh_env, lambda: reencrypt(target, batch_size=4))
    users_report = report.columns["users.id_number_enc"]
    assert users_report.already == 4 and users_report.converted == users_report.rows - 4
    assert _algorithms(_snapshot(db)) == {SM4_GCM}


def test_a_row_rewritten_during_the_run_is_not_overwritten(fresh_env):
    from server.config import Settings
    from server.models import User
    from server.secrets import load_secrets
    from server.services import reencryption

    assert run_cli(fresh_env, "migrate").returncode == 0
    assert run_cli(fresh_env, "seed-demo").returncode == 0
    settings = Settings.from_env(fresh_env)
    aes = IdentityCipher.configured(settings, load_secrets(settings))
    target = aes.writing(SM4_GCM)
    [users] = [c for c in reencryption.ENCRYPTED_COLUMNS if c.name == "users.id_number_enc"]

    async def race() -> reencryption.ColumnReport:
        rows = await User.filter(id_number_enc__isnull=False).order_by("id").limit(2) \
            .values("id", "id_number_enc")
        # the service writes the first row afresh after the command read it
        fresh = target.encrypt(aes.decrypt(rows[0]["id_number_enc"]))
        await User.filter(id=rows[0]["id"]).update(id_number_enc=fresh)
        stats = reencryption.ColumnReport()
        await reencryption._convert_batch(target, users, rows, stats, "id", dry_run=False)
        assert (await User.get(id=rows[0]["id"])).id_number_enc == fresh
        return stats

    stats = with_db(fresh_env, race)
    assert (stats.converted, stats.changed_meanwhile) == (1, 1)


def test_reencrypt_refuses_what_it_cannot_do(fresh_env):
    out = run_cli(fresh_env, "reencrypt", "--to", "des")
    assert out.returncode == 2 and "--to" in out.stderr
    out = run_cli(fresh_env, "reencrypt", "--batch-size", "0")
    assert out.returncode == 2 and "--batch-size" in out.stderr


def test_the_suite_is_configured_and_production_needs_the_sm4_key():
    from server.config import ConfigError, Settings

    assert Settings.from_env({}).signing_suite == "ecdsa-p256"
    assert Settings.from_env({"SIGNING_SUITE": "sm2"}).signing_suite == "sm2"
    with pytest.raises(ConfigError, match="SIGNING_SUITE: must be one of ecdsa-p256, sm2"):
        Settings.from_env({"SIGNING_SUITE": "sm9"})
    prod = {"APP_ENV": "production", "IDENTITY_ENCRYPTION_KEY": "a", "IDENTITY_INDEX_KEY": "b",
            "TOKEN_SIGNING_KEY_FILE": "/k.pem", "PKI_PASSPHRASE": "p", "SIGNING_SUITE": "sm2"}
    with pytest.raises(ConfigError, match="IDENTITY_SM4_KEY: required with SIGNING_SUITE=sm2"):
        Settings.from_env(prod)


def test_a_bad_sm4_key_names_the_variable(tmp_path: Path):
    from server.config import ConfigError, Settings
    from server.secrets import load_secrets

    settings = Settings.from_env({"DATA_DIR": str(tmp_path),
                                  "IDENTITY_SM4_KEY": base64.b64encode(os.urandom(32)).decode()})
    with pytest.raises(ConfigError, match="IDENTITY_SM4_KEY: must be base64 of exactly 16"):
        load_secrets(settings)
