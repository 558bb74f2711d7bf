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
        if not isinstance(sort, str) or not isinstance(row_id, str):
            raise InvalidCursorError("invalid cursor")
        return cls(sort, value, row_id)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of results.

    ``total`` is None when the caller did not ask for a count (counting is the expensive part
    of a list on a large project). ``next_cursor`` is set when more rows follow in keyset mode.
    """

    items: list[T]
    page: int
    limit: int
    total: int | None = None
    next_cursor: str | None = None

    @property
    def total_pages(self) -> int:
        if self.total is None:
            return 0
        return math.ceil(self.total / self.limit) if self.limit else 0


def check_page(page: int, limit: int) -> None:
    """Reject out-of-range paging early, with the message the API passes on."""
    if page < 1:
        raise ValueError("page must be >= 1")
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")


def offset_of(page: int, limit: int) -> int:
    return (page - 1) * limit
