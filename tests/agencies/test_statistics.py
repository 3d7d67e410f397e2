"""Statistics for the housing authority (seed 003 查询统计): per district or month of the
client's region, computed by the database; JSON or CSV.

Two angles: real sales over the API with their times moved to known values (the
numbers are checked exactly), and thousands of generated rows whose statistics are
recomputed here in Python and compared with the database's (medians of odd and even
counts, month boundaries in China time, revocations in other months)."""

from __future__ import annotations

import csv
import io
import statistics as py_stats
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction

import httpx
import pytest

from server.domain import clock
from tests import sale as s
from tests.agencies import support as a
from tests.db import with_db
from tests.live import ROOT, LiveServer

CST = clock.CST


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _house(api: httpx.Client, client: s.RegistryClient, owner: s.Person, district: str,
           area: str) -> str:
    unit_no = s.new_unit_no(client.region)
    payload = s.unit_payload([owner])
    payload["location"]["district"] = district
    payload["building_area"], payload["inner_area"] = area, "40.00"
    s.expect(api.put(f"/registry/v1/units/{unit_no}", json=payload, headers=client.headers),
             201)
    return payload["certificate_no"]


def _sale(api, live_server, client, district: str, area: str) -> s.Sale:
    seller, buyer = s.person(api), s.person(api)
    cert = _house(api, client, seller, district, area)
    contract = s.create_draft(api, seller, "seller", cert, [seller], [buyer])
    s.invite_and_accept(api, contract, seller, buyer)
    s.confirm_all(api, contract["id"], [seller, buyer])
    for who in (seller, buyer):
        s.expect(s.sign(api, contract["id"], who), 201)
    return s.Sale(contract["id"], [seller], [buyer], "", cert, client)


def _move(env: dict[str, str], contract_id: str, **times: datetime) -> None:
    """Move a filed contract's times, and write its statistics row again as filing and
    revocation write it."""
    from server.models import Contract
    from server.services import filing_facts

    async def run() -> None:
        await Contract.filter(id=contract_id).update(**times)
        contract = await Contract.get(id=contract_id)
        await filing_facts.record_filing(contract)
        if contract.revoked_at is not None:
            await filing_facts.record_revocation(contract)

    with_db(env, run)


@pytest.fixture(scope="module")
def region_sales(live_server):
    """Three filed sales in a region of their own: two in 咸安区, one in 通山县 (the third
    later revoked), with draft and filing times moved to known values."""
    region = a.new_region()
    with httpx.Client(base_url=live_server.base_url, timeout=60) as api:
        client = s.registry_client(live_server, api, region=region)
        other = s.registry_client(live_server, api, region=a.new_region())
        price = s.terms()["price_fen"]
        one = _sale(api, live_server, client, "咸安区", "100.00")
        two = _sale(api, live_server, client, "咸安区", "50.00")
        three = _sale(api, live_server, client, "通山县", "80.00")
        # filed 2026-01-31 23:30 CST (15:30 UTC), 10 hours after the draft
        _move(live_server.env, one.contract_id, created_at=_at("2026-01-31T13:30:00+08:00"),
              filed_at=_at("2026-01-31T23:30:00+08:00"))
        # filed 2026-02-01 00:30 CST (February in China, still January 31st in UTC), 30 h
        _move(live_server.env, two.contract_id, created_at=_at("2026-01-30T18:30:00+08:00"),
              filed_at=_at("2026-02-01T00:30:00+08:00"))
        # filed 2026-02-10, 4 h; revoked 2026-03-05
        _move(live_server.env, three.contract_id, created_at=_at("2026-02-10T08:00:00+08:00"),
              filed_at=_at("2026-02-10T12:00:00+08:00"), status="revoked",
              revoked_at=_at("2026-03-05T09:00:00+08:00"))
        for who, score in ((one.sellers[0], 5), (one.buyers[0], 4), (three.buyers[0], 1)):
            cid = one.contract_id if who in one.people else three.contract_id
            s.expect(api.post(f"/api/v1/contracts/{cid}/rating", json={"score": score},
                              headers=who.headers), 201)
    return {"client": client, "other": other, "price": price}


