"""Small helpers shared by the query modules: connections, row fetching and JSON columns."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import fields
from typing import Any, TypeVar

import orjson
from sqlalchemy import ColumnElement, Connection, Engine, FromClause, RowMapping, Select, func, literal_column, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.selectable import Join

from interactiveai.server import json_values
from interactiveai.server.query.pagination import Page, count_bound, known_total, offset_of

R = TypeVar("R")

Db = Engine | Connection
"""Query functions accept either; an engine gets a short-lived connection per call."""


@contextmanager
def connect(db: Db) -> Iterator[Connection]:
    """Yield a connection: the given one, or a fresh one from the engine (closed afterwards)."""
    if isinstance(db, Connection):
        yield db
        return
    with db.connect() as conn:
        yield conn


def fetch_one(db: Db, query: Select[Any], to_record: Callable[[RowMapping], R]) -> R | None:
    """The first row of ``query`` as a record, or None when there is none."""
    with connect(db) as conn:
        row = conn.execute(query).mappings().first()
    return None if row is None else to_record(row)


def fetch_all(db: Db, query: Select[Any], to_record: Callable[[RowMapping], R]) -> list[R]:
    with connect(db) as conn:
        return [to_record(row) for row in conn.execute(query).mappings()]


def fetch_page(
    db: Db,
    query: Select[Any],
    to_record: Callable[[RowMapping], R],
    *,
    page: int,
    limit: int,
    counted: Select[Any] | None,
) -> Page[R]:
    """One page of ``query`` (ordered by the caller) as records; ``counted`` (when given) selects
    the matching rows, counted as ``page_total`` says."""
    with connect(db) as conn:
        rows = conn.execute(query.limit(limit).offset(offset_of(page, limit))).mappings()
        items = [to_record(row) for row in rows]
        total, exact = (None, True) if counted is None else page_total(conn, counted, page, limit, len(items))
    return Page(items=items, page=page, limit=limit, total=total, total_exact=exact)


def fetch_group_page(
    db: Db,
    ids_query: Select[Any],
    aggregate: Callable[[Connection, list[str]], list[R]],
    *,
    page: int,
    limit: int,
    counted: Select[Any] | None,
) -> Page[R]:
    """One page of groups (sessions, users) in two steps: the page's ids (the first column of
    ``ids_query``, ordered by the caller), then ``aggregate`` reads the records of just those ids.
    ``counted`` selects one row per matching group."""
    with connect(db) as conn:
        ids = [row[0] for row in conn.execute(ids_query.limit(limit).offset(offset_of(page, limit)))]
        items = aggregate(conn, ids)
        total, exact = (None, True) if counted is None else page_total(conn, counted, page, limit, len(ids))
    return Page(items=items, page=page, limit=limit, total=total, total_exact=exact)


def page_total(conn: Connection, counted: Select[Any], page: int, limit: int, rows_on_page: int) -> tuple[int, bool]:
    """The total behind a page and whether it is exact.

    A page that is not full tells the total without a query. Otherwise the rows of ``counted``
    are counted up to ``count_bound`` (1,000, or the end of the page asked for) plus one: a
    count stops there instead of reading every matching row of a large project. Past the bound
    the total is that bound plus one, a lower bound that keeps ``totalPages`` beyond the page,
    so a client reading page after page until ``totalPages`` still reaches the last row.
    """
    known = known_total(page, limit, rows_on_page)
    if known is not None:
        return known, True
    bound = count_bound(page, limit)
    capped = counted.limit(bound + 1).subquery()
    total = int(conn.execute(select(func.count()).select_from(capped)).scalar_one())
    return total, total <= bound


def matching_rows(table: FromClause, conditions: Iterable[ColumnElement[bool]]) -> Select[Any]:
    """``SELECT 1 FROM table WHERE conditions``: the rows a list counts (``page_total``)."""
    return select(literal_column("1")).select_from(table).where(*conditions)


def count_rows(table: FromClause, conditions: Iterable[ColumnElement[bool]]) -> Select[Any]:
    """``SELECT count(*) FROM table WHERE conditions``: an exact count, every matching row read."""
    return select(func.count()).select_from(table).where(*conditions)


def record_from_row(record_type: type[R], row: Mapping[Any, Any], **converted: Any) -> R:
    """A record (dataclass) from a row: each field is the column of the same name, except the
    ``converted`` ones (parsed JSON, booleans), given as arguments.

    The hot records (traces and observations, a thousand rows a list) keep hand-written mappers:
    naming every field is about a quarter faster than this generic copy.
    """
    names = _FIELD_NAMES.get(record_type)
    if names is None:
        names = _FIELD_NAMES[record_type] = tuple(f.name for f in fields(record_type))  # type: ignore[arg-type]
    copied = {name: row[name] for name in names if name not in converted}
    return record_type(**copied, **converted)


_FIELD_NAMES: dict[type[Any], tuple[str, ...]] = {}
"""Each record type's field names, read once."""


def load_json(text: str | None) -> Any:
    """Parse a stored JSON column. Text that is not JSON is returned as-is, never raised on, and
    so is a value nested too deep for the API and the UI to write back (``json_values.parse``).

    Ingestion stores what clients sent; a client may have sent a bare string that is not
    JSON, an older version may have stored a value nested 300 deep, and one odd payload must
    not make a whole trace, or a list holding it, unreadable.
    """
    if text is None:
        return None
    try:
        return json_values.parse(text)
    except orjson.JSONDecodeError:
        return text


def load_json_object(text: str | None) -> dict[str, Any]:
    """Parse a JSON object column (metadata, usage/cost maps); anything else reads as ``{}``."""
    value = load_json(text)
    return value if isinstance(value, dict) else {}


def load_json_list(text: str | None) -> list[Any]:
    value = load_json(text)
    return value if isinstance(value, list) else []


class _LeftDrivenJoin(Join):
    inherit_cache = True


def left_driven_join(left: FromClause, right: FromClause, onclause: ColumnElement[bool]) -> Join:
    """An inner join whose left side is read first, as written.

    SQLite without statistics may drive a join from the side whose index has a constant prefix
    (the project's 5 M observations) instead of the few rows the other side's filter selects;
    its CROSS JOIN keeps the written order. PostgreSQL plans it as any inner join.
    """
    return _LeftDrivenJoin(left, right, onclause)


@compiles(_LeftDrivenJoin, "sqlite")
def _sqlite_cross_join(join: _LeftDrivenJoin, compiler: SQLCompiler, **kw: Any) -> str:
    assert join.onclause is not None
    kw["asfrom"] = True
    left, right = compiler.process(join.left, **kw), compiler.process(join.right, **kw)
    return f"{left} CROSS JOIN {right} ON {compiler.process(join.onclause, **kw)}"
