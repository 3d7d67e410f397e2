"""CLI commands, one module each; every module has ``register(subparsers)``."""

from server.commands import migrate, serve

COMMAND_MODULES = [serve, migrate]
