from __future__ import annotations

from typing import Any

from interactiveai.server.query.filters import SessionFilter
from interactiveai.server.query.sessions import get_session, list_sessions
from tests.server.query.seed import SECOND, T0, add_score, add_trace, trace_id


def test_sessions_are_derived_from_traces(engine: Any) -> None:
    add_trace(engine, "p1", trace_id(1), session_id="s1", user_id="u1", timestamp_us=T0, latency_us=SECOND)
    add_trace(engine, "p1", trace_id(2), session_id="s1", user_id="u2", timestamp_us=T0 + 4 * SECOND, latency_us=None)
    add_trace(engine, "p1", trace_id(3), session_id="s2", timestamp_us=T0 + 9 * SECOND, total_cost=0.25)
    add_trace(engine, "p2", trace_id(4), session_id="s1", timestamp_us=T0)
    add_score(engine, "p1", "sc", session_id="s1")

    page = list_sessions(engine, "p1")
    assert [s.id for s in page.items] == ["s2", "s1"] and page.total == 2
    s1 = page.items[1]
    assert s1.trace_count == 2 and s1.user_ids == ["u1", "u2"]
    # duration: first start to the latest end, an open trace counting at its start
    assert s1.created_at_us == T0 and s1.last_trace_at_us == T0 + 4 * SECOND and s1.duration_seconds == 4.0
    assert s1.total_cost is None and page.items[0].total_cost == 0.25

    assert [s.id for s in list_sessions(engine, "p1", SessionFilter(to_us=T0 + SECOND)).items] == ["s1"]
    assert list_sessions(engine, "p1", SessionFilter(user_id="u2")).total == 1

    detail = get_session(engine, "p1", "s1")
    assert detail is not None
    assert [t.id for t in detail.traces] == [trace_id(1), trace_id(2)] and [s.id for s in detail.scores] == ["sc"]
    other = get_session(engine, "p2", "s1")
    assert other is not None and [t.id for t in other.traces] == [trace_id(4)] and other.scores == []
    assert get_session(engine, "p2", "s2") is None
