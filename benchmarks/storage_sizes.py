"""Bytes on disk per span, per table, and where the payload bytes are (benchmarks/seed.py prints these).

SQLite: the file plus its WAL after a checkpoint, each table with its indexes from ``dbstat``
(the FTS5 shadow tables summed as ``traces_fts``). PostgreSQL: ``pg_database_size`` and
``pg_total_relation_size`` per table (heap, TOAST and indexes). Then the payload columns: the
bytes of observation and trace input/output, and how much of the traces' share repeats their
root observation's payload byte for byte (what storing it once would save).
"""

from __future__ import annotations

import os
import sqlite3
from collections import defaultdict
from typing import Any

from sqlalchemy import create_engine, text

_PAYLOAD_SQL = """
SELECT
  (SELECT COALESCE(SUM({n}(input)), 0) + COALESCE(SUM({n}(output)), 0) FROM observations),
  (SELECT COALESCE(SUM({n}(metadata)), 0) FROM observations),
  (SELECT COALESCE(SUM({n}(input)), 0) + COALESCE(SUM({n}(output)), 0) FROM traces),
  (SELECT COALESCE(SUM(CASE WHEN t.input = o.input THEN {n}(t.input) ELSE 0 END), 0)
        + COALESCE(SUM(CASE WHEN t.output = o.output THEN {n}(t.output) ELSE 0 END), 0)
     FROM traces t JOIN observations o
       ON o.project_id = t.project_id AND o.trace_id = t.id AND o.id = t.root_observation_id),
  (SELECT COUNT(*) FROM observations)
"""


def _mb(size: float) -> str:
    return f"{size / 1e6:,.1f} MB"


def sqlite_sizes(path: str) -> tuple[int, dict[str, int], tuple[int, ...]]:
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        total = os.path.getsize(path) + (os.path.getsize(path + "-wal") if os.path.exists(path + "-wal") else 0)
        owners = dict(connection.execute("SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')"))
        tables: dict[str, int] = defaultdict(int)
        for name, size in connection.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"):
            owner = owners.get(name, name)
            tables["traces_fts" if owner.startswith("traces_fts") else owner] += size
        payload = connection.execute(_PAYLOAD_SQL.format(n="length")).fetchone()
    finally:
        connection.close()
    return total, dict(tables), tuple(payload)


def postgres_sizes(url: str) -> tuple[int, dict[str, int], tuple[int, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            total = int(connection.execute(text("SELECT pg_database_size(current_database())")).scalar_one())
            rows = connection.execute(
                text(
                    "SELECT relname, pg_total_relation_size(c.oid) FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE c.relkind = 'r' AND n.nspname = current_schema()"
                )
            )
            tables = {name: int(size) for name, size in rows}
            payload = connection.execute(text(_PAYLOAD_SQL.format(n="octet_length"))).one()
    finally:
        engine.dispose()
    return total, tables, tuple(int(value) for value in payload)


def print_sizes(database_url: str, spans: int | None = None) -> dict[str, Any]:
    """Print the figures; ``spans`` defaults to the observations stored."""
    if database_url.startswith("sqlite"):
        total, tables, payload = sqlite_sizes(database_url.split("///", 1)[1])
    else:
        total, tables, payload = postgres_sizes(database_url)
    observation_io, observation_metadata, trace_io, trace_copies, observations = payload
    spans = spans or observations or 1
    print(f"{'bytes on disk':>24}: {_mb(total)}, {total / spans:,.0f} bytes per span ({spans:,} spans)")
    for name, size in sorted(tables.items(), key=lambda item: -item[1]):
        if size >= total / 1000:
            print(f"{name:>24}: {_mb(size)} ({size / spans:,.0f} B/span, {size / total:.0%})")
    print(f"{'observation I/O':>24}: {_mb(observation_io)} ({observation_io / spans:,.0f} B/span, as text)")
    print(f"{'observation metadata':>24}: {_mb(observation_metadata)} ({observation_metadata / spans:,.0f} B/span)")
    print(f"{'trace I/O':>24}: {_mb(trace_io)} ({trace_io / spans:,.0f} B/span)")
    print(f"{'of which root copies':>24}: {_mb(trace_copies)} ({trace_copies / spans:,.0f} B/span)")
    return {"bytes": total, "tables": tables, "payload": payload, "spans": spans}
