"""The key design of schema.py holds up in the query plans: no trace-based lookup scans a table.

Observations and trace tags are keyed by their trace's creation time before the trace id (see
schema.py), so a lookup that filters them by trace id alone would silently scan the project. This
runs the trace-based reads and deletes against SQLite, captures every statement and asks SQLite
for its plan: observations and trace_tags must only ever be searched through an index.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from interactiveai.server import retention
from interactiveai.server.query.datasets import source_io
from interactiveai.server.query.filters import ObservationFilter, TraceFilter
from interactiveai.server.query.observations import get_observation, list_observations
from interactiveai.server.query.traces import get_trace_detail, list_traces, observation_ids_for_traces
from interactiveai.server.query.ui_trace_detail import get_compact_observations
from tests.server.query.seed import add_observation, add_trace, obs_id, trace_id


@contextmanager
def captured(engine: Any) -> Iterator[list[tuple[str, Any]]]:
    statements: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "DELETE")):
            statements.append((statement, parameters[0] if executemany else parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def unindexed(engine: Any, statements: list[tuple[str, Any]]) -> list[str]:
    """Plan lines that read observations or trace_tags by more than one trace's (or one row's) key:
    a scan, or a search that does not reach the trace id (or the observation id)."""
    found = []
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        for statement, parameters in statements:
            for row in raw.execute("EXPLAIN QUERY PLAN " + statement, parameters).fetchall():
                detail = row[-1]
                if "observations" not in detail and "trace_tags" not in detail:
                    continue
                keyed = "trace_id=?" in detail or "AND id=?" in detail
                # One tag's traces, at most RARE_TAG_TRACES + 1 of them (query/traces.py): bounded.
                keyed = keyed or ("trace_tags" in detail and "tag=?" in detail and "LIMIT" in statement)
                if detail.startswith("SCAN") or (detail.startswith("SEARCH") and not keyed):
                    found.append(f"{detail}  <-  {statement[:160]}")
    return found


def test_trace_based_lookups_use_the_keys(dialect: str, engine: Any) -> None:
    if dialect != "sqlite":
        pytest.skip("PostgreSQL plans tables of a few rows with sequential scans whatever the indexes")
    for n in range(1, 4):
        add_trace(engine, "p1", trace_id(n), tags=["a", "b"], user_id="u1")
        for k in range(3):
            add_observation(engine, "p1", trace_id(n), obs_id(n * 10 + k))
    lookups: dict[str, Callable[[], Any]] = {
        "trace detail": lambda: get_trace_detail(engine, "p1", trace_id(1)),
        "trace page tree": lambda: get_compact_observations(engine, "p1", trace_id(1)),
        "observation ids of traces": lambda: observation_ids_for_traces(engine, "p1", [trace_id(1), trace_id(2)]),
        "observations of a trace": lambda: list_observations(engine, "p1", ObservationFilter(trace_id=trace_id(2))),
        "observation by id": lambda: get_observation(engine, "p1", obs_id(11)),
        "observation by id in its trace": lambda: get_observation(engine, "p1", obs_id(11), trace_id=trace_id(1)),
        "dataset item source": lambda: source_io(engine, "p1", trace_id(1), obs_id(11)),
        "traces with tags": lambda: list_traces(engine, "p1", TraceFilter(tags=["a", "b"])),
        "trace deletion": lambda: retention.delete_traces(engine, "p1", [trace_id(3)]),
    }
    problems = {}
    for name, lookup in lookups.items():
        with captured(engine) as statements:
            lookup()
        assert statements, name
        problems[name] = unindexed(engine, statements)
    assert problems == {name: [] for name in lookups}
