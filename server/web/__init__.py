"""The non-mini-program HTTP surfaces: registry office, public verification, PKI, sandbox."""

from __future__ import annotations

from sanic import Blueprint

from server.config import Settings


def blueprints(settings: Settings) -> list[Blueprint]:
    bps: list[Blueprint] = []
    return bps
