"""The non-mini-program HTTP surfaces: registry office, public verification, PKI, the H5
client, sandbox."""

from __future__ import annotations

from sanic import Blueprint

from server.config import Settings


def blueprints(settings: Settings) -> list[Blueprint]:
    from server.web import app, openapi_doc, pki, registry, registry_contracts

    bps: list[Blueprint] = [registry.bp, registry_contracts.bp, pki.bp, openapi_doc.bp, app.bp]
    bps.append(__import__("server.web.verify", fromlist=["bp"]).bp)  # public verification
    if settings.sandbox_enabled:  # face-verification sandbox (server/sandbox), dev and tests
        from server.sandbox import bp as sandbox_faceid

        bps.append(sandbox_faceid)
    return bps
