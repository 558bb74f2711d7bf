from __future__ import annotations

from typing import Any

import pytest

from interactiveai.server.query.filters import TraceFilter, TraceOrder
from interactiveai.server.query.pagination import InvalidCursorError
from interactiveai.server.query.traces import (
    count_traces,
    get_observations_for_trace,
    get_trace,
    get_trace_detail,
    list_traces,
    observation_ids_for_traces,
    score_ids_for_traces,
)
from tests.server.query.seed import SECOND, T0, add_observation, add_score, add_trace, obs_id, trace_id


@pytest.fixture
def seeded(engine: Any) -> Any:
    # 10 traces one second apart; alternating users, envs, tags; one trace in another project.
    for i in range(10):
        add_trace(
            engine,
            "p1",
            trace_id(i),
            timestamp_us=T0 + i * SECOND,
            name="chat" if i % 2 else "search",
            user_id=f"user-{i % 2}",
            session_id="s1" if i < 4 else None,
            environment="production" if i < 5 else "staging",
            release="r1" if i % 3 == 0 else None,
            version="v1",
            tags=["a", "b"] if i % 2 else ["a"],
            total_tokens=i * 10,
            total_cost=i * 0.5 if i else None,
            latency_us=(10 - i) * SECOND,
            input={"q": i},
            output=f"answer {i}",
            metadata={"k": i},
        )
    add_trace(engine, "p2", trace_id(100), timestamp_us=T0, name="chat", user_id="user-1")
    return engine


def ids(page: Any) -> list[int]:
    return [int(t.id, 16) for t in page.items]


def test_default_order_is_newest_first_with_total(seeded: Any) -> None:
    page = list_traces(seeded, "p1")
    assert ids(page) == list(range(9, -1, -1))
    assert page.total == 10 and page.total_pages == 1
    trace = page.items[0]
    assert trace.input == {"q": 9} and trace.output == "answer 9" and trace.metadata == {"k": 9}
    assert trace.tags == ["a", "b"]


def test_project_isolation(seeded: Any) -> None:
    assert count_traces(seeded, "p2") == 1
    assert get_trace(seeded, "p2", trace_id(1)) is None
    assert get_trace(seeded, "p1", trace_id(100)) is None
    assert ids(list_traces(seeded, "p2")) == [100]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (TraceFilter(user_id="user-1"), [9, 7, 5, 3, 1]),
        (TraceFilter(name="search"), [8, 6, 4, 2, 0]),
        (TraceFilter(session_id="s1"), [3, 2, 1, 0]),
        (TraceFilter(tags=["a", "b"]), [9, 7, 5, 3, 1]),
        (TraceFilter(tags=["a"]), list(range(9, -1, -1))),
        (TraceFilter(tags=["a", "zzz"]), []),
        (TraceFilter(environments=["production"]), [4, 3, 2, 1, 0]),
        (TraceFilter(environments=["production", "staging"]), list(range(9, -1, -1))),
        (TraceFilter(release="r1"), [9, 6, 3, 0]),
        (TraceFilter(version="v2"), []),
        (TraceFilter(from_us=T0 + 3 * SECOND, to_us=T0 + 6 * SECOND), [5, 4, 3]),
        (TraceFilter(user_id="user-0", environments=["staging"]), [8, 6]),
        (TraceFilter(trace_ids=[trace_id(2), trace_id(100)]), [2]),
        (TraceFilter(has_session=True), [3, 2, 1, 0]),
    ],
)
def test_filters(seeded: Any, filters: TraceFilter, expected: list[int]) -> None:
    page = list_traces(seeded, "p1", filters)
    assert ids(page) == expected
    assert page.total == len(expected)


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ("timestamp.asc", list(range(10))),
        ("latency.asc", list(range(9, -1, -1))),
        ("totalTokens.desc", list(range(9, -1, -1))),
        ("totalCost.asc", [1, 2, 3, 4, 5, 6, 7, 8, 9, 0]),  # unknown cost sorts last on both engines
        ("totalCost.desc", [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]),
        ("release.asc", [0, 3, 6, 9, 1, 2, 4, 5, 7, 8]),  # ties broken by id, same direction
    ],
)
def test_orders(seeded: Any, order: str, expected: list[int]) -> None:
    assert ids(list_traces(seeded, "p1", order=TraceOrder.parse(order))) == expected


