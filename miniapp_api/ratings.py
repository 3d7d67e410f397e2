"""``POST /contracts/{id}/rating``: a party rates the service once after filing (好差评)."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from server.http.auth import authenticated
from server.http.operations import operation
from server.http.render import json
from server.schemas.staff import RatingBody, RatingView
from server.schemas.types import ContractId
from server.services import ratings

bp = Blueprint("miniapp_ratings")


@bp.post("/contracts/<contract_id:str>/rating")
@authenticated
@operation(
    "Rate the service (好差评): once per party, after filing", tag="mini-program: contracts",
    description="`{score: 1..5, comment?}` (comment up to 200 characters). Only a party of "
    "the contract (404 for anyone else), only once it was filed (409 `not_filed`), and once "
    "(409 `already_rated`). Ratings are not on the timeline; the registry's statistics "
    "aggregate them (`avg_rating`, `ratings`).",
    path={"contract_id": ContractId}, body=RatingBody, responses={201: RatingView},
    security="bearer", errors={409: "not_filed, already_rated"})
async def rate(request: Request, contract_id: str, body: RatingBody) -> HTTPResponse:
    return json(await ratings.rate(request.ctx.user_id, contract_id, body.score, body.comment),
                status=201)
