"""Who is on the other end, for per-address rate limits."""

from __future__ import annotations

from sanic import Request


def client_address(request: Request) -> str:
    # remote_addr honours the proxy settings (FORWARDED_SECRET, PROXIES_COUNT);
    # without them it is empty and the peer address is all we can trust.
    return request.remote_addr or request.ip or "unknown"
