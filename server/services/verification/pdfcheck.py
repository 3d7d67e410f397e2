"""The CPU-bound half of checking an uploaded PDF: plain functions, picklable results.

:func:`validate_upload` runs in the app's process pool (its processes hold
our PKI, see :mod:`signing.worker`); pyHanko holds the CPU for tens of
milliseconds per signature and must never run on the event loop.
:func:`prefix_digests` is hashing only; hashlib releases the GIL on large
buffers, so a thread is enough for it.

Nothing here imports the ORM: the pool's processes import this module.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from typing import Any

# A public report may echo what an uploaded PDF claims about its signers, and an
# uploaded PDF can claim anything: whatever looks like an ID or phone number is masked.
_ID_LIKE = re.compile(r"(?<![0-9A-Za-z])(\d{4})\d{10}(\d{3}[\dXx])(?![0-9A-Za-z])")
_PHONE_LIKE = re.compile(r"(?<![0-9A-Za-z])(1[3-9]\d)\d{4}(\d{4})(?![0-9A-Za-z])")


def scrub(text: str | None) -> str | None:
    """Mask anything ID- or phone-shaped in free text (signer names, error messages)."""
    if text is None:
        return None
    text = _ID_LIKE.sub(lambda m: m.group(1) + "*" * 10 + m.group(2), text)
    return _PHONE_LIKE.sub(lambda m: m.group(1) + "****" + m.group(2), text)


def prefix_digests(data: bytes, lengths: Iterable[int]) -> dict[int, str]:
    """SHA-256 of ``data[:n]`` for each ``n``, in one pass over the data.

    Our stored revisions are the successive incremental updates of one
    file: each is a prefix of the next. Hashing the upload's prefix of each
    stored revision's exact length tells which revisions it contains,
    without trusting where the upload says its revisions end.
    """
    out: dict[int, str] = {}
    hasher = hashlib.sha256()
    done = 0
    view = memoryview(data)
    for n in sorted({n for n in lengths if 0 < n <= len(data)}):
        hasher.update(view[done:n])
        done = n
        out[n] = hasher.copy().hexdigest()
    return out


def validate_upload(pdf: bytes) -> tuple[bool, dict[str, Any] | str]:
    """``(True, report)`` with :class:`signing.validation.ValidationReport` as a dict, or
    ``(False, reason)`` when the bytes are not a PDF pyHanko can read.

    Never raises: an exception crossing the process boundary has to be
    pickled, and pyHanko's do not all survive that.
    """
    from signing import worker

    try:
        return True, worker.validate(pdf).to_dict()
    except Exception as exc:  # noqa: BLE001 - any failure to read is "not a usable PDF"
        return False, type(exc).__name__
