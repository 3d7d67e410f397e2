"""Code and token to a verifiable contract, or the one 404 for everything else.

The QR code's token is the secret; the code alone proves nothing. So an
unknown code, a known code with a missing or wrong token, and a contract
that was never filed all answer the same 404, with the same body and the
same work behind it: one indexed database lookup and one constant-time
compare, whatever the code. Skipping the lookup for cached *codes* would be
faster, but it would let response times tell which codes exist.

What is skipped instead is the lookup for a cached code *and token*
(:mod:`.answers`, keyed by the SHA-256 of the token): only a caller who
already holds the right token can ever take that fast path, and learns
nothing from it it did not know. Every caller without the token (an unknown
code, a wrong or missing token, a contract never filed) still comes here and
does the same work.
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass

from server.domain.contract import Status
from server.errors import NotFound, RateLimited
from server.kv import KeyValueStore
from server.models import Contract
from server.services.verification_cache import generation_key

# Only contracts that were filed at some point are public: a draft or a contract
# being signed has a code already (it is printed in the PDF at freeze), but no
# one outside its parties has anything to check yet.
VERIFIABLE = frozenset({Status.FILED.value, Status.REGISTRATION_ACCEPTED.value,
                        Status.REGISTERED.value, Status.REVOKED.value})

# Compared against when the code is unknown, so that path does the same work.
# Same length as a real token (secrets.token_urlsafe(24) -> 32 characters).
_DUMMY_TOKEN = secrets.token_urlsafe(24).encode()

RATE_WINDOW_S = 60
_CODE_MAX_LENGTH = Contract._meta.fields_map["verify_code"].max_length
_CODE_CHARS = re.compile(r"^[A-Za-z0-9_-]+$")


class VerificationNotFound(NotFound):
    code = "not_found"
    message = "未找到该合同，或核验链接不完整、已失效"


@dataclass(frozen=True)
class Gate:
    """A contract the caller may see. ``stamp`` changes with every saved change of the row."""

    contract_id: str
    code: str
    status: str
    stamp: str


def _lookup_code(code: str) -> str:
    return code if len(code) <= _CODE_MAX_LENGTH and _CODE_CHARS.match(code) else ""


async def open_gate(code: str, token: str | None) -> Gate:
    """The verifiable contract behind ``code``/``token``; :class:`VerificationNotFound` if none.

    Every call does the lookup and the compare, also for codes that cannot
    exist (wrong length or alphabet): a shortcut there would be a second
    timing class.
    """
    # The ORM refuses values longer than the column; such a code cannot exist, and ""
    # matches no row (codes are never empty), so the lookup still happens.
    # Likewise a code outside the alphabet (a NUL breaks PostgreSQL): "" matches nothing.
    lookup = _lookup_code(code)
    row = await Contract.filter(verify_code=lookup).first().values(
        "id", "verify_token", "status", "filing_state", "updated_at")
    expected = (row["verify_token"] or "").encode() if row else b""
    given = (token or "").encode("utf-8", "surrogatepass")
    # Always one compare of the given token, against the dummy when there is no real one.
    match = hmac.compare_digest(expected or _DUMMY_TOKEN, given)
    if not (row and expected and match and row["status"] in VERIFIABLE):
        raise VerificationNotFound()
    updated = row["updated_at"]
    stamp = f"{row['status']}|{row['filing_state']}|{updated.isoformat() if updated else ''}"
    return Gate(contract_id=row["id"], code=code, status=row["status"], stamp=stamp)


async def over_limit(kv: KeyValueStore, bucket: str, client: str, per_minute: int) -> bool:
    """Count this request of ``client`` in ``bucket``; True once the minute's quota is spent.

    A fixed window (``kv.hit``): coarse, but one round trip, and the same
    code path on Redis and the in-process store.
    """
    return await kv.hit(_rate_key(bucket, client), RATE_WINDOW_S) > per_minute


def _rate_key(bucket: str, client: str) -> str:
    return f"verify:rate:{bucket}:{client}"


async def check_in(kv: KeyValueStore, bucket: str, client: str, per_minute: int, code: str
                   ) -> tuple[bool, bytes | None]:
    """:func:`over_limit`, and the cache generation of ``code`` read in the same round
    trip (:func:`verification_cache.current_generation`).

    Every code gets the read, one that cannot exist included (it reads the
    generation of no code), so this step takes the same time for all.
    """
    count, generation = await kv.hit_and_get(
        _rate_key(bucket, client), RATE_WINDOW_S, generation_key(_lookup_code(code)))
    return count > per_minute, generation


def rate_limited() -> RateLimited:
    """The API.md 429, telling the client when to come back."""
    return RateLimited(details={"scope": "client_address", "window_s": RATE_WINDOW_S},
                       headers={"Retry-After": str(RATE_WINDOW_S)})
