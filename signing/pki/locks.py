"""The lock under which the PKI creates or renews keys and certificates.

Creation and renewal (a responder or TSA certificate coming due) happen in
whichever process notices first; the others must wait and load its result. On
one host an ``flock`` on the PKI directory does that. Several hosts sharing the
PKI directory (a mounted volume) cannot rely on ``flock`` across machines, so
with Redis configured the lock is a Redis lock every host sees.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_redis_url: str | None = None
_prefix = "hs:"


def configure(redis_url: str | None, prefix: str = "hs:") -> None:
    """Use a Redis lock from now on in this process (None: the directory's flock)."""
    global _redis_url, _prefix
    _redis_url, _prefix = redis_url, prefix


@contextmanager
def pki_lock(data_dir: Path, timeout_s: float = 120.0) -> Iterator[None]:
    if _redis_url:
        import redis

        client = redis.Redis.from_url(_redis_url, socket_timeout=5.0)
        try:
            with client.lock(f"{_prefix}pki-lock", timeout=timeout_s,
                             blocking_timeout=timeout_s):
                yield
        finally:
            client.close()
        return
    with open(data_dir / ".pki.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
