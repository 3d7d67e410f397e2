"""``POST /api/v1/properties/check`` and ``GET /properties/mine``: every reason, privacy,
and the stored record of every check."""

from __future__ import annotations

import json
import secrets
import threading

import httpx

from tests.foundation.test_http_errors import assert_error
from tests.houses.support import (
    check,
    expect,
    login,
    new_certificate_no,
    owner,
    person,
    put_restriction,
    put_unit,
)

LENDER = "中国建设银行咸宁分行"


def _codes(body: dict) -> list[str]:
    return [r["code"] for r in body["reasons"]]


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def test_a_caller_without_a_bound_identity_is_403(api):
    token, _ = login(api)
    h = {"Authorization": f"Bearer {token}"}
    assert_error(api.post("/api/v1/properties/check", json={"certificate_no": "x"}, headers=h),
                 403, "identity_not_bound")
    assert_error(api.get("/api/v1/properties/mine", headers=h), 403, "identity_not_bound")
    assert_error(api.post("/api/v1/properties/check", json={"certificate_no": "x"}), 401,
                 "unauthenticated")


def test_input_is_validated(api, app_env):
    p = person(api, app_env)
    body = assert_error(api.post("/api/v1/properties/check", json={
        "mortgage_transfer": {}, "buyers": [{"id_number": "123"}]}, headers=p.headers), 400,
        "invalid_input")
    assert set(body["error"]["details"]["fields"]) == {
        "certificate_no", "mortgage_transfer.lender", "buyers[0].id_number"}


def test_an_owner_of_a_free_house_is_eligible_and_sees_it(api, app_env, reg):
    seller, co = person(api, app_env, "王建国"), person(api, app_env, "李秀英")
    unit_no, cert = put_unit(api, reg, [owner(seller, "by_share", 60), owner(co, "by_share", 40)])
    body = check(api, seller, cert.replace("(", "（").replace(")", "）"))  # width-insensitive
    assert body["eligible"] is True and body["reasons"] == []
    unit = body["unit"]
    assert unit["unit_no"] == unit_no and unit["certificate_no"] == cert
    assert unit["structure"] == {"code": 3, "name": "钢筋混凝土"}
    assert unit["building_area"] == 118.36 and unit["inner_area"] == 96.12
    assert [(o["name_masked"], o["share"], o["is_caller"]) for o in unit["owners"]] == [
        ("王*国", 60.0, True), ("李*英", 40.0, False)]
    assert unit["owners"][0]["id_number_masked"] == (
        seller.id_number[:4] + "*" * 10 + seller.id_number[-4:])
    assert seller.id_number not in json.dumps(body) and co.id_number not in json.dumps(body)
    assert check(api, co, cert)["eligible"] is True


def test_not_owner_and_unknown_certificate_look_the_same(api, app_env, reg):
    owner_p, stranger = person(api, app_env), person(api, app_env)
    unit_no, cert = put_unit(api, reg, [owner(owner_p)])
    put_restriction(api, reg, unit_no, "CF-1", {"kind": "seizure"})
    theirs = check(api, stranger, cert)
    unknown = check(api, stranger, new_certificate_no())
    for body in (theirs, unknown):
        assert body["eligible"] is False and body["unit"] is None
        assert body["reasons"] == [{"code": "not_owner",
                                    "message": "未查询到您名下的该不动产，请核对不动产权证号"}]
        assert body["data_version"] is None
    strip = {"check_id", "checked_at"}
    assert {k: v for k, v in theirs.items() if k not in strip} == \
        {k: v for k, v in unknown.items() if k not in strip}
    assert _codes(check(api, owner_p, cert)) == ["seized"]


def test_seizure_objection_and_advance_notice_refuse(api, app_env, reg):
    p, buyer = person(api, app_env), person(api, app_env)
    for kind, code in (("seizure", "seized"), ("objection", "objection")):
        unit_no, cert = put_unit(api, reg, [owner(p)])
        assert check(api, p, cert)["eligible"] is True
        put_restriction(api, reg, unit_no, f"R-{kind}", {"kind": kind})
        body = check(api, p, cert)
        assert body["eligible"] is False and _codes(body) == [code]
        assert body["unit"]["restrictions"][0]["kind"] == kind
    unit_no, cert = put_unit(api, reg, [owner(p)])
    holder = {"name": buyer.name, "id_number": buyer.id_number}
    put_restriction(api, reg, unit_no, "YG-1", {"kind": "advance_notice", "beneficiary": holder})
    assert _codes(check(api, p, cert)) == ["advance_notice"]
    assert _codes(check(api, p, cert, buyers=[{"id_number": p.id_number}])) == ["advance_notice"]
    assert check(api, p, cert, buyers=[{"id_number": buyer.id_number}])["eligible"] is True


def test_a_mortgage_refuses_unless_transferred_with_its_lender(api, app_env, reg):
    p = person(api, app_env)
    unit_no, cert = put_unit(api, reg, [owner(p)])
    put_restriction(api, reg, unit_no, "DY-1", {"kind": "mortgage", "lender": LENDER,
                                                 "amount_fen": 30_000_000})
    body = check(api, p, cert)
    assert _codes(body) == ["mortgaged"] and body["reasons"][0]["lenders"] == [LENDER]
    wrong = check(api, p, cert, mortgage_transfer={"lender": "中国工商银行咸宁分行"})
    assert _codes(wrong) == ["mortgaged"]
    right = check(api, p, cert, mortgage_transfer={"lender": f" {LENDER} "})
    assert right["eligible"] is True and right["reasons"] == []


