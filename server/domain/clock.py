"""Time: stored in UTC, shown as RFC 3339 in China Standard Time (+08:00)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

__all__ = ["CST", "UTC", "now", "rfc3339"]

CST = timezone(timedelta(hours=8), "CST")


def now() -> datetime:
    return datetime.now(UTC)


def rfc3339(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(CST).isoformat(timespec="seconds")
