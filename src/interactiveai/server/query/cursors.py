"""Cursor pages (the reference API's v2 observations, v3 scores, experiments): keyset pagination.

A list ordered by (time descending, id descending) hands out an opaque cursor naming the last
row it returned; the next page starts strictly after it. Unlike page numbers, a page deep in a
large project reads only its own rows, and rows arriving meanwhile neither repeat nor skip one.
The cursor is base64url JSON ``[time_us, id]``; anything else is a ValueError (a 400).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import orjson
from sqlalchemy import ColumnElement, Select, and_, or_
from sqlalchemy.engine import RowMapping

from interactiveai.server.query._db import Db, connect

R = TypeVar("R")
MAX_CURSOR_CHARS = 2048


@dataclass(frozen=True, slots=True)
class Cursor:
    time_us: int
    id: str

    def encode(self) -> str:
        return base64.urlsafe_b64encode(orjson.dumps([self.time_us, self.id])).decode().rstrip("=")


@dataclass(frozen=True, slots=True)
class CursorPage(Generic[R]):
    items: list[R]
    next: Cursor | None  # None on the last page


def decode_cursor(text: str | None) -> Cursor | None:
    """The cursor a previous page handed out, or None for the first page."""
    if text is None or text == "":
        return None
    try:
        if len(text) > MAX_CURSOR_CHARS:
            raise ValueError
        value = orjson.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, binascii.Error, orjson.JSONDecodeError):
        raise ValueError("cursor is not one this server handed out") from None
    ok = isinstance(value, list) and len(value) == 2
    if not ok or type(value[0]) is not int or not isinstance(value[1], str) or abs(value[0]) > 2**62:
        raise ValueError("cursor is not one this server handed out")
    return Cursor(value[0], value[1])


def after(time: ColumnElement[Any], row_id: ColumnElement[Any], cursor: Cursor | None) -> list[ColumnElement[bool]]:
    """The condition for rows after ``cursor`` in (time desc, id desc) order (none for page one)."""
    if cursor is None:
        return []
    return [or_(time < cursor.time_us, and_(time == cursor.time_us, row_id < cursor.id))]


def fetch_cursor_page(
    db: Db,
    query: Select[Any],
    to_record: Callable[[RowMapping], R],
    key: Callable[[R], tuple[int, str]],
    *,
    limit: int,
) -> CursorPage[R]:
    """``limit`` records of ``query`` (ordered and bounded by the caller with :func:`after`), and
    the cursor of the next page when there is one (read one row more to know)."""
    with connect(db) as conn:
        rows: Sequence[RowMapping] = conn.execute(query.limit(limit + 1)).mappings().all()
    items = [to_record(row) for row in rows[:limit]]
    if len(rows) <= limit or not items:
        return CursorPage(items, None)
    time_us, row_id = key(items[-1])
    return CursorPage(items, Cursor(time_us, row_id))
