"""``/agency/v1``: other agencies (tax, banks, public security, provident fund) read filed
contracts by their contract number, with OAuth2 client credentials of their own."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from server.http.agency_auth import agency_client
from server.http.operations import operation
from server.http.registry_auth import TOKEN_OPERATION, client_token_answer
from server.http.render import json
from server.schemas.agency import AgencyContract, ContractNo
from server.services import agency_share

bp = Blueprint("agency", url_prefix="/agency/v1")
TAG = "agencies"


@bp.post("/token", ctx_carries_token=True, ctx_error_format="oauth2")
@operation(
    "OAuth2 client credentials → agency access token", tag=TAG,
    description="The same protocol as `POST /registry/v1/token`: HTTP Basic, a form or JSON "
    "`{client_id, client_secret, grant_type?, scope?}` → `{access_token, token_type, "
    "expires_in, scope: contracts:read}`; RFC 6749 §5.2 errors. The token's audience is "
    "`agency`: the registry API refuses it, and this API refuses registry tokens.",
    **TOKEN_OPERATION)
async def token(request: Request) -> HTTPResponse:
    return json(await client_token_answer(request, request.app.ctx.agency_clients,
                                          request.app.ctx.agency_tokens,
                                          kind=lambda client: client.kind))


@bp.get("/contracts/<contract_no:str>")
@agency_client
@operation(
    "A filed contract's data items for this kind of agency (minimum necessary)", tag=TAG,
    description="Only contracts filed in the client's region; any other (another region, "
    "not filed, unknown) is 404. `items` says what the answer holds: tax `price, house, "
    "areas, parties, id_numbers, taxes`; bank `price, payment, mortgage, house, parties, "
    "id_numbers`; public_security `house, parties, id_numbers, addresses`; provident_fund "
    "`price, payment, house, buyers, id_numbers`; a revoked contract none (its status "
    "only). Every read is recorded on the contract's timeline, which its parties see "
    f"(`{agency_share.EVENT}`: agency, time, items).",
    path={"contract_no": ContractNo}, responses={200: AgencyContract},
    security=("agency", "contracts:read"), errors={429: "rate_limited"})
async def contract(request: Request, contract_no: str) -> HTTPResponse:
    ctx = request.app.ctx
    return json(await agency_share.read_contract(
        ctx.cipher, ctx.kv, request.ctx.agency, contract_no,
        per_minute=ctx.settings.agency_reads_per_minute))
