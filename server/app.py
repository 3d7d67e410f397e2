"""The application factory: configuration in, a wired Sanic app out.

Listeners follow Sanic's examples: each worker opens its own database pool,
key-value store and CPU pool in ``before_server_start`` and closes them in
``after_server_stop``. Blueprints hold the routes; handlers stay thin and
call the services on ``app.ctx``.
"""

from __future__ import annotations

import logging

from sanic import Sanic
from sanic_ext import Config as ExtConfig

from server import ops
from server.config import Settings
from server.db import close_orm, init_orm
from server.http import hygiene, idempotency, observability
from server.http.errors import JsonErrorHandler
from server.identity_crypto import IdentityCipher
from server.kv import open_store
from server.logs import configure_logging
from server.secrets import load_secrets

log = logging.getLogger("server.app")

def create_app(settings: Settings | None = None, name: str = "house_esign") -> Sanic:
    settings = settings or Settings.from_env()
    configure_logging(settings.log_level)
    app = Sanic(name, error_handler=JsonErrorHandler(), configure_logging=False)
    # Sanic counts the bytes it actually reads (Content-Length or chunked) against this
    # before any handler runs; the PDF upload streams under its own limit instead.
    app.config.REQUEST_MAX_SIZE = settings.max_body_bytes
    app.config.REQUEST_TIMEOUT = settings.request_timeout_s
    app.config.RESPONSE_TIMEOUT = settings.request_timeout_s
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.config.ACCESS_LOG = False
    app.config.KEEP_ALIVE_TIMEOUT = 15
    app.extend(
        config=ExtConfig(
            # sanic-ext's OpenAPI is off: /docs/openapi.json is generated from our own models
            # (server.web.openapi_doc) and /docs is our offline page (server.web.docs).
            oas=False,
            cors=False,
            health=False,
            http_auto_head=True,
            http_auto_options=False,
            http_auto_trace=False,
        )
    )
    app.ctx.settings = settings
    secrets = load_secrets(settings)
    app.ctx.secrets = secrets
    app.ctx.cipher = IdentityCipher.configured(settings, secrets)

    observability.install(app)
    hygiene.install(app, settings)
    idempotency.install(app)

    from miniapp_api import blueprint as miniapp_bp
    from server.services.container import close_services, open_services
    from server.web import blueprints as web_blueprints
    from server.web import docs

    app.blueprint(ops.bp)
    app.blueprint(miniapp_bp)
    for bp in web_blueprints(settings):
        app.blueprint(bp)
    docs.install(app)

    @app.before_server_start
    async def start(app: Sanic) -> None:
        await init_orm(settings)
        app.ctx.kv = open_store(settings.redis_url, settings.redis_key_prefix)
        await open_services(app)

    @app.after_server_stop
    async def stop(app: Sanic) -> None:
        await close_services(app)
        await app.ctx.kv.close()
        await close_orm()

    return app
