"""Small local HTTP servers for the face tests: a switchable proxy and silent servers.

:class:`ThreadedApp` runs an aiohttp app on its own loop in a thread, so the live
server subprocess (and synchronous tests) can reach it. :func:`tencent_proxy_app`
forwards to the sandbox unchanged (the Host header included, so TC3 signatures
stay valid) until told to hang, which is how a provider that never answers is
put in front of the real adapter in the live server.
"""

from __future__ import annotations

import asyncio
import collections
import threading
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

_HOP_BY_HOP = {"content-length", "transfer-encoding", "connection", "keep-alive"}
_SESSION = web.AppKey("session", aiohttp.ClientSession)


class ThreadedApp:
    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.url = ""
        self._runner: web.AppRunner | None = None

    def start(self) -> ThreadedApp:
        self.thread.start()
        self.url = asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)
        return self

    async def _start(self) -> str:
        self._runner = web.AppRunner(self.app, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        return f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self.loop).result(15)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@dataclass
class ProxyState:
    upstream: str = ""
    mode: str = "forward"  # forward | hang
    calls: collections.Counter = field(default_factory=collections.Counter)
    release: asyncio.Event | None = None


def tencent_proxy_app(state: ProxyState) -> web.Application:
    async def on_startup(app: web.Application) -> None:
        app[_SESSION] = aiohttp.ClientSession()
        state.release = asyncio.Event()

    async def on_cleanup(app: web.Application) -> None:
        assert state.release is not None
        state.release.set()
        await app[_SESSION].close()

    async def handle(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        state.calls[request.headers.get("X-TC-Action", request.path)] += 1
        if state.mode == "hang":
            # Until switched back (or shut down): the caller's timeout fires first.
            assert state.release is not None
            for _ in range(1200):
                if state.mode != "hang" or state.release.is_set():
                    break
                await asyncio.sleep(0.05)
            return web.Response(status=504)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        async with request.app[_SESSION].request(
                request.method, state.upstream + request.path_qs, data=body,
                headers=headers) as resp:
            raw = await resp.read()
            return web.Response(body=raw, status=resp.status,
                                content_type=resp.content_type)

    app = web.Application()
    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


def silent_app(counter: collections.Counter) -> web.Application:
    """Accepts connections and never answers (until shut down): a provider timing out."""

    async def handle(request: web.Request) -> web.StreamResponse:
        counter[request.path] += 1
        await asyncio.sleep(30)
        return web.Response(status=504)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    return app
