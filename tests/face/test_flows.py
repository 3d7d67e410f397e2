"""The shared helpers of tests/flows.py work on the default live server (derived sandbox keys)."""

from __future__ import annotations

import secrets

from server.domain.identity import id_number_problem
from tests import flows
from tests import sale as s


def test_make_id_number_has_a_valid_check_digit():
    for seq in (0, 1, 7, 123, 999):
        number = flows.make_id_number(seq=seq)
        assert id_number_problem(number) is None
        assert number.startswith("42120219850312")
    assert flows.make_id_number("110101", "20000229", 5)[:17] == "11010120000229005"
    assert id_number_problem(flows.make_id_number()) is None


def test_bind_then_passed_sign_verification(live_server, api):
    token = flows.login(api, "flows-" + secrets.token_hex(4))
    id_number = flows.make_id_number()
    bound = flows.bind_identity(api, token, "王建国", id_number)
    assert bound["status"] == "passed"
    me = api.get("/api/v1/me", headers=flows.auth(token)).json()
    assert me["real_name_verified"] is True
    assert me["id_number_masked"] == id_number[:4] + "*" * 10 + id_number[-4:]
    seller = s.Person("王建国", id_number, token)
    sale = s.sale_in_signing(live_server, api, seller=seller)
    fv_id = flows.passed_verification(api, token, "sign", sale.contract_id)
    shown = api.get(f"/api/v1/face-verifications/{fv_id}", headers=flows.auth(token)).json()
    assert shown["status"] == "passed" and shown["purpose"] == "sign"
    assert shown["contract_id"] == sale.contract_id and shown["consumed"] is False
