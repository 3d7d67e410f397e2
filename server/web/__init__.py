"""The non-mini-program HTTP surfaces: registry office, other agencies, public verification,
PKI, the H5 client, sandbox."""

from __future__ import annotations

from sanic import Blueprint

from server.config import Settings


def blueprints(settings: Settings) -> list[Blueprint]:
    from server.web import (
        agency,
        app,
        openapi_doc,
        pki,
        registry,
        registry_contracts,
        registry_statistics,
        staff,
    )

    bps: list[Blueprint] = [registry.bp, registry_contracts.bp, registry_statistics.bp,
                            agency.bp, staff.bp, pki.bp, openapi_doc.bp, app.bp]
    bps.append(__import__("server.web.verify", fromlist=["bp"]).bp)  # public verification
    if settings.sandbox_enabled:  # face-verification sandbox (server/sandbox), dev and tests
        from server.sandbox import bp as sandbox_faceid

        bps.append(sandbox_faceid)
    return bps
