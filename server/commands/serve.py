"""``serve``: run the HTTP service with N worker processes."""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
from functools import partial

from sanic import Sanic
from sanic.worker.loader import AppLoader

from server.config import ConfigError, Settings
from server.db import run_migrations
from server.secrets import load_secrets


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the HTTP service")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--no-migrate", action="store_true",
                   help="do not apply migrations at start (the default on PostgreSQL)")
    p.set_defaults(handler=run)


def _factory(settings: Settings) -> Sanic:
    from server.app import create_app

    return create_app(settings)


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    if args.workers < 1:
        raise ConfigError("--workers: must be at least 1")
    if args.workers > 1 and not settings.redis_url:
        raise ConfigError("--workers: more than one worker needs REDIS_URL (the in-process "
                          "store cannot be shared between processes)")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    secrets = load_secrets(settings)  # development secrets: generated once, before workers
    from server.services.signing_setup import open_pki

    open_pki(settings, secrets)  # the PKI too (development keys on first start)
    # The embedded default migrates itself; PostgreSQL deployments run `migrate` as a step.
    if not settings.uses_postgres and not args.no_migrate:
        asyncio.run(run_migrations(settings))
    metrics_dir = settings.data_dir / "metrics"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir.resolve())
    loader = AppLoader(factory=partial(_factory, settings))
    app = loader.load()
    from server.supervisor import watch_workers

    def supervise(app: Sanic) -> None:
        watch_workers(app)

    def share_cpu_activity(app: Sanic) -> None:
        from server.cpu_activity import shared_table

        app.shared_ctx.cpu_activity = shared_table()

    app.register_listener(share_cpu_activity, "main_process_start")
    app.register_listener(supervise, "main_process_ready")
    app.prepare(host=args.host, port=args.port, workers=args.workers, access_log=False,
                motd=False)
    Sanic.serve(primary=app, app_loader=loader)
    return 0