def _stats(api: httpx.Client, client: s.RegistryClient, query: str, **headers: str
           ) -> httpx.Response:
    return api.get(f"/registry/v1/statistics?{query}", headers={**client.headers, **headers})


def test_by_month_in_china_time(api, region_sales):
    price = region_sales["price"]
    body = s.expect(_stats(api, region_sales["client"],
                           "from=2026-01-01&to=2026-03-31&group_by=month"), 200)
    assert body["group_by"] == "month" and body["from"] == "2026-01-01"
    rows = {r["key"]: r for r in body["rows"]}
    assert list(rows) == ["2026-01", "2026-02", "2026-03"]
    assert rows["2026-01"] == {"key": "2026-01", "filed": 1, "revoked": 0,
                               "avg_price_per_m2_fen": round(price / 100),
                               "median_hours_draft_to_filing": 10.0, "avg_rating": 4.5,
                               "ratings": 2}
    assert rows["2026-02"] == {"key": "2026-02", "filed": 2, "revoked": 0,
                               "avg_price_per_m2_fen": round(2 * price / 130),
                               "median_hours_draft_to_filing": 17.0, "avg_rating": 1.0,
                               "ratings": 1}
    assert rows["2026-03"] == {"key": "2026-03", "filed": 0, "revoked": 1,
                               "avg_price_per_m2_fen": None,
                               "median_hours_draft_to_filing": None, "avg_rating": None,
                               "ratings": 0}


def test_by_district_and_the_window(api, region_sales):
    price = region_sales["price"]
    body = s.expect(_stats(api, region_sales["client"],
                           "from=2026-01-31&to=2026-03-05&group_by=district"), 200)
    assert body["rows"] == [
        {"key": "咸安区", "filed": 2, "revoked": 0, "avg_price_per_m2_fen": round(2 * price / 150),
         "median_hours_draft_to_filing": 20.0, "avg_rating": 4.5, "ratings": 2},
        {"key": "通山县", "filed": 1, "revoked": 1, "avg_price_per_m2_fen": round(price / 80),
         "median_hours_draft_to_filing": 4.0, "avg_rating": 1.0, "ratings": 1},
    ]
    # the window's days are China days: from 2026-02-01 leaves out 23:30 on January 31st
    body = s.expect(_stats(api, region_sales["client"],
                           "from=2026-02-01&to=2026-02-01&group_by=district"), 200)
    assert body["rows"] == [{"key": "咸安区", "filed": 1, "revoked": 0,
                             "avg_price_per_m2_fen": round(price / 50),
                             "median_hours_draft_to_filing": 30.0, "avg_rating": None,
                             "ratings": 0}]


def test_csv_on_request(api, region_sales):
    got = _stats(api, region_sales["client"], "from=2026-01-01&to=2026-03-31&group_by=month",
                 Accept="text/csv")
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    assert got.headers["vary"] == "Accept" and "attachment" in got.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(got.text)))
    assert list(rows[0]) == ["key", "filed", "revoked", "avg_price_per_m2_fen",
                             "median_hours_draft_to_filing", "avg_rating", "ratings"]
    assert [r["key"] for r in rows] == ["2026-01", "2026-02", "2026-03"]
    assert rows[2]["revoked"] == "1" and rows[2]["avg_price_per_m2_fen"] == ""
    assert got.text.endswith("\r\n")
    json_wins = _stats(api, region_sales["client"], "from=2026-01-01&to=2026-01-31",
                       Accept="application/json, text/csv;q=0.5")
    assert json_wins.headers["content-type"].startswith("application/json")
    assert _stats(api, region_sales["client"], "from=2026-01-01&to=2026-01-31",
                  Accept="text/*").headers["content-type"].startswith("text/csv")


