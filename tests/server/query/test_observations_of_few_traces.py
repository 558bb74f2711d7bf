"""Observation lists narrowed to a user's or a session's traces answer the same whether those
traces' observations are read by key and sorted, or found walking the project's time index."""

from __future__ import annotations

from typing import Any

import pytest

from interactiveai.server.query import observations as observation_queries
from interactiveai.server.query.cursor_lists import observations_page
from interactiveai.server.query.cursors import Cursor
from interactiveai.server.query.filters import ObservationFilter
from interactiveai.server.query.observations import list_observations
from tests.server.query.seed import SECOND, T0, add_observation, add_trace, obs_id, trace_id


@pytest.fixture
def seeded(engine: Any) -> Any:
    # traces created out of their start order, observations interleaved in time across traces
    for t in range(6):
        add_trace(
            engine, "p1", trace_id(t), timestamp_us=T0 + (5 - t) * SECOND, user_id=f"u{t % 2}", session_id=f"s{t % 3}"
        )
        for k in range(3):
            add_observation(
                engine, "p1", trace_id(t), obs_id(t * 10 + k), start_time_us=T0 + k * 10 * SECOND + t * SECOND
            )
    add_trace(engine, "p2", trace_id(0), user_id="u0", session_id="s0")
    add_observation(engine, "p2", trace_id(0), obs_id(99))
    return engine


def expected(traces: list[int]) -> list[str]:
    """Newest first: start time T0 + k·10 s + t s, ties impossible."""
    rows = [(k * 10 + t, obs_id(t * 10 + k)) for t in traces for k in range(3)]
    return [oid for _, oid in sorted(rows, reverse=True)]


@pytest.mark.parametrize("few", [0, 5_000])
def test_a_users_observations(seeded: Any, monkeypatch: pytest.MonkeyPatch, few: int) -> None:
    monkeypatch.setattr(observation_queries, "FEW_TRACES", few)
    want = expected([0, 2, 4])
    page = list_observations(seeded, "p1", ObservationFilter(user_id="u0"), limit=4)
    assert [o.id for o in page.items] == want[:4] and page.total == len(want)
    second = list_observations(seeded, "p1", ObservationFilter(user_id="u0"), page=2, limit=4)
    assert [o.id for o in second.items] == want[4:8]


@pytest.mark.parametrize("few", [0, 5_000])
def test_cursor_pages_of_a_user_and_a_session(seeded: Any, monkeypatch: pytest.MonkeyPatch, few: int) -> None:
    monkeypatch.setattr(observation_queries, "FEW_TRACES", few)
    for filters, session, traces in [
        (ObservationFilter(user_id="u1"), None, [1, 3, 5]),
        (ObservationFilter(), "s0", [0, 3]),
        (ObservationFilter(user_id="u1"), "s0", [3]),
    ]:
        seen: list[str] = []
        cursor: Cursor | None = None
        while True:
            page = observations_page(seeded, "p1", filters, session_id=session, is_root=None, cursor=cursor, limit=2)
            seen += [o.id for o in page.items]
            if page.next is None:
                break
            cursor = page.next
        assert seen == expected(traces), (filters, session)
