"""The parties' rating of the service (好差评, seed 004): once per party, after filing."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests import sale as s


@pytest.fixture(scope="module")
def filed(live_server):
    with httpx.Client(base_url=live_server.base_url, timeout=60) as api:
        return s.filed_sale(live_server, api)


def _rate(api: httpx.Client, cid: str, who: s.Person, body: object, **headers: str
          ) -> httpx.Response:
    return api.post(f"/api/v1/contracts/{cid}/rating", json=body,
                    headers={**who.headers, **headers})


def test_each_party_rates_once(api, filed):
    seller, buyer = filed.sellers[0], filed.buyers[0]
    got = s.expect(_rate(api, filed.contract_id, seller, {"score": 5, "comment": " 办事快捷 "}),
                   201)
    assert got["score"] == 5 and got["comment"] == "办事快捷" and got["rated_at"]
    assert got["contract_id"] == filed.contract_id
    again = _rate(api, filed.contract_id, seller, {"score": 1})
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_rated"
    other = s.expect(_rate(api, filed.contract_id, buyer, {"score": 3}), 201)
    assert other["party_id"] != got["party_id"] and other["comment"] == ""
    # ratings are the party's own: not on the (shared) timeline
    events = s.expect(api.get(f"/api/v1/contracts/{filed.contract_id}/timeline",
                              headers=buyer.headers), 200)["events"]
    assert "办事快捷" not in str(events)


def test_only_parties_only_after_filing(api, live_server, filed):
    stranger = s.person(api)
    got = _rate(api, filed.contract_id, stranger, {"score": 4})
    assert got.status_code == 404 and got.json()["error"]["code"] == "not_found"
    assert api.post(f"/api/v1/contracts/{filed.contract_id}/rating",
                    json={"score": 4}).status_code == 401
    signing = s.sale_in_signing(live_server, api, client=filed.client)
    early = _rate(api, signing.contract_id, signing.buyers[0], {"score": 4})
    assert early.status_code == 409 and early.json()["error"]["code"] == "not_filed"


@pytest.mark.parametrize("body, field", [
    ({}, "score"), ({"score": 0}, "score"), ({"score": 6}, "score"), ({"score": "5"}, "score"),
    ({"score": 4.5}, "score"), ({"score": True}, "score"),
    ({"score": 4, "comment": "好" * 201}, "comment"), ({"score": 4, "comment": "a\u0000"},
                                                       "comment"),
    ({"score": 4, "stars": 5}, "stars"),
])
def test_bad_ratings_are_400_naming_the_field(api, filed, body, field):
    got = _rate(api, filed.contract_id, filed.buyers[0], body)
    assert got.status_code == 400, got.text
    assert field in got.json()["error"]["details"]["fields"]


def test_two_ratings_at_once_one_wins(live_server, api):
    sale = s.filed_sale(live_server, api)
    seller = sale.sellers[0]

    async def both() -> list[int]:
        async with httpx.AsyncClient(base_url=live_server.base_url, timeout=30) as client:
            answers = await asyncio.gather(*(
                client.post(f"/api/v1/contracts/{sale.contract_id}/rating",
                            json={"score": n}, headers=seller.headers) for n in (2, 4)))
        return sorted(r.status_code for r in answers)

    assert asyncio.run(both()) == [201, 409]


def test_a_repeated_request_is_the_first_answer(api, live_server, filed):
    sale = s.filed_sale(live_server, api, client=filed.client)
    who = sale.buyers[0]
    first = _rate(api, sale.contract_id, who, {"score": 2}, **{"Idempotency-Key": "rate-1"})
    again = _rate(api, sale.contract_id, who, {"score": 2}, **{"Idempotency-Key": "rate-1"})
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true" and again.json() == first.json()
