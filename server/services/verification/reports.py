"""One validation of an uploaded or filed PDF, as a stranger may see it.

:func:`validate` runs :func:`~.pdfcheck.validate_upload` in the CPU pool and masks
the result into ``{"valid", "signatures", "checked_by"}`` (or None: pyHanko cannot
read the file). Both the upload check and the durable reports of filed documents
(:mod:`.filed_reports`) go through here, so they are the same shape.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from prometheus_client import Counter

from server.cpu import CpuPool
from server.domain import clock
from server.domain.identity import mask_id_number, mask_name
from server.services.verification.pdfcheck import scrub, validate_upload

#: Where each PDF check's signature report came from: ``stored`` (a filed document's
#: durable report), ``cached`` (the key-value cache of uploads), ``computed`` (a
#: validation for this request) or ``background`` (a filed document's, ahead of time).
REPORTS = Counter("verify_document_reports_total",
                  "Signature reports of the public PDF check, by where they came from",
                  ["source"])


def _cst(value: str | None) -> str | None:
    """pyHanko's ISO times in UTC → RFC 3339 in +08:00, like every other time of the API."""
    if not value:
        return None
    try:
        return clock.rfc3339(datetime.fromisoformat(value))
    except ValueError:
        return None


def public_signature(sig: dict[str, Any]) -> dict[str, Any]:
    """One signature of the validation report, as a stranger may see it."""
    signer = sig.get("signer") or {}
    name = signer.get("common_name")
    if name and sig.get("kind") == "party":
        name = mask_name(name)
    masked_id = signer.get("masked_id")
    return {
        "field_name": scrub(sig.get("field_name")),
        "kind": sig.get("kind"),
        "signer": scrub(name),
        # Already masked in our certificates; masked again for anybody else's.
        "signer_id_masked": mask_id_number(masked_id) if masked_id else None,
        "signing_time": _cst(sig.get("signing_time")),
        "timestamp_time": _cst(sig.get("timestamp_time")),
        "intact": bool(sig.get("intact")),
        "valid": bool(sig.get("valid")),
        "trusted": bool(sig.get("trusted")),
        "revocation": sig.get("revocation"),
        "modification_level": sig.get("modification_level"),
        "coverage": sig.get("coverage"),
        "indication": sig.get("indication"),
        "ok": bool(sig.get("ok")),
        # SM2/SM3 or ECDSA/SHA-256, and which implementation checked it (pyHanko cannot SM2)
        "algorithm": sig.get("algorithm") or None,
        "checked_by": sig.get("checked_by") or None,
    }


@contextlib.asynccontextmanager
async def _maybe(slots: asyncio.Semaphore | None) -> AsyncIterator[None]:
    if slots is None:
        yield
    else:
        async with slots:
            yield


async def validate(pool: CpuPool, pdf: bytes, slots: asyncio.Semaphore | None = None,
                   source: str = "computed") -> dict[str, Any] | None:
    """The masked report of ``pdf`` (None: unreadable), validated in the pool now."""
    async with _maybe(slots):
        ok, value = await pool.run(validate_upload, pdf)
    REPORTS.labels(source).inc()
    if not (ok and isinstance(value, dict)):
        return None
    return {"valid": bool(value["valid"]),
            "signatures": [public_signature(sig) for sig in value["signatures"]],
            "checked_by": list(value.get("checked_by") or [])}
