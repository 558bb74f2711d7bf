"""The writer's bulk inserts on SQLite (ingest/bulk.py): whatever the batch sizes, a table is
written with statements of a few fixed row counts, so the connection's statement cache keeps them
prepared. With one statement per batch size, nearly every batch prepared a new statement (the
costliest part of an insert) and the cache held up to 128 of them, megabytes each."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from interactiveai.server.ingest.bulk import insert_rows, statement_sizes
from interactiveai.server.storage.schema import trace_tags


@pytest.mark.parametrize(("rows", "most"), [(0, 800), (1, 800), (255, 800), (257, 800), (1_000, 969), (77, 10)])
def test_statement_sizes_cover_the_rows_within_the_limit(rows: int, most: int) -> None:
    sizes = statement_sizes(rows, most)
    assert sum(sizes) == rows and all(0 < size <= most for size in sizes)


def test_batches_of_any_size_use_a_few_statements_and_store_every_row(engine: Any, project: Any) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL copies rows (COPY): no multi-row statements")
    statements: set[str] = set()
    written = 0
    with engine.begin() as conn:
        conn.connection.driver_connection.set_trace_callback(statements.add)
        for size in range(1, 700, 7):  # 100 batch sizes
            rows = [
                {
                    "project_id": project.id,
                    "tag": f"t{written + i}",
                    "trace_id": "a" * 32,
                    "trace_created_at_us": 1,
                    "timestamp_us": 1,
                }
                for i in range(size)
            ]
            insert_rows(conn, trace_tags, rows)
            written += size
        conn.connection.driver_connection.set_trace_callback(None)
        stored = conn.execute(select(func.count()).select_from(trace_tags)).scalar_one()
    assert stored == written
    # the trace shows each statement with its values: its row count is its number of value groups
    counts = {sql.count("('proj-a'") for sql in statements if sql.startswith("INSERT")}
    assert counts and counts <= {256, 128, 64, 32, 16, 8, 4, 2, 1}, counts
