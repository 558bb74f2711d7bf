"""Time helpers: the storage representation is integer microseconds since the epoch, UTC.

Every time the server accepts goes through ``parse_iso_to_us`` (or ``check_us``), which keeps it
inside what Python's datetime can represent after conversion to UTC (years 1 to 9999), so that
every reader can format it. ``9999-12-31T23:59:59-23:59`` parses as a datetime but is in year
10000 in UTC: it is refused. Readers still format a stored time outside that range (a row written
directly, or by an older version) without failing: it is shown as the nearest representable time.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from functools import lru_cache

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
MIN_US = (datetime.min.replace(tzinfo=UTC) - _EPOCH) // _ONE_US
"""0001-01-01T00:00:00Z: the earliest time a reader can format."""
MAX_US = (datetime.max.replace(tzinfo=UTC) - _EPOCH) // _ONE_US
"""9999-12-31T23:59:59.999999Z: the latest time a reader can format."""


def now_us() -> int:
    return time.time_ns() // 1000


def us_to_datetime(us: int) -> datetime:
    """The UTC datetime of ``us``, exact; a value outside years 1-9999 gives the nearest end of the range."""
    return _EPOCH + timedelta(microseconds=min(max(int(us), MIN_US), MAX_US))


def us_to_iso(us: int | None) -> str | None:
    """ISO-8601 with millisecond precision and a Z suffix, the API's timestamp format."""
    if us is None:
        return None
    us = min(max(int(us), MIN_US), MAX_US)
    # A trace's rows share their seconds: the datetime arithmetic runs once per second (a
    # 1,000-observation trace formats ~5,000 times, half of its detail answer's time before).
    return f"{_second_iso(us // 1_000_000)}.{us % 1_000_000 // 1000:03d}Z"


@lru_cache(maxsize=8192)
def _second_iso(second: int) -> str:
    return (_EPOCH + timedelta(seconds=second)).isoformat(timespec="seconds").removesuffix("+00:00")


def check_us(us: int, what: str = "the time") -> int:
    """``us`` itself when every reader can format it; ValueError naming ``what`` otherwise."""
    if not MIN_US <= us <= MAX_US:
        raise ValueError(f"{what} is outside 0001-01-01T00:00:00Z … 9999-12-31T23:59:59Z (UTC)")
    return us


# hh:mm:60, a leap second: RFC 3339 allows it at 23:59 UTC, Python's datetime has no second 60.
_LEAP_SECOND = re.compile(r"(?<=[Tt ][0-9]{2}:[0-9]{2}:)60(?![0-9])")
_DAY_US = 86_400_000_000


def parse_iso_to_us(value: str) -> int:
    """Parse an ISO-8601 timestamp (Z or offset; naive means UTC) into microseconds.

    Every RFC 3339 date-time inside years 1-9999 (UTC) is accepted, a leap second too:
    ``23:59:60`` (UTC) reads as the next day's ``00:00:00``, as POSIX time and PostgreSQL read it.
    Raises ValueError, with a message that quotes the value, for text that is not such a
    timestamp and for one outside years 1-9999 once converted to UTC.
    """
    text = value.strip()
    quoted = repr(text[:40] + ("…" if len(text) > 40 else ""))
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    text, leap_seconds = _LEAP_SECOND.subn("59", text, count=1)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{quoted} is not an ISO 8601 date-time such as 2026-01-31T12:00:00Z") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    # Exact integer arithmetic (a float timestamp loses microseconds far from 1970), and it works
    # where the UTC conversion itself would overflow, so the range check can say what is wrong.
    us = (parsed - _EPOCH) // _ONE_US
    if leap_seconds:
        if us % _DAY_US // 1_000_000 != 86_399:
            raise ValueError(f"{quoted} has a leap second (60) at a time other than 23:59 UTC")
        us += 1_000_000
    return check_us(us, quoted)
