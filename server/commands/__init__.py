"""CLI commands, one module each; every module has ``register(subparsers)``."""

from server.commands import (
    agency_client,
    archive,
    import_units,
    migrate,
    pki,
    reencrypt,
    registry_client,
    seed_demo,
    serve,
    staff,
    verify_chains,
    webhooks,
)

COMMAND_MODULES = [serve, migrate, seed_demo, registry_client, agency_client, staff,
                   import_units, webhooks, verify_chains, archive, pki, reencrypt]
