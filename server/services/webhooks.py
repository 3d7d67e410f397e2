"""Delivering the webhook outbox: at least once, per Standard Webhooks, with exponential backoff.

Each attempt is signed afresh (:mod:`server.services.standard_webhooks`); the
``webhook-id`` stays the same across the retries and replays of one delivery so
the receiver can drop duplicates (at-least-once means a retry after a lost
answer repeats a delivery). Only a 2xx answer counts as delivered; redirects are
not followed (a 3xx is a failure), so a delivery never goes anywhere but the
registered URL. A row is claimed by moving its ``next_attempt_at`` forward
conditionally, so several workers never send the same attempt twice. After
:data:`MAX_ATTEMPTS` failures it goes to the dead letters, where the CLI lists
and replays it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta

import aiohttp
import orjson

from server.domain import clock
from server.models import WebhookDelivery, WebhookEndpoint
from server.services import standard_webhooks

log = logging.getLogger("server.webhooks")

MAX_ATTEMPTS = 8
BASE_DELAY_S = 2.0
MAX_DELAY_S = 3600.0
LEASE_S = 60.0


def backoff(attempts: int) -> float:
    return min(MAX_DELAY_S, BASE_DELAY_S * (2 ** max(0, attempts - 1)))


async def _claim(row: WebhookDelivery) -> bool:
    """Take the row for one attempt; False if another worker took it first."""
    lease_until = clock.now() + timedelta(seconds=LEASE_S)
    updated = await WebhookDelivery.filter(
        id=row.id, status="pending", next_attempt_at=row.next_attempt_at
    ).update(next_attempt_at=lease_until)
    return updated == 1


async def attempt(http: aiohttp.ClientSession, row: WebhookDelivery, timeout_s: float) -> bool:
    endpoint = await WebhookEndpoint.get(id=row.endpoint_id)  # type: ignore[attr-defined]
    body = orjson.dumps(row.payload, option=orjson.OPT_SORT_KEYS)
    started = time.perf_counter()
    status: int | None = None
    error: str | None = None
    try:
        headers = standard_webhooks.headers(endpoint.secret,
                                            standard_webhooks.message_id(row.id),
                                            int(time.time()), body)
    except standard_webhooks.BadSecret as exc:
        # No retry can fix it: straight to the dead letters, saying why.
        return await _record(row, ok=False, status=None, error=str(exc), started=started,
                             final=True)
    try:
        async with http.post(endpoint.url, data=body, headers=headers, allow_redirects=False,
                             timeout=aiohttp.ClientTimeout(total=timeout_s)) as resp:
            status = resp.status
            await resp.read()
    except (TimeoutError, aiohttp.ClientError) as exc:
        error = type(exc).__name__
    ok = status is not None and 200 <= status < 300
    return await _record(row, ok=ok, status=status, error=error, started=started)


async def _record(row: WebhookDelivery, *, ok: bool, status: int | None, error: str | None,
                  started: float, final: bool = False) -> bool:
    row.attempts += 1
    row.history = [*row.history, {"at": clock.rfc3339(clock.now()), "status": status,
                                  "error": error,
                                  "ms": round((time.perf_counter() - started) * 1000, 1)}]
    if ok:
        row.status = "delivered"
        row.delivered_at = clock.now()
        row.last_error = None
    else:
        row.last_error = error or f"HTTP {status}"
        if final or row.attempts >= MAX_ATTEMPTS:
            row.status = "dead"
        else:
            row.next_attempt_at = clock.now() + timedelta(seconds=backoff(row.attempts))
    await row.save(update_fields=["attempts", "history", "status", "delivered_at", "last_error",
                                  "next_attempt_at"])
    log.info("webhook attempt", extra={"delivery_id": row.id, "ok": ok, "status": status,
                                       "attempts": row.attempts})
    return ok


async def deliver_due(http: aiohttp.ClientSession, timeout_s: float, limit: int = 50) -> int:
    rows = await WebhookDelivery.filter(status="pending", next_attempt_at__lte=clock.now()) \
        .order_by("id").limit(limit)
    sent = 0
    for row in rows:
        if await _claim(row):
            await attempt(http, row, timeout_s)
            sent += 1
    return sent


async def replay(delivery_id: int) -> bool:
    """Put a dead (or delivered) delivery back in the queue for one more round."""
    updated = await WebhookDelivery.filter(id=delivery_id).update(
        status="pending", attempts=0, next_attempt_at=clock.now())
    return updated == 1


async def run_forever(http: aiohttp.ClientSession, timeout_s: float, interval_s: float = 1.0
                      ) -> None:
    while True:
        try:
            await deliver_due(http, timeout_s)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - the loop must outlive one bad round
            log.exception("webhook round failed")
        await asyncio.sleep(interval_s)
