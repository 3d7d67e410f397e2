"""Host-app login: exchange the code the mini-program got for a stable account subject."""

from __future__ import annotations

import abc
import hashlib
from dataclasses import dataclass


class LoginRejected(Exception):
    """The provider said the code is not valid (expired, used, forged)."""


@dataclass(frozen=True)
class HostAccount:
    provider: str
    subject: str  # openid, government-app user id, or a sandbox pseudonym


class LoginProvider(abc.ABC):
    name: str

    @abc.abstractmethod
    async def exchange(self, code: str) -> HostAccount: ...


class SandboxLogin(LoginProvider):
    """Development only: any code is an account, the same code the same account."""

    name = "sandbox"

    async def exchange(self, code: str) -> HostAccount:
        return HostAccount("sandbox", hashlib.sha256(code.encode()).hexdigest()[:40])
