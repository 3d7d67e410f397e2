"""ID numbers at rest: only ciphertext and a keyed index in the database, none in the logs."""

from __future__ import annotations

import hashlib
import json

from tests.houses.support import check, dev_cipher, owner, person, put_unit


def test_no_plain_id_number_in_the_database_rows(api, app_env, reg, db, live_server):
    p = person(api, app_env, "欧阳锋")
    unit_no, cert = put_unit(api, reg, [owner(p)])
    assert check(api, p, cert)["eligible"] is True
    [row] = db.fetch("SELECT * FROM owners WHERE unit_id = $1", unit_no)
    raw = json.dumps(row, default=str)
    assert p.id_number not in raw and p.id_number[6:14] not in raw  # not even the birth date
    assert row["id_index"] != hashlib.sha256(p.id_number.encode()).hexdigest()
    cipher = dev_cipher(app_env)
    assert row["id_index"] == cipher.index(p.id_number)
    assert cipher.decrypt(row["id_number_enc"]) == p.id_number
    [user] = db.fetch("SELECT * FROM users WHERE id = $1", p.user_id)
    assert p.id_number not in json.dumps(user, default=str)
    assert user["id_index"] == row["id_index"]  # the check finds the house by this index
    checks = db.fetch("SELECT * FROM property_checks WHERE unit_no = $1", unit_no)
    assert len(checks) == 1
    assert p.id_number not in json.dumps(checks, default=str)
    # nor in the server's log
    log = live_server.log()
    assert p.id_number not in log and "欧阳锋" not in log
