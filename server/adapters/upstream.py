"""HTTP to upstream providers (face verification, host-app login): one timeout, one error
mapping, bounded retries for idempotent queries only.

Starting a face verification is not idempotent (a retry could open a second
paid session), so only result queries go through :func:`retrying`. Every
failure becomes one of the three upstream API errors (502/503/504), with the
provider named in the details and nothing of the request (it may carry names
and ID numbers).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
import orjson

from server.errors import UpstreamBadAnswer, UpstreamTimeout, UpstreamUnavailable

log = logging.getLogger("server.upstream")

T = TypeVar("T")


@dataclass(frozen=True)
class Answer:
    status: int
    raw: bytes
    data: dict[str, Any]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()


def unavailable(provider: str, why: str, **details: Any) -> UpstreamUnavailable:
    log.warning("upstream unavailable", extra={"provider": provider, "why": why, **details})
    return UpstreamUnavailable(details={"provider": provider, **details})


def bad_answer(provider: str, why: str, **details: Any) -> UpstreamBadAnswer:
    log.warning("upstream bad answer", extra={"provider": provider, "why": why, **details})
    return UpstreamBadAnswer(details={"provider": provider, **details})


async def request_json(session: aiohttp.ClientSession, provider: str, method: str, url: str, *,
                       timeout_s: float, **kwargs: Any) -> Answer:
    """Send one request; a JSON object back, or an upstream error. 4xx answers are returned:
    some providers (Alibaba) put their error codes in them."""
    try:
        async with session.request(method, url, timeout=aiohttp.ClientTimeout(total=timeout_s),
                                   **kwargs) as resp:
            raw = await resp.read()
            status = resp.status
    except TimeoutError as exc:
        log.warning("upstream timeout", extra={"provider": provider})
        raise UpstreamTimeout(details={"provider": provider}) from exc
    except aiohttp.ClientError as exc:
        raise unavailable(provider, type(exc).__name__) from exc
    if status >= 500 or status == 429:
        raise unavailable(provider, "http status", http_status=status)
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise bad_answer(provider, "not json", http_status=status) from None
    if not isinstance(data, dict):
        raise bad_answer(provider, "not an object", http_status=status)
    return Answer(status, raw, data)


def final(error: UpstreamUnavailable) -> UpstreamUnavailable:
    """Mark an error that a retry cannot cure (e.g. our credentials were refused)."""
    error.retryable = False  # type: ignore[attr-defined]
    return error


async def retrying(op: Callable[[], Awaitable[T]], retries: int, first_delay: float = 0.2) -> T:
    """Run an idempotent ``op``; retry it ``retries`` times on 503/504, with backoff."""
    delay = first_delay
    for attempt in range(retries + 1):
        try:
            return await op()
        except (UpstreamUnavailable, UpstreamTimeout) as exc:
            if attempt >= retries or not getattr(exc, "retryable", True):
                raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)
    raise AssertionError("unreachable")  # pragma: no cover
