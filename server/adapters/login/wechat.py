"""WeChat mini-program login: ``code2session`` (GET /sns/jscode2session)."""

from __future__ import annotations

import aiohttp

from server.adapters.login import HostAccount, LoginProvider, LoginRejected
from server.adapters.upstream import bad_answer, request_json, unavailable


class WeChatLogin(LoginProvider):
    name = "wechat"

    def __init__(self, app_id: str, app_secret: str, endpoint: str,
                 session: aiohttp.ClientSession, timeout_s: float = 5.0) -> None:
        self._app_id = app_id
        self._secret = app_secret
        self._endpoint = endpoint.rstrip("/")
        self._session = session
        self._timeout_s = timeout_s

    async def exchange(self, code: str) -> HostAccount:
        params = {"appid": self._app_id, "secret": self._secret, "js_code": code,
                  "grant_type": "authorization_code"}
        answer = await request_json(self._session, "wechat", "GET",
                                    f"{self._endpoint}/sns/jscode2session", params=params,
                                    timeout_s=self._timeout_s)
        data = answer.data
        errcode = data.get("errcode")
        if errcode == -1:  # "system busy"
            raise unavailable("wechat", "busy")
        if errcode:  # 40029 invalid code, 40163 code used, 45011 frequency limit
            raise LoginRejected(str(errcode))
        openid = data.get("openid")
        if not isinstance(openid, str) or not openid:
            raise bad_answer("wechat", "no openid")
        return HostAccount("wechat", openid)
