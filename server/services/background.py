"""Work each worker does on its own: finishing interrupted filings, delivering webhooks,
renewing archive timestamps, validating newly filed documents for the public PDF check,
purging expired idempotency records."""

from __future__ import annotations

import asyncio
import logging

from sanic import Sanic

from server.services import idempotency, webhooks
from server.services.contracts import archive, filing
from server.services.verification import filed_reports

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


async def _prepare_reports_forever(app: Sanic) -> None:
    """The public validation report of every newly filed or renewed document, before
    anybody uploads it (woken by sealing and renewal; a sweep every minute as well)."""
    while True:
        try:
            done = await filed_reports.prepare_pending(app.ctx.contract_deps)
            if done:
                log.info("filed documents validated", extra={"documents": done})
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - retried next round; the first check computes it
            log.exception("validating filed documents failed")
        await filed_reports.wait_for_work(filed_reports.SWEEP_EVERY_S)


def start(app: Sanic) -> list[asyncio.Task]:
    settings = app.ctx.settings
    tasks = [
        asyncio.create_task(_resume_filings_forever(app), name="resume-filings"),
        asyncio.create_task(webhooks.run_forever(app.ctx.http, settings.webhook_timeout_s),
                            name="webhooks"),
        asyncio.create_task(idempotency.purge_forever(app.ctx.idempotency_store),
                            name="idempotency-purge"),
        asyncio.create_task(_prepare_reports_forever(app), name="filed-reports"),
    ]
    if settings.archive_renew_interval_s > 0:
        tasks.append(asyncio.create_task(_renew_archives_forever(app), name="renew-archives"))
    return tasks


async def stop(tasks: list[asyncio.Task]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
