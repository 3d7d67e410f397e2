"""The long-lived heap of a process, set aside from the garbage collector once started.

A worker or CPU-pool process that has started holds hundreds of thousands of objects
that live as long as it does: modules, the ORM's and the schemas' metadata, fonts, the
PKI. CPython's full collection walks every one of them each time, and a process busy
with sales runs one every few seconds: measured under 32 concurrent sales, 30–70 ms
in a worker (its event loop answers nothing meanwhile) and 60–95 ms in a pool process,
about 40 ms of a sale's CPU. Frozen, they are never walked again; what requests and
jobs allocate is collected as before.
"""

from __future__ import annotations

import gc


def settle() -> None:
    """Collect what start-up left over, then freeze the rest (call once, after start-up)."""
    gc.collect()
    gc.freeze()
