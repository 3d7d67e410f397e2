"""``GET /registry/v1/statistics``: the housing authority's statistics of its region, as
JSON or, for ``Accept: text/csv``, as CSV."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from server.http.operations import operation
from server.http.registry_auth import registry_scope
from server.http.render import json
from server.schemas.registry import Statistics, StatisticsQuery
from server.services import statistics

bp = Blueprint("registry_statistics", url_prefix="/registry/v1")
CSV = "text/csv"


def _quality(accept: str, media: str) -> float:
    """The q of ``media`` in an Accept header (0 when absent); ``*/*`` and ``text/*`` count."""
    best = 0.0
    for part in accept.split(","):
        kind, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        kind = kind.lower()
        if kind == media or kind == "*/*" or kind == media.split("/")[0] + "/*":
            # an exact match outranks a wildcard of the same q
            best = max(best, q + (0.001 if kind == media else 0.0))
    return best


def wants_csv(accept: str | None) -> bool:
    if not accept:
        return False
    csv_q = _quality(accept, CSV)
    return csv_q > 0.001 and csv_q > _quality(accept, "application/json")


@bp.get("/statistics")
@registry_scope("contracts:read")
@operation(
    "Statistics of the region: filings, revocations, price per m², draft-to-filing time, "
    "ratings", tag="registry: statistics",
    description="Per district (of the house) or per month, for the days `from`..`to` (China "
    "time, both included). `filed`: filed in the window; `revoked`: revoked in the window; "
    "`avg_price_per_m2_fen`: total price ÷ total building area of those filed; "
    "`median_hours_draft_to_filing`; `ratings`/`avg_rating`: the parties' ratings (好差评) "
    "of those filed. By month every month of the window has a row. Computed by the database "
    "over the client's region only. `Accept: text/csv` answers CSV (UTF-8, a header line, "
    "empty cells for nulls) with the same columns.",
    query=StatisticsQuery, responses={200: (Statistics, CSV)},
    security=("registry", "contracts:read"))
async def get_statistics(request: Request, query: StatisticsQuery) -> HTTPResponse:
    window = statistics.parse_window(query.from_, query.to)
    answer = await statistics.statistics(request.ctx.registry.region_code, window,
                                         query.group_by)
    if wants_csv(request.headers.get("accept")):
        name = f"statistics-{answer['region_code']}-{answer['from']}-{answer['to']}.csv"
        return HTTPResponse(statistics.as_csv(answer), content_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": f'attachment; filename="{name}"',
                                     "Vary": "Accept"})
    return json(answer, headers={"Vary": "Accept"})