def test_csv_cells_a_spreadsheet_would_run_are_quoted():
    from server.services.statistics import as_csv

    row = {"key": "=HYPERLINK(\"http://x\")", "filed": 1, "revoked": 0,
           "avg_price_per_m2_fen": None, "median_hours_draft_to_filing": 1.5,
           "avg_rating": None, "ratings": 0}
    [parsed] = list(csv.DictReader(io.StringIO(as_csv({"rows": [row]}))))
    assert parsed["key"] == "'=HYPERLINK(\"http://x\")" and parsed["avg_rating"] == ""
    assert parsed["median_hours_draft_to_filing"] == "1.5"


def test_only_the_clients_region(api, region_sales):
    body = s.expect(_stats(api, region_sales["other"],
                           "from=2026-01-01&to=2026-03-31&group_by=district"), 200)
    assert body["rows"] == [] and body["region_code"] == region_sales["other"].region
    body = s.expect(_stats(api, region_sales["other"], "from=2026-01-01&to=2026-02-28"), 200)
    assert [r["filed"] for r in body["rows"]] == [0, 0]


@pytest.mark.parametrize("query, field", [
    ("to=2026-01-01", "from"), ("from=2026-01-01", "to"),
    ("from=2026-02-30&to=2026-03-01", "from"), ("from=2026-1-1&to=2026-03-01", "from"),
    ("from=2026-03-01&to=2026-02-01", "to"), ("from=2016-01-01&to=2026-12-31", "to"),
    ("from=2026-01-01&to=2026-02-01&group_by=week", "group_by"),
    ("from=2026-01-01&from=2026-01-02&to=2026-02-01", "from"),
    ("from=２０２６-01-01&to=2026-02-01", "from"),
])
def test_bad_queries_are_400_naming_the_field(api, region_sales, query, field):
    got = _stats(api, region_sales["client"], query)
    assert got.status_code == 400, got.text
    assert field in got.json()["error"]["details"]["fields"], got.json()


# --- the database's numbers against a recomputation ---------------------------------------


def _expected(rows: list[dict], ratings: dict[str, tuple[int, int]], first: date, last: date,
              group_by: str, region: str) -> list[dict]:
    lo = datetime.combine(first, datetime.min.time(), CST)
    hi = datetime.combine(last + timedelta(days=1), datetime.min.time(), CST)
    groups: dict[str, dict] = defaultdict(lambda: {"filed": [], "revoked": 0})
    for r in rows:
        if r["region_code"] != region:
            continue
        for column in ("filed_at", "revoked_at"):
            at = r[column]
            if at is None or not lo <= at < hi:
                continue
            key = r["district"] if group_by == "district" else at.astimezone(CST).strftime("%Y-%m")
            if column == "filed_at":
                groups[key]["filed"].append(r)
            else:
                groups[key]["revoked"] += 1
    if group_by == "month":
        month = first.replace(day=1)
        while month <= last:
            groups[month.strftime("%Y-%m")]  # noqa: B018 - every month has a row
            month = (month + timedelta(days=32)).replace(day=1)
    out = []
    for key in sorted(groups):
        g = groups[key]
        filed = g["filed"]
        count = sum(ratings[r["id"]][0] for r in filed)
        total = sum(ratings[r["id"]][1] for r in filed)
        seconds = [r["seconds"] for r in filed]
        price_per_dm2 = Fraction(sum(r["price"] for r in filed) * 100,
                                 sum(r["area"] for r in filed)) if filed else None
        out.append({
            "key": key, "filed": len(filed), "revoked": g["revoked"],
            "avg_price_per_m2_fen": None if price_per_dm2 is None
            else int(price_per_dm2 + Fraction(1, 2)),  # half up
            "median_hours_draft_to_filing": round(float(py_stats.median(seconds)) / 3600, 1)
            if seconds else None,
            "avg_rating": round(total / count, 2) if count else None,
            "ratings": count})
    return out


