"""The lock under which the PKI creates or renews keys and certificates.

Creation and renewal (a responder or TSA certificate coming due) happen in
whichever process notices first; the others must wait and load its result. On
one host an ``flock`` on the PKI directory does that. Several hosts sharing the
PKI directory (a mounted volume) cannot rely on ``flock`` across machines, so
with Redis configured the lock is a Redis lock every host sees.
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger("signing.pki")

_redis_url: str | None = None
_prefix = "hs:"


def configure(redis_url: str | None, prefix: str = "hs:") -> None:
    """Use a Redis lock from now on in this process (None: the directory's flock)."""
    global _redis_url, _prefix
    _redis_url, _prefix = redis_url, prefix


@contextmanager
def _directory_lock(data_dir: Path) -> Iterator[None]:
    with open(data_dir / ".pki.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@contextmanager
def pki_lock(data_dir: Path, timeout_s: float = 120.0) -> Iterator[None]:
    """With Redis unreachable the directory's lock is used: the service must still start
    (and report itself not ready); a renewal two hosts make at once in that moment gives
    two valid certificates, not a broken PKI."""
    if not _redis_url:
        with _directory_lock(data_dir):
            yield
        return
    import redis

    client = redis.Redis.from_url(_redis_url, socket_timeout=5.0, socket_connect_timeout=2.0)
    try:
        lock = client.lock(f"{_prefix}pki-lock", timeout=timeout_s, blocking_timeout=timeout_s)
        try:
            acquired = lock.acquire()
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
            log.warning("PKI lock: Redis unreachable, using the directory's lock")
            with _directory_lock(data_dir):
                yield
            return
        if not acquired:
            raise TimeoutError("PKI lock: not acquired in time")
        try:
            yield
        finally:
            try:
                lock.release()
            except redis.exceptions.RedisError:
                pass  # expired or Redis gone: the lock frees itself by its timeout
    finally:
        client.close()