def test_a_filed_contract_or_accepted_registration_refuses(api, app_env, reg, db):
    p = person(api, app_env)
    unit_no, cert = put_unit(api, reg, [owner(p)])
    db.execute("UPDATE registration_units SET filed_contract_id = $1 WHERE unit_no = $2",
               "c" + secrets.token_hex(8), unit_no)
    body = check(api, p, cert)
    assert _codes(body) == ["under_filed_contract"] and body["unit"]["under_filed_contract"]
    unit_no, cert = put_unit(api, reg, [owner(p)])
    db.execute("UPDATE registration_units SET registration_accepted = $1 WHERE unit_no = $2",
               True, unit_no)
    assert _codes(check(api, p, cert)) == ["registration_accepted"]


def test_mine_lists_only_the_callers_houses(api, app_env, reg, reg_tongcheng):
    p, other = person(api, app_env), person(api, app_env)
    a, _ = put_unit(api, reg, [owner(p)])
    b, _ = put_unit(api, reg_tongcheng, [owner(p, "joint"), owner(other, "joint")])
    put_unit(api, reg, [owner(other)])
    items = expect(api.get("/api/v1/properties/mine", headers=p.headers), 200)["items"]
    assert sorted(i["unit_no"] for i in items) == sorted([a, b])
    assert all(any(o["is_caller"] for o in i["owners"]) for i in items)


def test_every_check_is_recorded_and_a_later_restriction_refuses(api, app_env, reg, db):
    p = person(api, app_env)
    unit_no, cert = put_unit(api, reg, [owner(p)])
    before = check(api, p, cert)
    put_restriction(api, reg, unit_no, "CF-9", {"kind": "seizure", "authority": "咸安区人民法院"})
    after = check(api, p, cert)
    stranger = person(api, app_env)
    hidden = check(api, stranger, cert)
    assert before["eligible"] is True and _codes(after) == ["seized"]
    rows = {r["id"]: r for r in db.fetch(
        "SELECT * FROM property_checks WHERE certificate_no = $1", cert)}
    assert set(rows) == {before["check_id"], after["check_id"], hidden["check_id"]}
    first, second, third = (rows[before["check_id"]], rows[after["check_id"]],
                            rows[hidden["check_id"]])
    assert first["user_id"] == p.user_id and first["purpose"] == "check"
    assert bool(first["eligible"]) is True and _json(first["reasons"]) == []
    assert first["data_version"] == "v1-r0" and second["data_version"] == "v1-r1"
    assert [r["code"] for r in _json(second["reasons"])] == ["seized"]
    assert _json(second["snapshot"])["active_restrictions"] == [
        {"restriction_id": "CF-9", "kind": "seizure"}]
    assert first["unit_no"] == unit_no and _json(first["inputs"])["certificate_no"] == cert
    # the stranger's check is kept too, with what was really there
    assert third["user_id"] == stranger.user_id and third["data_version"] == "v1-r1"
    assert [r["code"] for r in _json(third["reasons"])] == ["not_owner"]
    for row in rows.values():
        assert p.id_number not in json.dumps(row, default=str)


def test_checks_never_see_a_mix_of_two_restriction_states(live_server, api, app_env, reg, db):
    """Restrictions change while checks run; each recorded check must match exactly the
    state at the restriction_seq it recorded (the state after that many changes)."""
    p = person(api, app_env)
    unit_no, cert = put_unit(api, reg, [owner(p)])
    expected: dict[int, set[str]] = {0: set()}
    errors: list[BaseException] = []
    start = threading.Barrier(3)

    def change() -> None:
        try:
            with httpx.Client(base_url=live_server.base_url, timeout=30) as c:
                active: set[str] = set()
                start.wait()
                for i in range(16):
                    rid = f"CF-{i}"
                    body = put_restriction(c, reg, unit_no, rid, {"kind": "seizure"})
                    active.add(rid)
                    expected[int(body["data_version"].split("-r")[1])] = set(active)
                    if i % 2:
                        gone = f"CF-{i - 1}"
                        body = expect(c.delete(f"/registry/v1/units/{unit_no}/restrictions/"
                                               f"{gone}", headers=reg.headers), 200)
                        active.discard(gone)
                        expected[int(body["data_version"].split("-r")[1])] = set(active)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def checks() -> None:
        try:
            with httpx.Client(base_url=live_server.base_url, timeout=30) as c:
                start.wait()
                for _ in range(25):
                    check(c, p, cert)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=change), threading.Thread(target=checks),
               threading.Thread(target=checks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    rows = db.fetch("SELECT * FROM property_checks WHERE certificate_no = $1", cert)
    assert len(rows) == 50
    for row in rows:
        snap = _json(row["snapshot"])
        seq = snap["restriction_seq"]
        assert row["data_version"] == f"v1-r{seq}"
        seen = {r["restriction_id"] for r in snap["active_restrictions"]}
        assert seen == expected[seq], (seq, seen, expected[seq])
        codes = [r["code"] for r in _json(row["reasons"])]
        assert codes == (["seized"] if seen else [])
