"""Bulk statements for the writer: compiled once from SQLAlchemy Core, fed positional tuples.

Two costs are avoided on the writer thread, which is the serial part of ingestion:

- SQLAlchemy's per-row parameter processing: the statement is compiled once per dialect and the
  driver gets plain tuples (``operator.itemgetter`` over the row dicts, in C).
- One statement per row. On SQLite, ``executemany`` releases the GIL around every row's step and
  must win it back from the mapping threads afterwards, which under load costs up to a switch
  interval (5 ms) per row: inserts are sent as multi-row ``VALUES`` statements instead. Their row
  counts come from a fixed set (256, then powers of two: 1,000 rows are 256 × 3 + 128 + 64 + 32 +
  8), so that the connection's statement cache keeps every one prepared. With the count of each
  batch instead, almost every statement was new: preparing a 40-column statement costs ~37 µs
  per row (about ten times running it), and each cached one held ~3 KB per row, 2.6 MB for 800
  rows, up to the cache's 128 statements (~300 MB of the server's memory).
  On PostgreSQL every row of an ``executemany`` is a separately executed statement (about 110 µs
  a row here) and huge ``VALUES`` lists are slower still, while ``COPY`` costs about 11 µs a row:
  rows are copied into a temporary staging table and moved with one ``INSERT … SELECT … ON
  CONFLICT DO NOTHING`` or ``UPDATE … FROM``; observations, which cannot conflict (see
  writes.py), are copied straight into their table.
"""

from __future__ import annotations

import functools
import itertools
import operator
import sqlite3
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Insert, Table, Update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect

# Bound parameters per statement. SQLite: 32766 since 3.32, 999 before; PostgreSQL: 65535.
_MAX_PARAMS = {"sqlite": 32_000 if sqlite3.sqlite_version_info >= (3, 32, 0) else 999, "postgresql": 60_000}