def test_bad_order_and_paging_are_rejected() -> None:
    with pytest.raises(ValueError, match="cannot order"):
        TraceOrder.parse("input.desc")
    with pytest.raises(ValueError, match="direction"):
        TraceOrder.parse("timestamp.up")


def test_page_limit(seeded: Any) -> None:
    page = list_traces(seeded, "p1", page=2, limit=3)
    assert ids(page) == [6, 5, 4]
    assert page.total == 10 and page.total_pages == 4
    assert ids(list_traces(seeded, "p1", page=5, limit=3)) == []
    with pytest.raises(ValueError):
        list_traces(seeded, "p1", page=0)


@pytest.mark.parametrize("order", ["timestamp.desc", "timestamp.asc", "totalCost.asc", "release.desc", "name.asc"])
def test_keyset_walks_every_row_once(seeded: Any, order: str) -> None:
    full = ids(list_traces(seeded, "p1", order=TraceOrder.parse(order)))
    walked: list[int] = []
    cursor = ""
    for _ in range(10):
        page = list_traces(seeded, "p1", order=TraceOrder.parse(order), limit=3, cursor=cursor, with_total=False)
        walked += ids(page)
        assert page.total is None
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert walked == full


def test_keyset_with_filters_and_wrong_cursor(seeded: Any) -> None:
    first = list_traces(seeded, "p1", TraceFilter(user_id="user-1"), limit=2, cursor="")
    assert ids(first) == [9, 7] and first.next_cursor
    second = list_traces(seeded, "p1", TraceFilter(user_id="user-1"), limit=2, cursor=first.next_cursor)
    assert ids(second) == [5, 3]
    with pytest.raises(InvalidCursorError):
        list_traces(seeded, "p1", order=TraceOrder.parse("name.asc"), cursor=first.next_cursor)
    with pytest.raises(InvalidCursorError):
        list_traces(seeded, "p1", cursor="not a cursor!")


def test_without_io(seeded: Any) -> None:
    trace = list_traces(seeded, "p1", with_io=False).items[0]
    assert trace.input is None and trace.output is None and trace.metadata == {}
    assert trace.io_loaded is False and trace.total_tokens == 90


def test_get_trace_detail_orders_observations_and_scores(engine: Any) -> None:
    tid = trace_id(1)
    add_trace(engine, "p1", tid, observation_count=3, level="ERROR", error_count=1, default_count=2)
    add_observation(engine, "p1", tid, obs_id(3), start_time_us=T0 + 2, name="late")
    add_observation(engine, "p1", tid, obs_id(1), start_time_us=T0, name="root", input={"x": 1})
    add_observation(engine, "p1", tid, obs_id(2), start_time_us=T0 + 1, parent_observation_id=obs_id(1))
    add_trace(engine, "p2", tid)  # same trace id, other project
    add_observation(engine, "p2", tid, obs_id(9), start_time_us=T0)
    add_score(engine, "p1", "s2", trace_id=tid, timestamp_us=T0 + 5)
    add_score(engine, "p1", "s1", trace_id=tid, timestamp_us=T0)
    add_score(engine, "p2", "s3", trace_id=tid)

    detail = get_trace_detail(engine, "p1", tid)
    assert detail is not None
    assert [o.id for o in detail.observations] == [obs_id(1), obs_id(2), obs_id(3)]
    assert detail.observations[0].input == {"x": 1}
    assert [s.id for s in detail.scores] == ["s1", "s2"]
    assert detail.trace.level == "ERROR"
    assert detail.trace.level_counts == {"DEBUG": 0, "DEFAULT": 2, "WARNING": 0, "ERROR": 1}
    assert get_trace_detail(engine, "p1", "missing") is None
    assert len(get_observations_for_trace(engine, "p2", tid)) == 1
    assert observation_ids_for_traces(engine, "p1", [tid, "none"]) == {
        tid: [obs_id(1), obs_id(2), obs_id(3)],
        "none": [],
    }
    assert score_ids_for_traces(engine, "p1", [tid]) == {tid: ["s1", "s2"]}
