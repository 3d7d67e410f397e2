"""Wires the adapters and services of one worker process onto ``app.ctx``."""

from __future__ import annotations

import aiohttp
from sanic import Sanic

from server.adapters.login import LoginProvider, SandboxLogin
from server.adapters.login.oauth import GovAppLogin
from server.adapters.login.wechat import WeChatLogin
from server.auth.tokens import AccessTokens
from server.config import Settings
from server.services.accounts import Accounts
from server.services.face import build_face_service  # face verification
from server.services.houses import open_house_services
from server.services.idempotency import IdempotencyStore


def login_providers(settings: Settings, http: aiohttp.ClientSession) -> dict[str, LoginProvider]:
    providers: dict[str, LoginProvider] = {}
    if settings.sandbox_enabled:
        providers["sandbox"] = SandboxLogin()
    if settings.wechat_app_id and settings.wechat_app_secret:
        providers["wechat"] = WeChatLogin(settings.wechat_app_id, settings.wechat_app_secret,
                                          settings.wechat_endpoint, http)
    if (settings.gov_oauth_token_url and settings.gov_oauth_userinfo_url
            and settings.gov_oauth_client_id and settings.gov_oauth_client_secret):
        providers[settings.gov_oauth_provider_name] = GovAppLogin(
            settings.gov_oauth_provider_name, settings.gov_oauth_token_url,
            settings.gov_oauth_userinfo_url, settings.gov_oauth_client_id,
            settings.gov_oauth_client_secret, http)
    return providers


async def open_services(app: Sanic) -> None:
    """Create what each worker needs once: HTTP client, providers, services."""
    settings: Settings = app.ctx.settings
    secrets = app.ctx.secrets
    app.ctx.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))
    app.ctx.accounts = Accounts(
        AccessTokens(secrets.token_signing_key_pem, secrets.token_key_id,
                     settings.access_token_ttl_s),
        login_providers(settings, app.ctx.http),
        app.ctx.kv,
        app.ctx.cipher,
        settings.refresh_token_ttl_s,
    )
    app.ctx.idempotency_store = IdempotencyStore(app.ctx.cipher)
    # Face verification (server/services/face.py): app.ctx.face
    from server.services.contracts.access import face_step_gate

    app.ctx.face = build_face_service(settings, secrets, app.ctx.http, app.ctx.kv, app.ctx.cipher,
                                      step_gate=face_step_gate)
    open_house_services(app)  # houses + registry clients (before contracts use them)
    open_agency_services(app)  # other agencies' clients, service-point staff
    # --- signing, rendering and contracts (lead) ---
    from server.adapters.documents.select import open_document_store
    from server.cpu import CpuPool
    from server.cpu_activity import CpuActivity
    from server.services.contracts import ContractDeps
    from server.services.signing_setup import open_pki, pki_settings
    from signing import worker
    from signing.fonts import find_fonts

    font_dirs = [settings.font_dir] if settings.font_dir else None
    app.ctx.fonts = find_fonts(font_dirs)
    app.ctx.pki = open_pki(settings, secrets)
    from server.services.revocations import Revocations

    app.ctx.revocations = Revocations()
    await app.ctx.revocations.import_legacy(settings.pki_dir)
    app.ctx.cpu = CpuPool(settings.cpu_workers, initializer=worker.init_worker,
                          initargs=(pki_settings(settings, secrets),),
                          context=app.ctx.revocations.current,
                          apply_context=worker.use_revocations, nice=settings.cpu_pool_nice,
                          activity=CpuActivity.of_worker(
                              getattr(app.shared_ctx, "cpu_activity", None)))
    await app.ctx.cpu.warm_up()

    async def signing_ready() -> None:
        app.ctx.pki.roots_pem()
        from signing.freeze import ping

        await app.ctx.cpu.run(ping)

    app.ctx.signing_ready = signing_ready
    app.ctx.contract_deps = ContractDeps(
        settings=settings, cipher=app.ctx.cipher, files=open_document_store(settings),
        pool=app.ctx.cpu, kv=app.ctx.kv, houses=getattr(app.ctx, "houses", None),
        face=getattr(app.ctx, "face", None), fonts=app.ctx.fonts, font_dirs=font_dirs,
        revocations=app.ctx.revocations)
    from server.services import background

    app.ctx.background = background.start(app)
    # --- end signing ---
    from server import heap

    heap.settle()


def open_agency_services(app: Sanic) -> None:
    """``app.ctx.agency_clients``, ``agency_tokens`` and ``staff``: their secrets are
    throttled like the registry's (the same limits, counters of their own)."""
    from server.http.agency_auth import AgencyTokens
    from server.services.agency_clients import AgencyClients
    from server.services.client_credentials import TokenThrottle
    from server.services.staff import StaffAccounts

    settings: Settings = app.ctx.settings
    secrets = app.ctx.secrets

    def throttle(prefix: str) -> TokenThrottle:
        return TokenThrottle(app.ctx.kv, settings.registry_token_failures_per_client,
                             settings.registry_token_failures_per_address,
                             settings.registry_token_failure_window_s, prefix=prefix)

    app.ctx.agency_clients = AgencyClients(throttle("agtoken"))
    app.ctx.agency_tokens = AgencyTokens(secrets.token_signing_key_pem, secrets.token_key_id,
                                         settings.registry_token_ttl_s)
    app.ctx.staff = StaffAccounts(secrets.token_signing_key_pem, secrets.token_key_id,
                                  settings.staff_token_ttl_s, app.ctx.kv,
                                  throttle("stafflogin"))


async def close_services(app: Sanic) -> None:
    from server.services import background

    await background.stop(getattr(app.ctx, "background", []))
    cpu = getattr(app.ctx, "cpu", None)
    if cpu is not None:
        cpu.shutdown()
    http = getattr(app.ctx, "http", None)
    if http is not None:
        await http.close()
