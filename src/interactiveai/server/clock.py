"""Time helpers: the storage representation is integer microseconds since the epoch, UTC."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now_us() -> int:
    return time.time_ns() // 1000


def us_to_datetime(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1_000_000, tz=UTC)


def us_to_iso(us: int | None) -> str | None:
    """ISO-8601 with millisecond precision and a Z suffix, the API's timestamp format."""
    if us is None:
        return None
    return us_to_datetime(us).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso_to_us(value: str) -> int:
    """Parse an ISO-8601 timestamp (Z or offset; naive means UTC) into microseconds."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp() * 1_000_000)
