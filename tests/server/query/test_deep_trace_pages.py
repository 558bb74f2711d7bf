"""Deep pages of the unfiltered trace list (skipped on the time index) equal plain offset pages.

Equal timestamps across page edges are the case to get right: the index orders ties by row, the
list by id.
"""

from __future__ import annotations

from typing import Any

import pytest

from interactiveai.server.query import traces as trace_queries
from interactiveai.server.query.filters import TraceOrder
from interactiveai.server.query.traces import list_traces
from tests.server.query.seed import SECOND, T0, add_trace, trace_id


@pytest.mark.parametrize("direction", ["desc", "asc"])
def test_deep_pages_equal_offset_pages(engine: Any, monkeypatch: pytest.MonkeyPatch, direction: str) -> None:
    # 40 traces on 13 timestamps (ties of 3-4), inserted out of id order; another project's too
    for n in range(40):
        m = (n * 17) % 40
        add_trace(engine, "p1", trace_id(m), timestamp_us=T0 + (m // 3) * SECOND)
    add_trace(engine, "p2", trace_id(99), timestamp_us=T0 + 5 * SECOND)
    order = TraceOrder("timestamp", direction)  # type: ignore[arg-type]
    expected = [[t.id for t in list_traces(engine, "p1", order=order, page=p, limit=7).items] for p in range(1, 9)]
    monkeypatch.setattr(trace_queries, "DEEP_OFFSET", 1)
    for p in range(1, 9):  # with ties longer than the look-back too
        monkeypatch.setattr(trace_queries, "LOOK_BACK", 1 + p % 3)
        got = list_traces(engine, "p1", order=order, page=p, limit=7)
        assert [t.id for t in got.items] == expected[p - 1], p
    flat = [i for page in expected for i in page]
    assert len(flat) == 40 and len(set(flat)) == 40