@pytest.fixture(scope="module")
def generated(backend, tmp_path_factory):
    """4,001 generated contracts in a database of their own (``benchmarks/stats_data.py``),
    and their statistics rows as read back."""
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import stats_data

    env = backend.new_database_env(tmp_path_factory.mktemp("stats"))
    LiveServer(env).migrate()

    async def fill_and_read():
        from server.models import FilingFact

        await stats_data.populate(4001, regions=3)
        rows, ratings = [], {}
        for f in await FilingFact.all():
            rows.append({"id": f.contract_id, "region_code": f.region_code,
                         "filed_at": f.filed_at, "revoked_at": f.revoked_at,
                         "seconds": f.draft_to_filing_s, "price": f.price_fen,
                         "district": f.district, "area": f.building_area_dm2})
            ratings[f.contract_id] = (f.ratings, f.rating_sum)
        return rows, ratings

    rows, ratings = with_db(env, fill_and_read)
    assert sum(n for n, _ in ratings.values()) > 500
    return env, rows, ratings


@pytest.mark.parametrize("group_by", ["month", "district"])
@pytest.mark.parametrize("first, last", [("2024-01-01", "2026-12-31"), ("2025-03-15",
                                                                          "2025-04-30"),
                                         ("2026-02-01", "2026-02-07")])
def test_the_database_agrees_with_a_recomputation(generated, group_by, first, last):
    from server.services import statistics

    env, rows, ratings = generated
    region = "430102"
    window = statistics.parse_window(first, last)
    answer = with_db(env, lambda: statistics.statistics(region, window, group_by))
    expected = _expected(rows, ratings, window.start, window.end, group_by, region)
    assert answer["rows"] == expected
    assert sum(r["filed"] for r in expected) > 0


def test_a_filing_counts_at_once(api, live_server):
    """No time moved: the filing's own transaction wrote its statistics row."""
    region = a.new_region()
    client = s.registry_client(live_server, api, region=region)
    sale = _sale(api, live_server, client, "崇阳县", "125.00")
    today = datetime.now(CST).date().isoformat()
    body = s.expect(_stats(api, client, f"from={today}&to={today}&group_by=district"), 200)
    [row] = body["rows"]
    assert row["key"] == "崇阳县" and row["filed"] == 1 and row["revoked"] == 0
    assert row["avg_price_per_m2_fen"] == round(s.terms()["price_fen"] / 125)
    assert 0 <= row["median_hours_draft_to_filing"] < 1 and row["ratings"] == 0
    s.expect(api.post(f"/api/v1/contracts/{sale.contract_id}/rating", json={"score": 2},
                      headers=sale.buyers[0].headers), 201)
    body = s.expect(_stats(api, client, f"from={today}&to={today}&group_by=month"), 200)
    assert body["rows"][0]["ratings"] == 1 and body["rows"][0]["avg_rating"] == 2.0


def _before_the_statistics() -> str:
    """The migration the statistics' one depends on (whatever its number is now)."""
    import importlib

    [path] = [p for p in (ROOT / "server" / "migrations").glob("0*.py")
              if "backfill_filing_facts" in p.read_text()]
    module = importlib.import_module(f"server.migrations.{path.stem}")
    [(_, name)] = module.Migration.dependencies
    return name


def test_the_migration_writes_the_rows_of_earlier_filings(fresh_env):
    """Back to the schema before the statistics, and forward again: the migration's
    backfill writes the row of a filing made before it, as filing writes it."""
    from tortoise.migrations.api import migrate

    from server.config import Settings
    from server.db import tortoise_config
    from server.models import FilingFact

    with LiveServer(fresh_env).serving() as server, \
            httpx.Client(base_url=server.base_url, timeout=60) as api:
        client = s.registry_client(server, api, region=a.new_region())
        sale = _sale(api, server, client, "通城县", "90.00")

    def facts() -> list[dict]:
        async def run() -> list[dict]:
            return [dict(f) for f in await FilingFact.all().values()]
        return with_db(fresh_env, run)

    before = facts()
    assert [f["contract_id"] for f in before] == [sale.contract_id]
    config = tortoise_config(Settings.from_env(fresh_env))

    async def back_and_forth() -> None:
        from tortoise import Tortoise

        await migrate(config=config, target=f"models.{_before_the_statistics()}")
        await Tortoise.close_connections()
        await migrate(config=config)
        await Tortoise.close_connections()

    import asyncio
    asyncio.run(back_and_forth())
    assert facts() == before
