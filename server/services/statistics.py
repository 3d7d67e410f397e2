"""Statistics for the housing authority (查询统计): filings, revocations, prices per m²,
how long a contract takes from draft to filing, and the parties' ratings, per district
or per month of one region, computed by the database.

One SQL statement per request over the statistics' read model
(:mod:`server.services.filing_facts`, one narrow row per filing): the same text on
SQLite and PostgreSQL but for the parameter markers. The database filters, groups,
counts and sums, and takes the median with window functions (both backends have
them; neither has a portable ``percentile_cont``): the rows of a group are numbered
in order and the one or two middle ones averaged. What is left for Python is to
divide the exact integer sums (rounded half up) and to give every month a row.

What a row counts, for a window of days ``[from, to]`` in China time:

* ``filed``: contracts filed in the window (whatever happened to them since);
* ``revoked``: filings revoked in the window;
* ``avg_price_per_m2_fen``: the filed contracts' total price over their total
  building area (成交均价, area-weighted), in fen;
* ``median_hours_draft_to_filing``: from the draft's creation to its filing;
* ``ratings``, ``avg_rating``: the ratings (好差评) of the contracts filed in the window.

Grouped by month, a filing counts in the month it was filed, a revocation in the
month it was revoked (China time). The indexes ``(region_code, filed_at)`` and
``(region_code, revoked_at)`` of ``filing_facts`` make the window one range scan
(``benchmarks/bench_statistics.py``). Times are stored in UTC everywhere
(:mod:`server.domain.clock`), so the window's bounds are passed as UTC times.
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
# Parameter markers: SQLite's numbered ?N, asyncpg's $N.
MARKERS = {"sqlite": "?{}", "postgres": "${}"}


def statistics_sql(dialect: str, group_by: str) -> str:
    """The statement; its parameters are (region code, window start, window end)."""
    region, start, end = (MARKERS[dialect].format(i) for i in (1, 2, 3))
    filed_key, revoked_key = (("f.district", "f.district") if group_by == "district"
                              else ("f.filed_month", "f.revoked_month"))
    return f"""
WITH filed AS (
  SELECT {filed_key} AS k, f.draft_to_filing_s AS s, f.price_fen, f.building_area_dm2,
         f.ratings, f.rating_sum
  FROM filing_facts f
  WHERE f.region_code = {region} AND f.filed_at >= {start} AND f.filed_at < {end}
),
ranked AS (
  SELECT k, s, ROW_NUMBER() OVER (PARTITION BY k ORDER BY s) AS rn,
         COUNT(*) OVER (PARTITION BY k) AS n
  FROM filed
),
medians AS (
  SELECT k, AVG(s) AS median_s FROM ranked
  WHERE rn = (n + 1) / 2 OR rn = (n + 2) / 2
  GROUP BY k
),
totals AS (
  SELECT k, COUNT(*) AS filed, SUM(price_fen) AS price_sum,
         SUM(building_area_dm2) AS area_sum, SUM(ratings) AS ratings,
         SUM(rating_sum) AS rating_sum
  FROM filed GROUP BY k
),
revoked AS (
  SELECT {revoked_key} AS k, COUNT(*) AS revoked
  FROM filing_facts f
  WHERE f.region_code = {region} AND f.revoked_at >= {start} AND f.revoked_at < {end}
  GROUP BY {revoked_key}
),
keys AS (SELECT k FROM totals UNION SELECT k FROM revoked)
SELECT keys.k AS key, COALESCE(t.filed, 0) AS filed, COALESCE(v.revoked, 0) AS revoked,
       t.price_sum, t.area_sum, m.median_s, COALESCE(t.ratings, 0) AS ratings, t.rating_sum
FROM keys
LEFT JOIN totals t ON t.k = keys.k
LEFT JOIN medians m ON m.k = keys.k
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


def _ratio(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half up, exactly (both are non-negative)."""
    return (2 * numerator + denominator) // (2 * denominator)


def _row(record: dict[str, Any]) -> dict[str, Any]:
    area = int(record["area_sum"] or 0)
    median = record["median_s"]
    ratings = int(record["ratings"])
    return {"key": record["key"], "filed": int(record["filed"]),
            "revoked": int(record["revoked"]),
            # the area is in hundredths of a square metre
            "avg_price_per_m2_fen": _ratio(int(record["price_sum"]) * 100, area)
            if area else None,
            "median_hours_draft_to_filing": None if median is None
            else round(float(median) / 3600, 1),
            "avg_rating": round(int(record["rating_sum"]) / ratings, 2) if ratings else None,
            "ratings": ratings}


def _empty(key: str) -> dict[str, Any]:
    return {"key": key, "filed": 0, "revoked": 0, "avg_price_per_m2_fen": None,
            "median_hours_draft_to_filing": None, "avg_rating": None, "ratings": 0}


async def statistics(region_code: str, window: Window, group_by: str) -> dict[str, Any]:
    conn = connections.get("default")
    first, after = window.bounds()
    records = await conn.execute_query_dict(
        statistics_sql(conn.capabilities.dialect, group_by), [region_code, first, after])
    rows = [_row(r) for r in records]
    if group_by == "month":
        have = {r["key"]: r for r in rows}
        rows = [have.get(month) or _empty(month) for month in window.months()]
    return {"region_code": region_code, "from": window.start.isoformat(),
            "to": window.end.isoformat(), "group_by": group_by, "rows": rows}


def _cell(value: Any) -> Any:
    """A cell as a spreadsheet reads it: empty for null, and a text that a spreadsheet
    would take for a formula (a district named ``=…`` by the registry's data) quoted
    with a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def as_csv(answer: dict[str, Any]) -> str:
    """The rows as CSV (RFC 4180: CRLF line ends, a header line), empty cells for nulls."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in answer["rows"]:
        writer.writerow([_cell(row[c]) for c in COLUMNS])
    return out.getvalue()
