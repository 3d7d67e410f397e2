"""``/registry/v1``: the registration office's token endpoint and its unit pushes.

Other registry endpoints (the contract feed, filed PDFs, acceptance) live in
their own modules with their own Blueprint under the same prefix, guarded by
:func:`server.http.registry_auth.registry_scope`, and are added next to this
one in :func:`server.web.blueprints`.

Region isolation: a client only sees units whose ``unit_no`` starts with its
region code; any other unit, existing or not, is 404, so a client cannot even
learn what exists elsewhere.
"""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from server.domain.units import parse_restriction, parse_unit, unit_no_problem
from server.errors import InvalidInput, NotFound
from server.http.operations import operation
from server.http.registry_auth import TOKEN_OPERATION, client_token_answer, registry_scope
from server.http.render import json
from server.schemas.miniapp import UnitView
from server.schemas.registry import (
    RestrictionAnswer,
    RestrictionBody,
    RestrictionId,
    UnitBody,
    UnitNo,
    UnitUpsert,
)

PREFIX = "/registry/v1"
bp = Blueprint("registry_units", url_prefix=PREFIX)
TAG = "registry: units"
_UNIT = {"unit_no": UnitNo}
_RESTRICTION = {"unit_no": UnitNo, "restriction_id": RestrictionId}

def _visible_unit(request: Request, unit_no: str) -> str:
    """400 for a malformed unit number, 404 for one outside the caller's region."""
    if (reason := unit_no_problem(unit_no)) is not None:
        raise InvalidInput({"unit_no": reason})
    if unit_no[:6] != request.ctx.registry.region_code:
        raise NotFound("不动产单元不存在")
    return unit_no


@bp.post("/token", ctx_carries_token=True, ctx_error_format="oauth2")
@operation(
    "OAuth2 client credentials → registry access token", tag="registry: auth",
    description="Credentials by HTTP Basic, `application/x-www-form-urlencoded` or JSON "
    "`{client_id, client_secret, grant_type?: client_credentials, scope?}`. Answers "
    "`{access_token, token_type: Bearer, expires_in, scope}` (`Cache-Control: no-store`). "
    "Errors are RFC 6749 §5.2 bodies `{error, error_description}`, not the envelope: a wrong "
    "client or secret is 401 `invalid_client`; too many failures per client_id or address "
    "429 `temporarily_unavailable` with Retry-After. The token is an ES256 JWT with "
    "audience `registry`.",
    **TOKEN_OPERATION)
async def token(request: Request) -> HTTPResponse:
    return json(await client_token_answer(request, request.app.ctx.registry_clients,
                                          request.app.ctx.registry_tokens))


@bp.get("/units/<unit_no:str>")
@registry_scope("units:read")
@operation("A unit as stored (owners masked, every restriction incl. lifted ones)", tag=TAG,
           path=_UNIT, responses={200: UnitView}, security=("registry", "units:read"))
async def get_unit(request: Request, unit_no: str) -> HTTPResponse:
    _visible_unit(request, unit_no)
    return json(await request.app.ctx.unit_registry.registry_view(unit_no))


@bp.put("/units/<unit_no:str>")
@registry_scope("units:write")
@operation(
    "Upsert a unit with its owners; an older source_version is not applied and answers "
    "200 {applied: false, reason: stale_version, current_version}", tag=TAG,
    description="Ordering by `source_version`: newer replaces the unit and all its owners "
    "(200 `result: updated`, or 201 `result: created`); the same version with the same "
    "content is an idempotent repeat (200 `result: unchanged`); the same version with other "
    "content is 409 `version_conflict`; an older version changes nothing and answers 200 "
    "`{applied: false, reason: stale_version, current_version}` (not an error: a late "
    "delivery is normal). The region is the first six characters of `unit_no`; a unit of "
    "another region is 404. Owners: `kind` sole | joint (共同共有, no shares) | by_share "
    "(按份共有, shares summing to 100). `structure` 1..6; areas in m², inner ≤ building. "
    "Every invalid field is named in `details.fields`, e.g. `owners[1].id_number`.",
    path=_UNIT, body=UnitBody, responses={200: UnitUpsert, 201: UnitUpsert},
    security=("registry", "units:write"), errors={409: "version_conflict"})
async def put_unit(request: Request, unit_no: str, body: UnitBody) -> HTTPResponse:
    _visible_unit(request, unit_no)
    data = parse_unit(unit_no, body.model_dump(exclude_unset=True))
    result = await request.app.ctx.unit_registry.upsert(data)
    return json(result.as_dict(), status=201 if result.result == "created" else 200)


@bp.put("/units/<unit_no:str>/restrictions/<restriction_id:str>")
@registry_scope("units:write")
@operation(
    "Add a restriction (seizure | mortgage | objection | advance_notice)", tag=TAG,
    description="`{kind, source_time?, note?}` plus, for `mortgage`, `lender` and "
    "`amount_fen`; for `seizure`, optional `authority` and `case_no`; for `advance_notice`, "
    "`beneficiary: {name?, id_number}`. 201 when new, 200 when repeated (`changed: false`) "
    "or corrected. A lifted restriction cannot be re-added under the same id (409 "
    "`restriction_lifted`).",
    path=_RESTRICTION, body=RestrictionBody,
    responses={200: RestrictionAnswer, 201: RestrictionAnswer},
    security=("registry", "units:write"), errors={409: "restriction_lifted"})
async def put_restriction(request: Request, unit_no: str, restriction_id: str,
                          body: RestrictionBody) -> HTTPResponse:
    _visible_unit(request, unit_no)
    data = parse_restriction(restriction_id, body.model_dump(exclude_unset=True))
    result = await request.app.ctx.unit_registry.put_restriction(unit_no, restriction_id, data)
    return json(result.as_dict(), status=201 if result.created else 200)


@bp.delete("/units/<unit_no:str>/restrictions/<restriction_id:str>")
@registry_scope("units:write")
@operation("Lift a restriction (the record stays, inactive, with lifted_at)", tag=TAG,
           path=_RESTRICTION, responses={200: RestrictionAnswer},
           security=("registry", "units:write"))
async def lift_restriction(request: Request, unit_no: str, restriction_id: str
                           ) -> HTTPResponse:
    _visible_unit(request, unit_no)
    result = await request.app.ctx.unit_registry.lift_restriction(unit_no, restriction_id)
    return json(result.as_dict())
