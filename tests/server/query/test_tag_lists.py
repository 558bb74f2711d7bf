"""Tag-filtered trace lists answer the same whether the rarest tag drives the list or not."""

from __future__ import annotations

from typing import Any

import pytest

from interactiveai.server.query import traces as trace_queries
from interactiveai.server.query.filters import TraceFilter
from interactiveai.server.query.traces import list_traces
from tests.server.query.seed import SECOND, T0, add_trace, trace_id


@pytest.fixture
def seeded(engine: Any) -> Any:
    for i in range(30):
        tags = ["common"] + (["mid"] if i % 3 == 0 else []) + (["rare"] if i % 10 == 0 else [])
        add_trace(engine, "p1", trace_id(i), timestamp_us=T0 + i * SECOND, tags=tags, user_id=f"u{i % 2}")
    add_trace(engine, "p2", trace_id(100), tags=["rare", "common", "mid"])
    return engine


CASES = [
    (TraceFilter(tags=["rare"]), [20, 10, 0]),
    (TraceFilter(tags=["common", "rare"]), [20, 10, 0]),
    (TraceFilter(tags=["mid", "rare"], user_id="u0"), [0]),
    (TraceFilter(tags=["rare"], user_id="u0"), [20, 10, 0]),
    (TraceFilter(tags=["mid", "rare"], user_id="u1"), []),
    (TraceFilter(tags=["mid"]), [27, 24, 21, 18, 15, 12, 9, 6, 3, 0]),
    (TraceFilter(tags=["rare", "missing"]), []),
]


@pytest.mark.parametrize("rare_below", [0, 5, 1000])
@pytest.mark.parametrize(("filters", "expected"), CASES)
def test_same_traces_however_the_list_is_driven(
    seeded: Any, monkeypatch: pytest.MonkeyPatch, rare_below: int, filters: TraceFilter, expected: list[int]
) -> None:
    monkeypatch.setattr(trace_queries, "RARE_TAG_TRACES", rare_below)
    every = list_traces(seeded, "p1", filters, limit=50)
    assert [t.id for t in every.items] == [trace_id(i) for i in expected]
    assert (every.total, every.total_exact) == (len(expected), True)
    if len(expected) > 2:
        second = list_traces(seeded, "p1", filters, page=2, limit=2)
        assert [t.id for t in second.items] == [trace_id(i) for i in expected[2:4]]
        assert second.total == len(expected)
