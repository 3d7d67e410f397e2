"""The adapters the contract use cases share, wired once per worker."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from server.adapters.documents import DocumentStore
from server.config import Settings
from server.cpu import CpuPool
from server.errors import TimestampServiceDown
from server.identity_crypto import IdentityCipher
from server.kv import KeyValueStore

log = logging.getLogger("server.signing")
T = TypeVar("T")


@dataclass
class ContractDeps:
    settings: Settings
    cipher: IdentityCipher
    files: DocumentStore
    pool: CpuPool
    kv: KeyValueStore
    houses: Any  # server.services.houses
    face: Any  # server.services.face
    fonts: Any  # signing.fonts.FontSet
    font_dirs: list[str] | None = None
    revocations: Any = None  # server.services.revocations.Revocations

    def fonts_dirs(self) -> list[str] | None:
        return self.font_dirs

    async def sign_in_pool(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a signing step in the CPU pool; a TSA that gave no usable token is a 503.

        Every signing step timestamps, and a step without its timestamp has
        written nothing: the caller's transaction rolls back and can be retried.
        """
        from signing.timestamps import TimestampUnavailable

        try:
            return await self.pool.run(fn, *args)
        except TimestampUnavailable as exc:
            log.warning("timestamp unavailable", extra={"reason": exc.reason})
            raise TimestampServiceDown() from None
