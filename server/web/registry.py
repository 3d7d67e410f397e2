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

from sanic import Blueprint, Request, Sanic
from sanic.response import HTTPResponse
from sanic_ext import openapi

from server.domain.units import parse_restriction, parse_unit, unit_no_problem
from server.errors import ApiError, InvalidInput, NotFound
from server.http.body import json_object
from server.http.peer import client_address
from server.http.registry_auth import client_credentials, registry_scope
from server.http.render import json

PREFIX = "/registry/v1"
bp = Blueprint("registry_units", url_prefix=PREFIX)

_UNIT_EXAMPLE = {
    "certificate_no": "鄂(2023)咸宁市不动产权第0012345号", "house_no": "XA-0012-03-0502",
    "location": {"city": "咸宁市", "district": "咸安区", "community": "温泉路88号温泉花园",
                 "building": "3栋", "unit": "2单元", "room": "502", "floor": "5",
                 "total_floors": "18"},
    "building_area": 118.36, "inner_area": 96.12, "structure": 3, "planned_use": "住宅",
    "owners": [{"name": "王建国", "id_number": "421202197503123518", "share": 50,
                "kind": "by_share"}],
    "source_version": 7,
}


@bp.before_server_start
async def _describe_security(app: Sanic) -> None:
    """The OAuth2 scheme the ``secured("registry")`` routes refer to in ``/docs``."""
    app.ext.openapi.add_security_scheme(
        "registry", "oauth2", description="Client credentials of a registration office",
        flows={"clientCredentials": {"tokenUrl": f"{PREFIX}/token", "scopes": {
            "units:read": "read units of the client's region",
            "units:write": "push units and restrictions of the client's region",
            "contracts:read": "read filed contracts of the client's region",
            "contracts:write": "report acceptance / completion of registration"}}})


def _visible_unit(request: Request, unit_no: str) -> str:
    """400 for a malformed unit number, 404 for one outside the caller's region."""
    if (reason := unit_no_problem(unit_no)) is not None:
        raise InvalidInput({"unit_no": reason})
    if unit_no[:6] != request.ctx.registry.region_code:
        raise NotFound("不动产单元不存在")
    return unit_no


@bp.post("/token", ctx_carries_token=True, ctx_error_format="oauth2")
@openapi.summary("OAuth2 client credentials → registry access token")
@openapi.description(
    "Credentials by HTTP Basic, `application/x-www-form-urlencoded` or JSON "
    "`{client_id, client_secret, grant_type?: client_credentials, scope?}`. Answers "
    "`{access_token, token_type: Bearer, expires_in, scope}` (`Cache-Control: no-store`). "
    "Errors are RFC 6749 §5.2 bodies `{error, error_description}`, not the envelope: a wrong "
    "client or secret is 401 `invalid_client`; too many failures per client_id or address "
    "429 `temporarily_unavailable` with Retry-After. The token is an ES256 JWT with "
    "audience `registry`.")
@openapi.body({"application/json": {"client_id": str, "client_secret": str}})
async def token(request: Request) -> HTTPResponse:
    creds = client_credentials(request)
    client = await request.app.ctx.registry_clients.authenticate(
        creds.client_id, creds.client_secret, client_address(request))
    allowed = client.scopes.split()
    scopes = allowed
    if creds.scope:
        scopes = creds.scope.split()
        if not set(scopes) <= set(allowed):
            raise ApiError("申请的权限超出该客户端的授权范围", code="invalid_scope",
                           details={"allowed": allowed})
    tokens = request.app.ctx.registry_tokens
    access = tokens.issue(client.client_id, client.region_code, scopes)
    return json({"access_token": access, "token_type": "Bearer", "expires_in": tokens.ttl_s,
                 "scope": " ".join(scopes)})


@bp.get("/units/<unit_no:str>")
@openapi.summary("A unit as stored (owners masked, every restriction incl. lifted ones)")
@openapi.secured("registry")
@registry_scope("units:read")
async def get_unit(request: Request, unit_no: str) -> HTTPResponse:
    _visible_unit(request, unit_no)
    return json(await request.app.ctx.unit_registry.registry_view(unit_no))


@bp.put("/units/<unit_no:str>")
@openapi.summary(
    "Upsert a unit with its owners; an older source_version is not applied and answers "
    "200 {applied: false, reason: stale_version, current_version}")
@openapi.description(
    "Ordering by `source_version`: newer replaces the unit and all its owners (200 "
    "`result: updated`, or 201 `result: created`); the same version with the same content "
    "is an idempotent repeat (200 `result: unchanged`); the same version with other content "
    "is 409 `version_conflict`; an older version changes nothing and answers 200 "
    "`{applied: false, reason: stale_version, current_version}` (not an error: a late "
    "delivery is normal). The region is the first six characters of `unit_no`; a unit of "
    "another region is 404. Owners: `kind` sole | joint (共同共有, no shares) | by_share "
    "(按份共有, shares summing to 100). `structure` 1..6; areas in m², inner ≤ building. "
    "Every invalid field is named in `details.fields`, e.g. `owners[1].id_number`.")
@openapi.body({"application/json": _UNIT_EXAMPLE})
@openapi.secured("registry")
@registry_scope("units:write")
async def put_unit(request: Request, unit_no: str) -> HTTPResponse:
    _visible_unit(request, unit_no)
    data = parse_unit(unit_no, json_object(request))
    result = await request.app.ctx.unit_registry.upsert(data)
    return json(result.as_dict(), status=201 if result.result == "created" else 200)


@bp.put("/units/<unit_no:str>/restrictions/<restriction_id:str>")
@openapi.summary("Add a restriction (seizure | mortgage | objection | advance_notice)")
@openapi.description(
    "`{kind, source_time?, note?}` plus, for `mortgage`, `lender` and `amount_fen`; for "
    "`seizure`, optional `authority` and `case_no`; for `advance_notice`, `beneficiary: "
    "{name?, id_number}`. 201 when new, 200 when repeated (`changed: false`) or corrected. "
    "A lifted restriction cannot be re-added under the same id (409 `restriction_lifted`).")
@openapi.body({"application/json": {"kind": "mortgage", "lender": "中国建设银行咸宁分行",
                                    "amount_fen": 50_000_000,
                                    "source_time": "2024-05-01T09:30:00+08:00"}})
@openapi.secured("registry")
@registry_scope("units:write")
async def put_restriction(request: Request, unit_no: str, restriction_id: str) -> HTTPResponse:
    _visible_unit(request, unit_no)
    data = parse_restriction(restriction_id, json_object(request))
    result = await request.app.ctx.unit_registry.put_restriction(unit_no, restriction_id, data)
    return json(result.as_dict(), status=201 if result.created else 200)


@bp.delete("/units/<unit_no:str>/restrictions/<restriction_id:str>")
@openapi.summary("Lift a restriction (the record stays, inactive, with lifted_at)")
@openapi.secured("registry")
@registry_scope("units:write")
async def lift_restriction(request: Request, unit_no: str, restriction_id: str
                           ) -> HTTPResponse:
    _visible_unit(request, unit_no)
    result = await request.app.ctx.unit_registry.lift_restriction(unit_no, restriction_id)
    return json(result.as_dict())
