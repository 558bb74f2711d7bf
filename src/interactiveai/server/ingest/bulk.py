"""Bulk statements for the writer: compiled once from SQLAlchemy Core, fed positional tuples.

Two costs are avoided on the writer thread, which is the serial part of ingestion:

- SQLAlchemy's per-row parameter processing: the statement is compiled once per dialect and the
  driver gets plain tuples (``operator.itemgetter`` over the row dicts, in C).
- On SQLite, the per-row GIL round trip of ``executemany``: the sqlite3 module releases the GIL
  around every row's step and must win it back from the mapping threads afterwards, which under
  load costs up to a switch interval (5 ms) per row. Inserts are therefore sent as multi-row
  ``VALUES`` statements, hundreds of rows per step.
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

# Bound parameters per SQLite statement: 32766 since SQLite 3.32, 999 before.
_SQLITE_MAX_PARAMS = 32_000 if sqlite3.sqlite_version_info >= (3, 32, 0) else 999

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
def _multi_values_sql(sql: str, rows: int) -> str:
    """``INSERT … VALUES (?, …)`` → the same with ``rows`` value groups."""
    head, _, rest = sql.partition(" VALUES ")
    group_end = rest.index(")") + 1
    group, tail = rest[:group_end], rest[group_end:]
    return f"{head} VALUES {', '.join([group] * rows)}{tail}"


def insert_rows(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert row dicts (every column present), ignoring rows whose key exists."""
    sql, params, width = _compiled(conn.dialect.name, table)
    if conn.dialect.name != "sqlite":
        conn.exec_driver_sql(sql, [params(row) for row in rows])
        return
    per_statement = max(1, _SQLITE_MAX_PARAMS // width)
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        flat = tuple(value for row in chunk for value in params(row))
        conn.exec_driver_sql(_multi_values_sql(sql, len(chunk)), flat)


def update_rows(conn: Connection, statement: Update, rows: list[dict[str, Any]]) -> None:
    """Run an UPDATE with bound parameters once per row dict."""
    sql, params, _ = _compiled(conn.dialect.name, statement)
    conn.exec_driver_sql(sql, [params(row) for row in rows])
