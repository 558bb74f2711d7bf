"""Tag rows carry their trace's timestamp whatever moves it, and lists read in that order answer
as the trace rows do (migration 0015, ``query/tag_lists.py``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from interactiveai.server.query.filters import TraceFilter, TraceOrder
from interactiveai.server.query.traces import list_traces
from interactiveai.server.query.ui_traces import TraceListFilter, list_trace_page
from interactiveai.server.storage.schema import trace_tags, traces
from tests.server.ingest.otlp_builders import SpanSpec
from tests.server.query.seed import SECOND, T0, add_trace, trace_id
from tests.server.rollups.test_rollups_equal_exact import post

MS_NS = 1_000_000


def tag_times(engine: Any, project_id: str) -> list[tuple[str, str, int | None, int]]:
    """(trace id, tag, the tag row's timestamp, the trace's) of every tag row of the project."""
    query = (
        select(trace_tags.c.trace_id, trace_tags.c.tag, trace_tags.c.timestamp_us, traces.c.timestamp_us)
        .join(traces, (traces.c.project_id == trace_tags.c.project_id) & (traces.c.id == trace_tags.c.trace_id))
        .where(trace_tags.c.project_id == project_id)
        .order_by(trace_tags.c.trace_id, trace_tags.c.tag)
    )
    with engine.connect() as conn:
        return [(a, b, c, d) for a, b, c, d in conn.execute(query)]


def span(trace: str, span_id: str, start_ns: int, tags: list[str] | None = None, parent: str | None = None) -> SpanSpec:
    attributes: dict[str, Any] = {"interactiveai.trace.tags": tags} if tags else {}
    return SpanSpec(
        trace, span_id, "s", start_ns=start_ns, end_ns=start_ns + MS_NS, attributes=attributes, parent_id=parent
    )


def test_tag_rows_follow_their_trace_through_ingestion(client: Any, engine: Any, project: Any) -> None:
    """A child first (with tags), then its root starting earlier, then a span with a new tag
    starting earlier still: the trace's timestamp moves twice and its tag rows with it."""
    t0 = 1_790_000_000 * 10**9
    a, b = "a" * 32, "b" * 32
    post(client, project, [span(a, "1" * 16, t0 + 50 * MS_NS, ["x", "y"], parent="4" * 16)])
    post(client, project, [span(a, "4" * 16, t0 + 10 * MS_NS), span(b, "2" * 16, t0, ["x"])])
    post(client, project, [span(a, "3" * 16, t0 + 1 * MS_NS, ["z"], parent="4" * 16)])
    rows = tag_times(engine, project.id)
    assert [(t, g) for t, g, _, _ in rows] == [(a, "x"), (a, "y"), (a, "z"), (b, "x")]
    assert all(ours == theirs for _, _, ours, theirs in rows), rows
    assert rows[0][3] == (t0 + MS_NS) // 1000
    event = {
        "id": "e1",
        "type": "trace-create",
        "timestamp": "2026-01-01T00:00:00Z",
        "body": {"id": b, "timestamp": "2025-06-01T00:00:00Z", "tags": ["w"]},
    }
    response = client.post("/api/public/ingestion", json={"batch": [event]}, headers=project.headers)
    assert response.status_code == 207, response.text
    rows = tag_times(engine, project.id)
    assert all(ours == theirs for _, _, ours, theirs in rows), rows


def test_tag_rows_follow_a_trace_whose_tags_are_unreadable(engine: Any) -> None:
    add_trace(engine, "p1", trace_id(1), timestamp_us=T0, tags=["x", "y"])
    with engine.begin() as conn:
        conn.execute(update(traces).where(traces.c.id == trace_id(1)).values(tags="not json"))
        conn.execute(update(traces).where(traces.c.id == trace_id(1)).values(timestamp_us=T0 - SECOND))
    assert [ours for _, _, ours, _ in tag_times(engine, "p1")] == [T0 - SECOND, T0 - SECOND]


def test_lists_read_in_tag_order_equal_the_trace_order(engine: Any) -> None:
    """Ties on timestamp, a moved trace, environments, windows, pages and cursors both ways."""
    for i in range(40):
        tags = ["all"] + (["third"] if i % 3 == 0 else [])
        env = "production" if i % 4 else "staging"
        add_trace(engine, "p1", trace_id(i), timestamp_us=T0 + (i // 3) * SECOND, tags=tags, environment=env)
    add_trace(engine, "p2", trace_id(99), timestamp_us=T0, tags=["all", "third"])
    with engine.begin() as conn:  # trace 5 moves to the latest time
        conn.execute(update(traces).where(traces.c.id == trace_id(5)).values(timestamp_us=T0 + 100 * SECOND))
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(select(traces).where(traces.c.project_id == "p1")).mappings()]

    def expected(f: TraceFilter, descending: bool = True) -> list[str]:
        keep = [
            r
            for r in rows
            if all(tag in r["tags"] for tag in f.tags)
            and (not f.environments or r["environment"] in f.environments)
            and (f.from_us is None or r["timestamp_us"] >= f.from_us)
            and (f.to_us is None or r["timestamp_us"] < f.to_us)
        ]
        keep.sort(key=lambda r: (r["timestamp_us"], r["id"]), reverse=descending)
        return [r["id"] for r in keep]

    filters = [
        TraceFilter(tags=["third"]),
        TraceFilter(tags=["all", "third"]),
        TraceFilter(tags=["all"], environments=["staging"]),
        TraceFilter(tags=["all"], from_us=T0 + 2 * SECOND, to_us=T0 + 9 * SECOND),
    ]
    for f in filters:
        for direction in ("desc", "asc"):
            want = expected(f, direction == "desc")
            order = TraceOrder(direction=direction)
            paged = [t.id for p in range(1, 12) for t in list_traces(engine, "p1", f, order, page=p, limit=4).items]
            assert paged == want, (f, direction)
            first = list_traces(engine, "p1", f, order, limit=4)
            assert (first.total, first.total_exact) == (len(want), True)
            walked, cursor = [], ""
            while cursor is not None:
                page = list_traces(engine, "p1", f, order, cursor=cursor, limit=3)
                walked += [t.id for t in page.items]
                cursor = page.next_cursor
            assert walked == want, (f, direction)
        ui = TraceListFilter(tags=f.tags, environments=list(f.environments), from_us=f.from_us, to_us=f.to_us)
        seen, ui_cursor = [], None
        for _ in range(20):
            ui_page = list_trace_page(engine, "p1", ui, cursor=ui_cursor, limit=3)
            seen += [r["id"] for r in ui_page.rows]
            assert ui_page.total == len(expected(f))
            ui_cursor = ui_page.next_cursor
            if ui_cursor is None:
                break
        assert seen == expected(f), f