# Rows per multi-row INSERT on SQLite: as fast per row as larger statements (measured 64-800 rows)
_ROWS_PER_STATEMENT = 256

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
    if dialect_name == "postgresql":
        return pg_insert_rows(conn, table, rows, returning)
    sql, params, width = _compiled(dialect_name, table)
    inserted: list[Any] = []
    start = 0
    for count in statement_sizes(len(rows), _MAX_PARAMS.get(dialect_name, 999) // width):
        chunk = rows[start : start + count]
        start += count
        flat = tuple(itertools.chain.from_iterable(map(params, chunk)))  # in C, no per-value generator step
        result = conn.exec_driver_sql(_multi_values_sql(sql, count, returning), flat)
        if returning:
            inserted.extend(row[0] for row in result)
    return inserted


def statement_sizes(rows: int, most: int) -> list[int]:
    """Row counts of the statements inserting ``rows`` rows, at most ``most`` each (the parameter
    limit): as many of the largest size as fit, then the rest by powers of two, so that a table's
    statements come in at most nine sizes whatever the batches (see the module docstring)."""
    largest = 1 << (max(1, min(most, _ROWS_PER_STATEMENT)).bit_length() - 1)
    sizes = [largest] * (rows // largest)
    rest = rows % largest
    while rest:
        size = 1 << (rest.bit_length() - 1)
        sizes.append(size)
        rest -= size
    return sizes


def update_rows(conn: Connection, statement: Update, rows: list[dict[str, Any]]) -> None:
    """Run an UPDATE with bound parameters once per row dict."""
    sql, params, _ = _compiled(conn.dialect.name, statement)
    conn.exec_driver_sql(sql, [params(row) for row in rows])


# --- PostgreSQL: COPY ------------------------------------------------------------------------------


# Binary COPY's wire type for each column type of ours (varchar and text share their binary form).
_BINARY_TYPES = {
    "BIGINT": "int8",
    "INTEGER": "int4",
    "SMALLINT": "int2",
    "FLOAT": "float8",
    "BOOLEAN": "bool",
    "TEXT": "text",
    "VARCHAR": "text",
}
# psycopg's binary int2/int4 dumpers wrap a value out of range silently (1,000,000 is stored as
# 16,960), where PostgreSQL refuses it in text; such a value is refused here instead. An int8 one
# makes psycopg raise OverflowError, which is reworded alike.
_NARROW = {"int2": 1 << 15, "int4": 1 << 31}
_INT_BOUNDS = {**_NARROW, "int8": 1 << 63}


@functools.cache
def _copy_statement(table: Table) -> tuple[str, list[str], Params]:
    """(column list, binary type names, row dict → values) of a table, for binary COPY."""
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    names = [c.name for c in table.columns]
    types = [_BINARY_TYPES[c.type.compile(dialect=dialect).split("(")[0]] for c in table.columns]
    values: Params = operator.itemgetter(*names)
    narrow = [(index, names[index], _NARROW[kind]) for index, kind in enumerate(types) if kind in _NARROW]
    if narrow:
        plain = values

        def values(row: dict[str, Any]) -> tuple[Any, ...]:
            found = plain(row)
            for index, name, bound in narrow:
                value = found[index]
                if value is not None and not -bound <= value < bound:
                    raise _out_of_range(table, name, value)
            return found

    return ", ".join(names), types, values


def copy_rows(conn: Connection, table: Table, rows: list[dict[str, Any]], into: str | None = None) -> None:
    """COPY row dicts (every column present) into ``table`` (or a staging table shaped like it).

    In binary format: PostgreSQL then reads each value as it is instead of parsing text (a 6 KB
    payload scanned for escapes on both sides), ~15 us per span less of its CPU with real payloads.
    """
    columns, types, values = _copy_statement(table)
    driver = conn.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor:
        with cursor.copy(f"COPY {into or table.name} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(types)
            for row in rows:
                try:
                    copy.write_row(values(row))
                except OverflowError:
                    raise _first_out_of_range(table, types, values(row)) from None


def _out_of_range(table: Table, column: str, value: Any) -> ValueError:
    # worded as PostgreSQL's own refusal in text ("... out of range"), which callers report
    return ValueError(f"value {value} of {table.name}.{column} is out of range for its type")


def _first_out_of_range(table: Table, types: list[str], values: tuple[Any, ...]) -> Exception:
    """The error to raise for a row that psycopg could not write: its first integer out of range."""
    for column, kind, value in zip(table.columns, types, values, strict=True):
        bound = _INT_BOUNDS.get(kind)
        if bound is not None and isinstance(value, int) and not -bound <= value < bound:
            return _out_of_range(table, column.name, value)
    return OverflowError(f"a value of a {table.name} row does not fit its column")


def _staging(conn: Connection, table: Table) -> str:
    """The session's staging table shaped like ``table`` (emptied at commit and rollback alike).

    Rows up to 8 KB stay uncompressed in it (``toast_tuple_target``), larger ones are compressed
    as ``table``'s columns say (lz4 since migration 0010). At the default target of ~2 KB, most
    trace rows of real payloads were compressed with pglz on their way into staging, and a
    compressed value keeps its method when copied: every trace's input and output ended up pglz
    whatever its column said, at pglz's cost (~9 us per span of PostgreSQL's CPU, the realistic
    mix of docs/benchmarks.md).
    """
    name = f"ia_stage_{table.name}"
    copied = " INCLUDING COMPRESSION" if (conn.dialect.server_version_info or (0,)) >= (14,) else ""
    conn.exec_driver_sql(
        f"CREATE TEMP TABLE IF NOT EXISTS {name} (LIKE {table.name}{copied})"
        " WITH (toast_tuple_target = 8160) ON COMMIT DELETE ROWS"
    )
    return name


def pg_insert_rows(
    conn: Connection, table: Table, rows: list[dict[str, Any]], returning: str | None = None
) -> list[Any]:
    """PostgreSQL :func:`insert_rows`: COPY to staging, then one INSERT … SELECT in key order."""
    stage = _staging(conn, table)
    copy_rows(conn, table, rows, into=stage)
    columns = ", ".join(c.name for c in table.columns)
    keys = ", ".join(c.name for c in table.primary_key.columns)
    suffix = f" RETURNING {returning}" if returning else ""
    result = conn.exec_driver_sql(
        f"INSERT INTO {table.name} ({columns}) SELECT {columns} FROM {stage} ORDER BY {keys}"
        f" ON CONFLICT DO NOTHING{suffix}"
    )
    inserted = [row[0] for row in result] if returning else []
    conn.exec_driver_sql(f"DELETE FROM {stage}")
    return inserted


def pg_update_rows(conn: Connection, table: Table, rows: list[dict[str, Any]], columns: list[str]) -> None:
    """PostgreSQL bulk UPDATE of ``columns`` by primary key: COPY to staging, one UPDATE … FROM."""
    stage = _staging(conn, table)
    copy_rows(conn, table, rows, into=stage)
    assignments = ", ".join(f"{name} = s.{name}" for name in columns)
    match = " AND ".join(f"t.{c.name} = s.{c.name}" for c in table.primary_key.columns)
    conn.exec_driver_sql(f"UPDATE {table.name} AS t SET {assignments} FROM {stage} AS s WHERE {match}")
    conn.exec_driver_sql(f"DELETE FROM {stage}")
