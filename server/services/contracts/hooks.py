"""A test hook: interleave concurrent requests deterministically (refused in production).

Tests set ``TEST_HOOK_DIR``; each named point then writes ``{point}.{contract}``
(its content: the worker's pid) when a request gets there, and, if the test
created ``hold-{point}.{contract}``, waits there until ``release.{contract}``
exists: inside whatever transaction it is in, holding whatever it has locked.
Files, because the test and a server's workers are separate processes.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from server.services.contracts.deps import ContractDeps

_MAX_HOLD_S = 60.0
_POLL_S = 0.05


async def test_hook(deps: ContractDeps, point: str, contract_id: str) -> None:
    if not deps.settings.test_hook_dir:
        return
    base = Path(deps.settings.test_hook_dir)
    (base / f"{point}.{contract_id}").write_text(str(os.getpid()))
    if not (base / f"hold-{point}.{contract_id}").exists():
        return
    for _ in range(int(_MAX_HOLD_S / _POLL_S)):
        if (base / f"release.{contract_id}").exists():
            return
        await asyncio.sleep(_POLL_S)
