"""WeChat mini-program login: ``code2session`` (GET /sns/jscode2session)."""

from __future__ import annotations

import aiohttp

from server.adapters.login import HostAccount, LoginProvider, LoginRejected
from server.errors import UpstreamBadAnswer, UpstreamTimeout, UpstreamUnavailable


class WeChatLogin(LoginProvider):
    name = "wechat"

    def __init__(self, app_id: str, app_secret: str, endpoint: str,
                 session: aiohttp.ClientSession, timeout_s: float = 5.0) -> None:
        self._app_id = app_id
        self._secret = app_secret
        self._endpoint = endpoint.rstrip("/")
        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def exchange(self, code: str) -> HostAccount:
        params = {"appid": self._app_id, "secret": self._secret, "js_code": code,
                  "grant_type": "authorization_code"}
        try:
            async with self._session.get(f"{self._endpoint}/sns/jscode2session", params=params,
                                         timeout=self._timeout) as resp:
                if resp.status >= 500:
                    raise UpstreamUnavailable()
                data = await resp.json(content_type=None)
        except TimeoutError as exc:
            raise UpstreamTimeout() from exc
        except aiohttp.ClientError as exc:
            raise UpstreamUnavailable() from exc
        except ValueError as exc:
            raise UpstreamBadAnswer() from exc
        if not isinstance(data, dict):
            raise UpstreamBadAnswer()
        if data.get("errcode"):
            # 40029 invalid code, 40163 code used, 45011 frequency limit
            if data["errcode"] == -1:
                raise UpstreamUnavailable()
            raise LoginRejected(str(data.get("errcode")))
        openid = data.get("openid")
        if not isinstance(openid, str) or not openid:
            raise UpstreamBadAnswer()
        return HostAccount("wechat", openid)
