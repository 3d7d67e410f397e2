"""Statistics for the housing authority (查询统计): filings, revocations, prices per m²,
how long a contract takes from draft to filing, and the parties' ratings, per district
or per month of one region, computed by the database.

One SQL statement per request, the same on SQLite and PostgreSQL but for a few
expressions (:class:`Dialect`): JSON extraction of the price, time differences
and the month in China time. The median is taken with window functions (both
backends have them; neither has a portable ``percentile_cont``): the rows of a
group are numbered in order and the one or two middle ones averaged.

What a row counts, for a window of days ``[from, to]`` in China time:

* ``filed``: contracts filed in the window (whatever happened to them since);
* ``revoked``: filings revoked in the window;
* ``avg_price_per_m2_fen``: the filed contracts' total price over their total
  building area (成交均价, area-weighted), in fen;
* ``median_hours_draft_to_filing``: from the draft's creation to its filing;
* ``ratings``, ``avg_rating``: the ratings (好差评) of the contracts filed in the window.

Grouped by month, a filing counts in the month it was filed, a revocation in the
month it was revoked; every month of the window has a row. The indexes
``(region_code, filed_at)`` and ``(region_code, revoked_at)`` on ``contracts``
make the window a range scan (``benchmarks/bench_statistics.py``).

Times are stored in UTC everywhere (:mod:`server.domain.clock`); SQLite keeps
them as ISO text, which compares in time order, so the window bounds are
passed as UTC times too.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from tortoise import connections

from server.domain import clock
from server.domain.errors import FieldProblems

GROUPS = ("district", "month")
COLUMNS = ("key", "filed", "revoked", "avg_price_per_m2_fen", "median_hours_draft_to_filing",
           "avg_rating", "ratings")
MAX_DAYS = 3660


@dataclass(frozen=True)
class Dialect:
    price: str
    area: str
    hours: str
    month: str  # a format string over one column
    param: str  # a format string over the parameter's number

    def month_of(self, column: str) -> str:
        return self.month.format(column)


DIALECTS = {
    "sqlite": Dialect(
        price="CAST(json_extract(c.terms, '$.price_fen') AS INTEGER)",
        area="CAST(u.building_area AS REAL)",
        hours="(julianday(c.filed_at) - julianday(c.created_at)) * 24.0",
        month="strftime('%Y-%m', {}, '+8 hours')",
        param="?{}"),
    "postgres": Dialect(
        price="CAST(c.terms->>'price_fen' AS NUMERIC)",
        area="u.building_area",
        hours="EXTRACT(EPOCH FROM (c.filed_at - c.created_at)) / 3600.0",
        month="to_char(({} AT TIME ZONE 'UTC') + INTERVAL '8 hours', 'YYYY-MM')",
        param="${}"),
}


def statistics_sql(dialect: Dialect, group_by: str) -> str:
    """The statement; its parameters are (region code, window start, window end)."""
    region, start, end = (dialect.param.format(i) for i in (1, 2, 3))
    if group_by == "district":
        filed_key = revoked_key = "u.district"
        revoked_join = "JOIN registration_units u ON u.unit_no = c.unit_id"
    else:
        filed_key, revoked_key = dialect.month_of("c.filed_at"), dialect.month_of("c.revoked_at")
        revoked_join = ""
    return f"""
WITH filed AS (
  SELECT {filed_key} AS k, c.id AS cid, {dialect.price} AS price, {dialect.area} AS area,
         {dialect.hours} AS hours
  FROM contracts c JOIN registration_units u ON u.unit_no = c.unit_id
  WHERE c.region_code = {region} AND c.filed_at >= {start} AND c.filed_at < {end}
),
ranked AS (
  SELECT k, hours, ROW_NUMBER() OVER (PARTITION BY k ORDER BY hours) AS rn,
         COUNT(*) OVER (PARTITION BY k) AS n
  FROM filed
),
medians AS (
  SELECT k, AVG(hours) AS median_hours FROM ranked
  WHERE rn = (n + 1) / 2 OR rn = (n + 2) / 2
  GROUP BY k
),
totals AS (
  SELECT k, COUNT(*) AS filed, SUM(price) * 1.0 / NULLIF(SUM(area), 0) AS price_per_m2
  FROM filed GROUP BY k
),
rated AS (
  SELECT f.k, COUNT(*) AS ratings, AVG(r.score * 1.0) AS avg_rating
  FROM filed f JOIN service_ratings r ON r.contract_id = f.cid
  GROUP BY f.k
),
revoked AS (
  SELECT {revoked_key} AS k, COUNT(*) AS revoked
  FROM contracts c {revoked_join}
  WHERE c.region_code = {region} AND c.revoked_at >= {start} AND c.revoked_at < {end}
  GROUP BY {revoked_key}
),
keys AS (SELECT k FROM totals UNION SELECT k FROM revoked)
SELECT keys.k AS key, COALESCE(t.filed, 0) AS filed, COALESCE(v.revoked, 0) AS revoked,
       t.price_per_m2, m.median_hours, COALESCE(r.ratings, 0) AS ratings, r.avg_rating
