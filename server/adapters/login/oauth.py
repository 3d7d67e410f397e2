"""A government app's OAuth-style code exchange (鄂汇办, 佛山通 and the like).

Configured by URLs: the code is exchanged for an access token at the token
URL, whose user-info URL then names the subject.
"""

from __future__ import annotations

import aiohttp

from server.adapters.login import HostAccount, LoginProvider, LoginRejected
from server.adapters.upstream import bad_answer, request_json


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
        self._timeout_s = timeout_s

    async def exchange(self, code: str) -> HostAccount:
        token = await request_json(self._session, self.name, "POST", self._token_url,
                                   timeout_s=self._timeout_s, data={
                                       "grant_type": "authorization_code", "code": code,
                                       "client_id": self._client_id,
                                       "client_secret": self._client_secret})
        access = token.data.get("access_token")
        if token.status >= 400 or not isinstance(access, str):
            raise LoginRejected(str(token.data.get("error", token.status)))
        info = await request_json(self._session, self.name, "GET", self._userinfo_url,
                                  timeout_s=self._timeout_s,
                                  headers={"Authorization": f"Bearer {access}"})
        if info.status >= 400:
            raise LoginRejected(str(info.status))
        subject = info.data.get("sub") or info.data.get("user_id")
        if not isinstance(subject, str) or not subject:
            raise bad_answer(self.name, "no subject")
        return HostAccount(self.name, subject)
