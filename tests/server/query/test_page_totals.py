"""What ``meta`` counts: exact totals up to a bound, a lower bound past it, on every list.

The bound (``COUNT_CAP``, 10,000 rows) is lowered to 5 here so that a dozen rows cross it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from interactiveai.server.query import pagination
from interactiveai.server.query.observations import list_observations
from interactiveai.server.query.pagination import Page
from interactiveai.server.query.scores import list_scores
from interactiveai.server.query.sessions import list_sessions
from interactiveai.server.query.traces import list_traces
from interactiveai.server.query.users import list_users
from tests.server.query.seed import SECOND, T0, add_observation, add_score, add_trace, obs_id, trace_id

ROWS = 12

Lister = Callable[..., Page[Any]]
LISTS: dict[str, Lister] = {
    "traces": list_traces,
    "observations": list_observations,
    "scores": list_scores,
    "sessions": list_sessions,
    "users": list_users,
}


@pytest.fixture
def seeded(engine: Any) -> Any:
    """Twelve traces, each its own session and user, with one observation and one score; and a
    trace of another project that no count may include."""
    for i in range(ROWS):
        at = T0 + i * SECOND
        add_trace(engine, "p1", trace_id(i), timestamp_us=at, session_id=f"s{i}", user_id=f"u{i}")
        add_observation(engine, "p1", trace_id(i), obs_id(i), start_time_us=at)
        add_score(engine, "p1", f"score-{i}", trace_id=trace_id(i), timestamp_us=at)
    add_trace(engine, "p2", trace_id(99), session_id="s0", user_id="u0")
    add_observation(engine, "p2", trace_id(99), obs_id(99))
    add_score(engine, "p2", "score-99", trace_id=trace_id(99))
    return engine


@pytest.fixture
def low_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pagination, "COUNT_CAP", 5)


@pytest.mark.parametrize("name", LISTS)
def test_under_the_cap_the_total_is_exact(seeded: Any, name: str) -> None:
    for page, limit in [(1, 5), (2, 5), (3, 5), (1, 50), (9, 5)]:
        result = LISTS[name](seeded, "p1", page=page, limit=limit)
        assert (result.total, result.total_exact) == (ROWS, True), (page, limit)


@pytest.mark.parametrize("name", LISTS)
def test_past_the_cap_the_total_is_a_lower_bound_beyond_the_page(seeded: Any, low_cap: None, name: str) -> None:
    first = LISTS[name](seeded, "p1", page=1, limit=2)
    assert (first.total, first.total_exact, first.total_pages) == (6, False, 3)
    # counted through the end of the page asked for, plus one row: the next page is announced
    deeper = LISTS[name](seeded, "p1", page=4, limit=2)
    assert (deeper.total, deeper.total_exact, deeper.total_pages) == (9, False, 5)
    # the count reached every row: exact again
    last = LISTS[name](seeded, "p1", page=6, limit=2)
    assert (last.total, last.total_exact) == (ROWS, True)
    past_the_end = LISTS[name](seeded, "p1", page=40, limit=2)
    assert (past_the_end.items, past_the_end.total, past_the_end.total_exact) == ([], ROWS, True)


@pytest.mark.parametrize("name", LISTS)
def test_reading_until_total_pages_reaches_every_row(seeded: Any, low_cap: None, name: str) -> None:
    seen: list[Any] = []
    page = 1
    while True:
        result = LISTS[name](seeded, "p1", page=page, limit=2)
        seen.extend(item.id for item in result.items)
        if page >= result.total_pages:
            break
        page += 1
    assert len(seen) == len(set(seen)) == ROWS


def test_filtered_totals_count_the_filter(seeded: Any, low_cap: None) -> None:
    from interactiveai.server.query.filters import TraceFilter

    narrow = list_traces(seeded, "p1", TraceFilter(user_id="u3"), limit=2)
    assert (narrow.total, narrow.total_exact) == (1, True)
    window = TraceFilter(from_us=T0 + 2 * SECOND, to_us=T0 + 10 * SECOND)
    assert list_traces(seeded, "p1", window, page=2, limit=4).total == 8


def test_keyset_pages_count_the_rows_before_the_cursor_too(seeded: Any) -> None:
    first = list_traces(seeded, "p1", limit=5, cursor="")
    assert first.next_cursor is not None
    second = list_traces(seeded, "p1", limit=10, cursor=first.next_cursor)
    assert (len(second.items), second.total, second.total_exact) == (7, ROWS, True)


def test_api_meta_keeps_its_integer_shape_past_the_cap(client: Any, project: Any, engine: Any, low_cap: None) -> None:
    for i in range(ROWS):
        add_trace(engine, project.id, trace_id(i), timestamp_us=T0 + i * SECOND)
    for page, expected in [(1, {"totalItems": 6, "totalPages": 3}), (6, {"totalItems": ROWS, "totalPages": 6})]:
        body = client.get("/api/public/traces", params={"limit": 2, "page": page}, headers=project.headers).json()
        assert body["meta"] == {"page": page, "limit": 2, **expected}
