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
    app.ctx.signing_ready = None


async def close_services(app: Sanic) -> None:
    http = getattr(app.ctx, "http", None)
    if http is not None:
        await http.close()
