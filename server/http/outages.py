"""Telling a dependency outage from a bug, so the client gets a 503 it can retry.

When PostgreSQL restarts or Redis is briefly gone, the drivers raise their own
connection errors, often wrapped by the ORM. Those are not defects of the request
or of the code: the answer is ``503`` with a code naming the dependency and a
``Retry-After``, logged as a warning without a stack. Anything else stays a 500.
"""

from __future__ import annotations

from collections.abc import Iterator

DATABASE = "database_unavailable"
KEY_VALUE = "kv_unavailable"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, its causes and contexts, and exceptions it carries as arguments
    (Tortoise wraps the driver's error as ``OperationalError(exc)``)."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        stack.extend([e.__cause__, e.__context__])
        stack.extend(a for a in getattr(e, "args", ()) if isinstance(a, BaseException))


def _classify(e: BaseException) -> str | None:
    module = type(e).__module__ or ""
    if module.startswith("redis"):
        from redis import exceptions as r

        if isinstance(e, r.ConnectionError | r.TimeoutError):
            return KEY_VALUE
        return None
    if module.startswith("asyncpg"):
        import asyncpg

        if isinstance(e, asyncpg.PostgresConnectionError | asyncpg.ConnectionDoesNotExistError
                      | asyncpg.exceptions.OperatorInterventionError
                      | asyncpg.exceptions.InsufficientResourcesError):
            return DATABASE
        if isinstance(e, asyncpg.InterfaceError) and "closed" in str(e):
            return DATABASE
        if isinstance(e, asyncpg.exceptions._base.InternalClientError):
            return DATABASE  # a connection broken mid-operation, met again on release
        return None
    if module.startswith("tortoise"):
        from tortoise import exceptions as t

        if isinstance(e, t.DBConnectionError):
            return DATABASE
        if isinstance(e, t.TransactionManagementError) and "gone away" in str(e):
            return DATABASE
        return None
    if module == "sqlite3":
        import sqlite3

        if isinstance(e, sqlite3.OperationalError) and "locked" in str(e):
            return DATABASE
    return None


def outage_of(exc: BaseException) -> str | None:
    """The error code of the dependency whose outage caused ``exc``, or None."""
    for e in _chain(exc):
        kind = _classify(e)
        if kind is not None:
            return kind
    for e in _chain(exc):
        # a refused or reset socket raised from inside a driver: the dependency restarts
        if isinstance(e, ConnectionRefusedError | ConnectionResetError | ConnectionAbortedError):
            return _raised_in(e)
    return None


def _raised_in(e: BaseException) -> str | None:
    tb = e.__traceback__
    while tb is not None:
        module = str(tb.tb_frame.f_globals.get("__name__", ""))
        if module.startswith(("asyncpg", "tortoise")):
            return DATABASE
        if module.startswith("redis"):
            return KEY_VALUE
        tb = tb.tb_next
    return None
