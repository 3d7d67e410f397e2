"""Work each worker does on its own: finishing interrupted filings, delivering webhooks,
renewing archive timestamps, purging expired idempotency records."""

from __future__ import annotations

import asyncio
import logging

from sanic import Sanic

from server.services import idempotency, webhooks
from server.services.contracts import archive, filing

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


async def _renew_archives_forever(app: Sanic) -> None:
    """Archive-timestamp renewal on a schedule (every worker; safe, see archive.py)."""
    settings = app.ctx.settings
    while True:
        try:
            report = await archive.renew_due(app.ctx.contract_deps,
                                             settings.archive_renew_within_days)
            if report.renewed or report.skipped:
                log.info("archive renewal", extra={"renewed": len(report.renewed),
                                                   "skipped": len(report.skipped)})
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - retried next round
            log.exception("archive renewal failed")
        await asyncio.sleep(settings.archive_renew_interval_s)


def start(app: Sanic) -> list[asyncio.Task]:
    settings = app.ctx.settings
    tasks = [
        asyncio.create_task(_resume_filings_forever(app), name="resume-filings"),
        asyncio.create_task(webhooks.run_forever(app.ctx.http, settings.webhook_timeout_s),
                            name="webhooks"),
        asyncio.create_task(idempotency.purge_forever(app.ctx.idempotency_store),
                            name="idempotency-purge"),
    ]
    if settings.archive_renew_interval_s > 0:
        tasks.append(asyncio.create_task(_renew_archives_forever(app), name="renew-archives"))
    return tasks


async def stop(tasks: list[asyncio.Task]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
