"""Houses: the registry's units we keep, and the eligibility check built on them.

``UnitRegistry`` takes the registration office's pushes; ``HouseChecks`` is
what other services call (see :mod:`server.services.houses.checks` for the
signatures). Both are put on ``app.ctx`` by :func:`open_house_services`.
"""

from __future__ import annotations

from sanic import Sanic

from server.services.houses.checks import (
    IDENTITY_NOT_BOUND,
    CheckOutcome,
    HouseChecks,
    OwnerRecord,
)
from server.services.houses.units import (
    ImportFailed,
    RestrictionResult,
    UnitRegistry,
    UpsertResult,
)

__all__ = [
    "IDENTITY_NOT_BOUND", "CheckOutcome", "HouseChecks", "ImportFailed", "OwnerRecord",
    "RestrictionResult", "UnitRegistry", "UpsertResult", "open_house_services",
]


def open_house_services(app: Sanic) -> None:
    """``app.ctx.houses`` (checks), ``unit_registry``, ``registry_clients``, ``registry_tokens``."""
    from server.http.registry_auth import RegistryTokens
    from server.services.registry_clients import RegistryClients, TokenThrottle

    settings = app.ctx.settings
    secrets = app.ctx.secrets
    app.ctx.houses = HouseChecks(app.ctx.cipher)
    app.ctx.unit_registry = UnitRegistry(app.ctx.cipher)
    app.ctx.registry_clients = RegistryClients(TokenThrottle(
        app.ctx.kv, settings.registry_token_failures_per_client,
        settings.registry_token_failures_per_address, settings.registry_token_failure_window_s))
    app.ctx.registry_tokens = RegistryTokens(secrets.token_signing_key_pem,
                                             secrets.token_key_id,
                                             settings.registry_token_ttl_s)
