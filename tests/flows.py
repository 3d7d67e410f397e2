"""API helpers other tests reuse: log in, bind an identity, get a passed face verification.

Synchronous (an ``httpx.Client`` on the live server, e.g. the ``api`` fixture) and
built only on the public API plus the sandbox face provider, so every helper goes
through the same paths a phone would. The signatures are a contract with the other
test suites: extend with keyword arguments, never change what is here.
"""

from __future__ import annotations

import secrets
from typing import Any

import httpx

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def make_id_number(region: str = "421202", birth: str = "19850312",
                   seq: int | None = None) -> str:
    """A GB 11643-1999 ID number with a correct check digit.

    ``seq`` (0-999, the order code; odd = male) defaults to a random one, so tests
    rarely share an ID number and do not run into the per-ID rate limit together.
    """
    if len(region) != 6 or not region.isdigit():
        raise ValueError("region: six digits")
    if len(birth) != 8 or not birth.isdigit():
        raise ValueError("birth: YYYYMMDD")
    if seq is None:
        seq = secrets.randbelow(1000)
    if not 0 <= seq <= 999:
        raise ValueError("seq: 0..999")
    first17 = f"{region}{birth}{seq:03d}"
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return first17 + "10X98765432"[total % 11]


def _expect(resp: httpx.Response, *statuses: int) -> Any:
    if resp.status_code not in statuses:
        raise AssertionError(f"{resp.request.method} {resp.request.url.path} -> "
                             f"{resp.status_code}: {resp.text}")
    return resp.json() if resp.content else None


def login(api: httpx.Client, code: str) -> str:
    """The access token of the sandbox user ``code`` (the same code is the same user)."""
    body = _expect(api.post("/api/v1/auth/login", json={"provider": "sandbox", "code": code}),
                   200)
    return body["access_token"]


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def start_verification(api: httpx.Client, token: str, purpose: str, *,
                       name: str | None = None, id_number: str | None = None,
                       contract_id: str | None = None) -> dict[str, Any]:
    """``POST /face-verifications`` with consent; returns ``{id, client_payload, ...}``."""
    payload: dict[str, Any] = {"purpose": purpose, "consent": True}
    if name is not None:
        payload["name"] = name
    if id_number is not None:
        payload["id_number"] = id_number
    if contract_id is not None:
        payload["contract_id"] = contract_id
    return _expect(api.post("/api/v1/face-verifications", json=payload, headers=auth(token)),
                   201)


def sandbox_scan(api: httpx.Client, started: dict[str, Any], outcome: str = "pass") -> None:
    """What the phone SDK does, in the sandbox: ``outcome`` pass | low_similarity |
    id_mismatch | liveness_fail."""
    biz_token = started["client_payload"]["biz_token"]
    _expect(api.post("/sandbox/faceid/scan", json={"biz_token": biz_token, "outcome": outcome}),
            204)


def complete(api: httpx.Client, token: str, verification_id: str) -> dict[str, Any]:
    """``POST /face-verifications/{id}/complete``; returns ``{id, status, reason_code, score}``."""
    return _expect(api.post(f"/api/v1/face-verifications/{verification_id}/complete",
                            headers=auth(token)), 200)


def bind_identity(api: httpx.Client, token: str, name: str, id_number: str) -> dict[str, Any]:
    """Bind ``name`` + ``id_number`` to the user: start, sandbox scan ``pass``, complete."""
    started = start_verification(api, token, "bind_identity", name=name, id_number=id_number)
    sandbox_scan(api, started, "pass")
    result = complete(api, token, started["id"])
    if result["status"] != "passed":
        raise AssertionError(f"bind_identity did not pass: {result}")
    return result


def passed_verification(api: httpx.Client, token: str, purpose: str, contract_id: str) -> str:
    """The id of a passed ``sign``/``revoke`` face verification of this user for that contract.

    The user must have bound an identity first (:func:`bind_identity`).
    """
    started = start_verification(api, token, purpose, contract_id=contract_id)
    sandbox_scan(api, started, "pass")
    result = complete(api, token, started["id"])
    if result["status"] != "passed":
        raise AssertionError(f"{purpose} verification did not pass: {result}")
    return started["id"]
