"""Bulk statements for the writer: compiled once from SQLAlchemy Core, fed positional tuples.

Two costs are avoided on the writer thread, which is the serial part of ingestion:

- SQLAlchemy's per-row parameter processing: the statement is compiled once per dialect and the
  driver gets plain tuples (``operator.itemgetter`` over the row dicts, in C).
- One statement per row: on SQLite, ``executemany`` releases the GIL around every row's step and
  must win it back from the mapping threads afterwards, which under load costs up to a switch
  interval (5 ms) per row; on PostgreSQL every row is a separately executed statement. Inserts
  are therefore sent as multi-row ``VALUES`` statements, up to about a thousand rows each.
"""

from __future__ import annotations

import functools
import operator
import sqlite3
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Insert, Table, Update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect

# Bound parameters per statement. SQLite: 32766 since 3.32, 999 before; PostgreSQL: 65535.
_MAX_PARAMS = {"sqlite": 32_000 if sqlite3.sqlite_version_info >= (3, 32, 0) else 999, "postgresql": 60_000}

Params = Callable[[dict[str, Any]], tuple[Any, ...]]


def insert_ignore(dialect_name: str, table: Table) -> Insert:
    """INSERT … ON CONFLICT DO NOTHING in the connection's dialect."""
    if dialect_name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


def _positional_dialect(dialect_name: str) -> Dialect:
    if dialect_name == "postgresql":
        return postgresql.psycopg.dialect(paramstyle="format")  # type: ignore[no-untyped-call]
    return sqlite.pysqlite.dialect(paramstyle="qmark")


@functools.cache
def _compiled(dialect_name: str, statement: Table | Update) -> tuple[str, Params, int]:
    """(driver SQL, row dict → parameter tuple, parameters per row) of an insert or an update."""
    dialect = _positional_dialect(dialect_name)
    if isinstance(statement, Table):
        keys = [c.name for c in statement.columns]
        compiled = insert_ignore(dialect_name, statement).compile(dialect=dialect, column_keys=keys)
    else:
        compiled = statement.compile(dialect=dialect)
    names = compiled.positiontup or []
    return str(compiled), operator.itemgetter(*names), len(names)


@functools.cache
def _multi_values_sql(sql: str, rows: int, returning: str | None) -> str:
    """``INSERT … VALUES (?, …) tail`` → the same with ``rows`` value groups (and RETURNING)."""
    head, _, rest = sql.partition(" VALUES ")
    depth, end = 0, 0
    while True:  # the first value group, parentheses balanced (casts may nest)
        depth += (rest[end] == "(") - (rest[end] == ")")
        end += 1
        if depth == 0:
            break
    group, tail = rest[:end], rest[end:]
    suffix = f" RETURNING {returning}" if returning else ""
    return f"{head} VALUES {', '.join([group] * rows)}{tail}{suffix}"


def insert_rows(conn: Connection, table: Table, rows: list[dict[str, Any]], returning: str | None = None) -> list[Any]:
    """Insert row dicts (every column present), skipping rows whose key exists.

    With ``returning`` (a column name), the values of that column for the rows actually inserted.
    """
    dialect_name = conn.dialect.name
    sql, params, width = _compiled(dialect_name, table)
    per_statement = max(1, _MAX_PARAMS.get(dialect_name, 999) // width)
    inserted: list[Any] = []
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        flat = tuple(value for row in chunk for value in params(row))
        result = conn.exec_driver_sql(_multi_values_sql(sql, len(chunk), returning), flat)
        if returning:
            inserted.extend(row[0] for row in result)
    return inserted


def update_rows(conn: Connection, statement: Update, rows: list[dict[str, Any]]) -> None:
    """Run an UPDATE with bound parameters once per row dict."""
    sql, params, _ = _compiled(conn.dialect.name, statement)
    conn.exec_driver_sql(sql, [params(row) for row in rows])
