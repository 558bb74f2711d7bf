"""The observation and score ids of a page of traces: right per trace, and read by key per trace.

The plan check runs on SQLite only: a fresh test database has no statistics, as most databases
never have (nothing runs ANALYZE), and the plan SQLite picks without them is the one that
read every trace's observations through the project's start-time index (~0.4 s at 1 M rows).
PostgreSQL plans by its statistics, so its plan is checked by benchmarks/api_lists.py instead.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, text

from interactiveai.server.query.traces import observation_ids_for_traces, score_ids_for_traces
from tests.server.query.seed import SECOND, T0, add_observation, add_score, add_trace, obs_id, trace_id


@pytest.fixture
def seeded(engine: Any) -> Any:
    # two traces created at the same microsecond, so the key's time alone does not tell them apart
    for t, created in [(1, T0), (2, T0), (3, T0 + SECOND)]:
        add_trace(engine, "p1", trace_id(t), timestamp_us=created)
        for k in (2, 1):  # inserted out of start order
            add_observation(engine, "p1", trace_id(t), obs_id(t * 10 + k), start_time_us=created + k)
            add_score(engine, "p1", f"score-{t}-{k}", trace_id=trace_id(t), timestamp_us=created + k)
    add_trace(engine, "p2", trace_id(1), timestamp_us=T0)
    add_observation(engine, "p2", trace_id(1), obs_id(99))
    return engine


def test_ids_per_trace_in_time_order(seeded: Any) -> None:
    asked = [trace_id(1), trace_id(3), trace_id(7), trace_id(1)]
    assert observation_ids_for_traces(seeded, "p1", asked) == {
        trace_id(1): [obs_id(11), obs_id(12)],
        trace_id(3): [obs_id(31), obs_id(32)],
        trace_id(7): [],
    }
    assert score_ids_for_traces(seeded, "p1", [trace_id(2)]) == {trace_id(2): ["score-2-1", "score-2-2"]}
    assert observation_ids_for_traces(seeded, "p2", [trace_id(1)]) == {trace_id(1): [obs_id(99)]}


def test_many_traces_are_read_in_chunks(seeded: Any) -> None:
    asked = [trace_id(n) for n in range(1000, 1120)] + [trace_id(2)]
    found = observation_ids_for_traces(seeded, "p1", asked)
    assert found[trace_id(2)] == [obs_id(21), obs_id(22)]
    assert sum(map(len, found.values())) == 2


def test_observations_are_found_by_key_per_trace(seeded: Any, dialect: str) -> None:
    if dialect != "sqlite":
        pytest.skip("PostgreSQL plans by its statistics: measured by benchmarks/api_lists.py")
    statements: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if "FROM observations" in statement:
            statements.append((statement, parameters))

    with seeded.connect() as conn:
        event.listen(conn, "before_cursor_execute", record)
        # a page's worth of ids: from about ten, the join from traces was planned the other way round
        observation_ids_for_traces(conn, "p1", [trace_id(n) for n in range(50)])
        event.remove(conn, "before_cursor_execute", record)
        [(statement, parameters)] = statements
        plan = [row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
        assert not conn.execute(text("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")).all()
    reads = [step for step in plan if "observations" in step]
    assert reads, plan
    assert all("trace_created_at_us=?" in step for step in reads), plan
