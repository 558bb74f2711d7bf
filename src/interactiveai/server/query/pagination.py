"""Pagination: page/limit (the public API's contract) and keyset cursors (what the UI uses).

Offset pagination costs O(offset) on both engines, so deep pages are slow by nature; keyset
pagination continues from the last row seen, using the same index as the first page.
"""

from __future__ import annotations

import base64
import binascii
import math
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import orjson

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000  # the public API allows 100; the UI and exports may read bigger pages
COUNT_CAP = 1_000
"""Lists count their matching rows exactly up to this many (or up to the end of the page asked
for, when that is further); past it the total is a lower bound (``page_total``)."""
MAX_PAGE = 2**31 - 1
"""Pages beyond this are refused: ``(page - 1) * limit`` must stay a 64-bit integer on both engines."""


class InvalidCursorError(ValueError):
    """A cursor that this server did not produce (or produced for another sort order)."""


@dataclass(frozen=True, slots=True)
class Cursor:
    """Position after a row: its sort value and id (the tie-breaker), for one sort order."""

    sort: str
    value: Any
    id: str

    def encode(self) -> str:
        raw = orjson.dumps([self.sort, self.value, self.id])
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        try:
            padded = token + "=" * (-len(token) % 4)
            sort, value, row_id = orjson.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        except (binascii.Error, ValueError, TypeError, UnicodeEncodeError) as exc:
            raise InvalidCursorError("invalid cursor") from exc
        if not isinstance(sort, str) or not bindable(row_id) or not (value is None or bindable(value)):
            raise InvalidCursorError("invalid cursor")
        return cls(sort, value, row_id)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of results.

    ``total`` is None when the caller did not ask for a count (counting is the expensive part
    of a list on a large project). ``total_exact`` is False when ``total`` is a lower bound: more
    rows matched than were counted (``page_total``). ``next_cursor`` is set when more rows follow
    in keyset mode.
    """

    items: list[T]
    page: int
    limit: int
    total: int | None = None
    next_cursor: str | None = None
    total_exact: bool = True

    @property
    def total_pages(self) -> int:
        if self.total is None:
            return 0
        return math.ceil(self.total / self.limit) if self.limit else 0


def bindable(value: Any) -> bool:
    """Whether a value read from a cursor can be compared with a column on both engines: a 64-bit
    integer, a finite float, or text without NUL (PostgreSQL refuses NUL; SQLite and psycopg
    overflow on wider integers). Anything else in a cursor was not made by this server."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -(2**63) <= value < 2**63
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, str) and "\x00" not in value


def check_page(page: int, limit: int) -> None:
    """Reject out-of-range paging early, with the message the API passes on."""
    if not 1 <= page <= MAX_PAGE:
        raise ValueError(f"page must be between 1 and {MAX_PAGE}")
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")


def offset_of(page: int, limit: int) -> int:
    return (page - 1) * limit


def count_bound(page: int, limit: int) -> int:
    """How many matching rows a list counts at most: ``COUNT_CAP``, or through the end of the
    page asked for when that is further (the rows an offset page reads anyway)."""
    return max(COUNT_CAP, offset_of(page, limit) + limit)


def known_total(page: int, limit: int, rows_on_page: int) -> int | None:
    """The exact total when the page itself tells it: a page that is not full is the last one
    (unless it is empty past the first page, when the rows may end anywhere before it)."""
    if rows_on_page < limit and (rows_on_page > 0 or page == 1):
        return offset_of(page, limit) + rows_on_page
    return None
