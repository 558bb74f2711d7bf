"""A trace's, a session's and a page's scores are read through their own index, not the project's
by time or name."""

from __future__ import annotations

from typing import Any

import pytest

from interactiveai.server.query.scores import scores_for_session
from interactiveai.server.query.traces import get_trace_detail
from interactiveai.server.query.ui_traces import scores_for_traces
from tests.server.query.seed import SECOND, T0, add_score, add_trace, trace_id
from tests.server.storage.test_query_plans import captured


def test_scores_of_a_trace_or_session_use_their_index(dialect: str, engine: Any) -> None:
    if dialect != "sqlite":
        pytest.skip("the plan of SQLite without statistics")
    add_trace(engine, "p1", trace_id(1), session_id="s1")
    for n in range(30):
        add_score(
            engine, "p1", f"score-{n}", trace_id=trace_id(n % 3), session_id=f"s{n % 2}", timestamp_us=T0 - n * SECOND
        )
    with captured(engine) as statements:
        detail = get_trace_detail(engine, "p1", trace_id(1))
        session = scores_for_session(engine, "p1", "s1")
        page = scores_for_traces(engine, "p1", [trace_id(0), trace_id(1)])
    assert detail is not None and [s.id for s in detail.scores] == [
        f"score-{n}" for n in (28, 25, 22, 19, 16, 13, 10, 7, 4, 1)
    ]
    assert [len(page[trace_id(n)]) for n in (0, 1)] == [10, 10]
    assert [s.timestamp_us for s in session] == sorted(s.timestamp_us for s in session) and len(session) == 15
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        plans = [
            row[-1]
            for statement, parameters in statements
            if "FROM scores" in statement
            for row in raw.execute("EXPLAIN QUERY PLAN " + statement, parameters).fetchall()
        ]
    assert plans and not [
        p for p in plans if "ix_scores_project_time" in p or "name_time" in p or p.startswith("SCAN")
    ], plans
