"""The operator's commands: registry-client create, import-units, seed-demo."""

from __future__ import annotations

import json
from pathlib import Path

from tests.houses.support import (
    check,
    expect,
    new_id_number,
    new_unit_no,
    owner,
    put_unit,
    run_cli,
    unit_payload,
)

SEED_TABLES = {"registration_units": "unit_no", "owners": "id", "restrictions": "id",
               "users": "id", "login_identities": "id", "registry_clients": "client_id"}


def test_registry_client_create_prints_the_secret_once_and_stores_a_hash(api, app_env, db):
    out = run_cli(app_env, "registry-client", "create", "--name", "咸宁市通城县不动产登记中心",
                  "--region", "421222")
    assert out.returncode == 0, out.stderr
    creds = json.loads(out.stdout.strip().splitlines()[-1])
    assert creds["region_code"] == "421222" and creds["name"] == "咸宁市通城县不动产登记中心"
    assert len(creds["client_secret"]) >= 32
    [row] = db.fetch("SELECT * FROM registry_clients WHERE client_id = $1", creds["client_id"])
    assert row["secret_hash"].startswith("scrypt$")
    assert creds["client_secret"] not in json.dumps(row, default=str)
    body = expect(api.post("/registry/v1/token", data={
        "client_id": creds["client_id"], "client_secret": creds["client_secret"]}), 200)
    assert body["access_token"]
    listed = run_cli(app_env, "registry-client", "list")
    assert creds["client_id"] in listed.stdout and creds["client_secret"] not in listed.stdout


def test_registry_client_create_refuses_a_bad_region(app_env):
    for region in ("4212", "990101", "420000"):
        out = run_cli(app_env, "registry-client", "create", "--name", "x", "--region", region)
        assert out.returncode == 1 and "--region" in out.stderr


def _line(unit_no: str, **kw) -> str:
    return json.dumps({"unit_no": unit_no, **unit_payload(
        [owner(("王建国", new_id_number()))], **kw)}, ensure_ascii=False)


def _units(db, *unit_nos: str) -> set[str]:
    rows = db.fetch("SELECT unit_no FROM registration_units")
    return {r["unit_no"] for r in rows} & set(unit_nos)


def test_import_units_all_lines(app_env, db, tmp_path: Path):
    a, b = new_unit_no(), new_unit_no("421222")
    path = tmp_path / "units.jsonl"
    path.write_text(f"{_line(a)}\n\n{_line(b, version=4)}\n{_line(a, version=0)}\n",
                    encoding="utf-8")
    out = run_cli(app_env, "import-units", str(path))
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.strip().splitlines()
    assert lines[0] == f"line 1: {a} created"
    assert lines[2] == f"line 4: {a} stale_version (current version 1)"
    assert json.loads(lines[-1]) == {"imported": 3, "created": 2, "updated": 0, "unchanged": 0,
                                     "stale_version": 1}
    assert _units(db, a, b) == {a, b}
    # --region refuses units of another region
    out = run_cli(app_env, "import-units", str(path), "--region", "421202")
    assert out.returncode == 1 and "line 3: unit_no:" in out.stdout


def test_import_units_reports_each_bad_line_and_imports_nothing(app_env, db, tmp_path: Path):
    good, bad_id, bad_unit = new_unit_no(), new_unit_no(), new_unit_no()[:27]
    broken = json.loads(_line(bad_id))
    broken["owners"][0]["id_number"] = broken["owners"][0]["id_number"][:17] + "Y"
    path = tmp_path / "units.jsonl"
    path.write_text("\n".join([_line(good), json.dumps(broken, ensure_ascii=False),
                               _line(bad_unit), "{not json"]) + "\n", encoding="utf-8")
    out = run_cli(app_env, "import-units", str(path))
    assert out.returncode == 1
    report = out.stdout.strip().splitlines()
    assert report[0].startswith("line 2: owners[0].id_number: ")
    assert report[1].startswith("line 3: unit_no: ")
    assert report[2].startswith("line 4: invalid_json")
    summary = json.loads(report[-1])
    assert summary["imported"] == 0 and summary["error_lines"] == [2, 3, 4]
    assert _units(db, good, bad_id) == set()


def test_import_units_rolls_back_when_a_later_line_conflicts(api, app_env, db, reg,
                                                             tmp_path: Path):
    _, taken = put_unit(api, reg, [owner(("张伟", new_id_number()))])
    first, second = new_unit_no(), new_unit_no()
    path = tmp_path / "units.jsonl"
    path.write_text(f"{_line(first)}\n{_line(second, certificate_no=taken)}\n", encoding="utf-8")
    out = run_cli(app_env, "import-units", str(path))
    assert out.returncode == 1
    assert "line 2: certificate_no_in_use" in out.stdout and "nothing imported" in out.stdout
    assert _units(db, first, second) == set()


def _dump(db) -> dict[str, list[dict]]:
    return {t: db.fetch(f"SELECT * FROM {t} ORDER BY {pk}") for t, pk in SEED_TABLES.items()}


def test_seed_demo_is_idempotent_and_its_logins_work(api, app_env, db):
    first = run_cli(app_env, "seed-demo")
    assert first.returncode == 0, first.stderr
    before = _dump(db)
    second = run_cli(app_env, "seed-demo")
    assert second.returncode == 0, second.stderr
    assert "Changes: none (already seeded)" in second.stdout
    assert _dump(db) == before
    strip = [ln for ln in first.stdout.splitlines() if not ln.startswith("Changes:")]
    assert strip == [ln for ln in second.stdout.splitlines() if not ln.startswith("Changes:")]
    rows = {ln.split("|")[1].strip(" `"): [c.strip() for c in ln.split("|")[1:-1]]
            for ln in second.stdout.splitlines() if ln.startswith("| `demo-")}
    assert len(rows) >= 8
    assert rows["demo-liufang"][4] == "not eligible: seized"
    assert rows["demo-wangjianguo"][4] == "eligible"

    def login(code: str):
        token = expect(api.post("/api/v1/auth/login",
                                json={"provider": "sandbox", "code": code}), 200)
        return type("P", (), {"headers": {"Authorization": f"Bearer {token['access_token']}"}})

    certificate = {code: row[3].split(" (")[0] for code, row in rows.items()}
    seized = check(api, login("demo-liufang"), certificate["demo-liufang"])
    assert [r["code"] for r in seized["reasons"]] == ["seized"]
    zhang = login("demo-zhangwei")
    assert [r["code"] for r in check(api, zhang, certificate["demo-zhangwei"])["reasons"]] == [
        "mortgaged"]
    assert check(api, zhang, certificate["demo-zhangwei"],
                 mortgage_transfer={"lender": "中国建设银行咸宁分行"})["eligible"] is True
    assert check(api, login("demo-chenming"), certificate["demo-chenming"])["eligible"] is True
    client = json.loads(second.stdout.strip().splitlines()[-1])
    assert client["region_code"] == "421202"
    token = expect(api.post("/registry/v1/token", json={
        "client_id": client["client_id"], "client_secret": client["client_secret"]}), 200)
    assert token["access_token"]