FROM keys
LEFT JOIN totals t ON t.k = keys.k
LEFT JOIN medians m ON m.k = keys.k
LEFT JOIN rated r ON r.k = keys.k
LEFT JOIN revoked v ON v.k = keys.k
ORDER BY keys.k"""


@dataclass(frozen=True)
class Window:
    start: date
    end: date  # inclusive

    def bounds(self) -> tuple[datetime, datetime]:
        """The window in UTC: [start 00:00 CST, the day after end 00:00 CST)."""
        first = datetime.combine(self.start, time(), clock.CST).astimezone(clock.UTC)
        after = datetime.combine(self.end + timedelta(days=1), time(), clock.CST)
        return first, after.astimezone(clock.UTC)

    def months(self) -> list[str]:
        out, year, month = [], self.start.year, self.start.month
        while (year, month) <= (self.end.year, self.end.month):
            out.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return out


def parse_window(start: str, end: str) -> Window:
    """``from``/``to`` as real dates, in order, at most :data:`MAX_DAYS` apart."""
    problems: dict[str, str] = {}
    dates: dict[str, date] = {}
    for name, value in (("from", start), ("to", end)):
        try:
            dates[name] = date.fromisoformat(value)
        except ValueError:
            problems[name] = "应为有效日期 YYYY-MM-DD"
    if not problems and dates["to"] < dates["from"]:
        problems["to"] = "不能早于 from"
    elif not problems and (dates["to"] - dates["from"]).days >= MAX_DAYS:
        problems["to"] = f"统计区间不能超过{MAX_DAYS}天"
    if problems:
        raise FieldProblems(problems)
    return Window(dates["from"], dates["to"])


def _row(record: dict[str, Any]) -> dict[str, Any]:
    price = record["price_per_m2"]
    median = record["median_hours"]
    rating = record["avg_rating"]
    return {"key": record["key"], "filed": int(record["filed"]),
            "revoked": int(record["revoked"]),
            "avg_price_per_m2_fen": None if price is None else round(float(price)),
            "median_hours_draft_to_filing": None if median is None else round(float(median), 1),
            "avg_rating": None if rating is None else round(float(rating), 2),
            "ratings": int(record["ratings"])}


def _empty(key: str) -> dict[str, Any]:
    return {"key": key, "filed": 0, "revoked": 0, "avg_price_per_m2_fen": None,
            "median_hours_draft_to_filing": None, "avg_rating": None, "ratings": 0}


async def statistics(region_code: str, window: Window, group_by: str) -> dict[str, Any]:
    conn = connections.get("default")
    dialect = DIALECTS[conn.capabilities.dialect]
    first, after = window.bounds()
    records = await conn.execute_query_dict(statistics_sql(dialect, group_by),
                                            [region_code, first, after])
    rows = [_row(r) for r in records]
    if group_by == "month":
        have = {r["key"]: r for r in rows}
        rows = [have.get(month) or _empty(month) for month in window.months()]
    return {"region_code": region_code, "from": window.start.isoformat(),
            "to": window.end.isoformat(), "group_by": group_by, "rows": rows}


def as_csv(answer: dict[str, Any]) -> str:
    """The rows as CSV (RFC 4180: CRLF line ends, a header line), empty cells for nulls."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in answer["rows"]:
        writer.writerow(["" if row[c] is None else row[c] for c in COLUMNS])
    return out.getvalue()
