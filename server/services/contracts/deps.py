"""The adapters the contract use cases share, wired once per worker."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from server.adapters.files import FileStore
from server.config import Settings
from server.cpu import CpuPool
from server.identity_crypto import IdentityCipher
from server.kv import KeyValueStore


@dataclass
class ContractDeps:
    settings: Settings
    cipher: IdentityCipher
    files: FileStore
    pool: CpuPool
    kv: KeyValueStore
    houses: Any  # server.services.houses
    face: Any  # server.services.face
    fonts: Any  # signing.fonts.FontSet
    font_dirs: list[str] | None = None

    def fonts_dirs(self) -> list[str] | None:
        return self.font_dirs
