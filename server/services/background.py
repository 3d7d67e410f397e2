"""Work each worker does on its own: finishing interrupted filings, delivering webhooks."""

from __future__ import annotations

import asyncio
import logging

from sanic import Sanic

from server.services import webhooks
from server.services.contracts import filing

log = logging.getLogger("server.background")

RESUME_EVERY_S = 30.0


async def _resume_filings_forever(app: Sanic) -> None:
    while True:
        try:
            await filing.resume_pending(app.ctx.contract_deps)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - retried next round
            log.exception("resuming filings failed")
        await asyncio.sleep(RESUME_EVERY_S)


def start(app: Sanic) -> list[asyncio.Task]:
    settings = app.ctx.settings
    return [
        asyncio.create_task(_resume_filings_forever(app), name="resume-filings"),
        asyncio.create_task(webhooks.run_forever(app.ctx.http, settings.webhook_timeout_s),
                            name="webhooks"),
    ]


async def stop(tasks: list[asyncio.Task]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
