"""A government app's OAuth-style code exchange (鄂汇办, 佛山通 and the like).

Configured by URLs: the code is exchanged for an access token at the token
URL, whose user-info URL then names the subject.
"""

from __future__ import annotations

import aiohttp

from server.adapters.login import HostAccount, LoginProvider, LoginRejected
from server.errors import UpstreamBadAnswer, UpstreamTimeout, UpstreamUnavailable


class GovAppLogin(LoginProvider):
    def __init__(self, name: str, token_url: str, userinfo_url: str, client_id: str,
                 client_secret: str, session: aiohttp.ClientSession,
                 timeout_s: float = 5.0) -> None:
        self.name = name
        self._token_url = token_url
        self._userinfo_url = userinfo_url
        self._client_id = client_id
        self._client_secret = client_secret
        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def _json(self, method: str, url: str, **kwargs) -> dict:
        try:
            async with self._session.request(method, url, timeout=self._timeout,
                                             **kwargs) as resp:
                if resp.status >= 500:
                    raise UpstreamUnavailable()
                if resp.status in (400, 401, 403):
                    raise LoginRejected(str(resp.status))
                data = await resp.json(content_type=None)
        except TimeoutError as exc:
            raise UpstreamTimeout() from exc
        except aiohttp.ClientError as exc:
            raise UpstreamUnavailable() from exc
        except ValueError as exc:
            raise UpstreamBadAnswer() from exc
        if not isinstance(data, dict):
            raise UpstreamBadAnswer()
        return data

    async def exchange(self, code: str) -> HostAccount:
        token = await self._json("POST", self._token_url, data={
            "grant_type": "authorization_code", "code": code,
            "client_id": self._client_id, "client_secret": self._client_secret})
        access = token.get("access_token")
        if not isinstance(access, str):
            raise LoginRejected(str(token.get("error", "no access_token")))
        info = await self._json("GET", self._userinfo_url,
                                headers={"Authorization": f"Bearer {access}"})
        subject = info.get("sub") or info.get("user_id")
        if not isinstance(subject, str) or not subject:
            raise UpstreamBadAnswer()
        return HostAccount(self.name, subject)
