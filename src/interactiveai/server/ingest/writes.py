"""One batch of mapped spans → observations, trace roll-ups and trace tags, in a few bulk statements.

The caller owns the transaction (see writer.py). Order of work, chosen for correctness under
concurrency (several server replicas on one PostgreSQL):

1. Lock the affected trace rows. PostgreSQL: insert placeholders for unknown traces with
   ``ON CONFLICT DO NOTHING``, then ``SELECT … FOR UPDATE``, both in (project, id) order so that
   two transactions never wait on each other in a cycle. SQLite: the transaction was opened with
   ``BEGIN IMMEDIATE``, so this writer is the only one and a plain read suffices.
2. With the traces locked, no one else can be inserting their observations: read which of the
   batch's spans are already stored and insert only the others. A re-sent span is a no-op.
3. Merge only the inserted spans into the trace rows and write them back.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from interactiveai.server.clock import now_us
from interactiveai.server.ingest.bulk import insert_rows, update_rows
from interactiveai.server.ingest.merge import MERGE_COLUMNS, empty_trace, merge_spans
from interactiveai.server.ingest.records import MappedSpan
from interactiveai.server.storage.schema import observations, trace_tags, traces

_IN_CHUNK = 500  # ids per IN (...) list: far below both engines' parameter limits

_MERGE_COLS = [traces.c[name] for name in MERGE_COLUMNS]
_UPDATE_TRACE = (
    update(traces)
    .where(traces.c.project_id == bindparam("b_project_id"), traces.c.id == bindparam("b_id"))
    .values({name: bindparam(name) for name in (*MERGE_COLUMNS, "updated_at_us")})
)


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), _IN_CHUNK):
        yield items[start : start + _IN_CHUNK]


def write_batch(conn: Connection, batch: Sequence[tuple[str, MappedSpan]]) -> int:
    """Store ``(project_id, span)`` pairs; returns how many observations were new."""
    by_project: dict[str, dict[str, list[MappedSpan]]] = defaultdict(lambda: defaultdict(list))
    seen: set[tuple[str, str, str]] = set()
    for project_id, span in batch:
        key = (project_id, span.row["trace_id"], span.row["id"])
        if key not in seen:  # the same span twice in one batch counts once, like a re-send
            seen.add(key)
            by_project[project_id][span.row["trace_id"]].append(span)
    now = now_us()
    inserted = 0
    for project_id in sorted(by_project):
        inserted += _write_project(conn, project_id, by_project[project_id], now)
    return inserted


def _write_project(conn: Connection, project_id: str, by_trace: dict[str, list[MappedSpan]], now: int) -> int:
    trace_ids = sorted(by_trace)
    current = _lock_traces(conn, project_id, trace_ids, by_trace, now)
    # A trace row and its observations are always committed together, so only traces that
    # already count observations can hold some of this batch's spans (re-sends).
    stored = _stored_observations(
        conn, project_id, {t: by_trace[t] for t, row in current.items() if row["observation_count"]}
    )
    new_rows: list[dict[str, Any]] = []
    new_by_trace: dict[str, list[MappedSpan]] = {}
    for trace_id in trace_ids:
        fresh = [s for s in by_trace[trace_id] if (trace_id, s.row["id"]) not in stored]
        if fresh:
            new_by_trace[trace_id] = fresh
            for span in fresh:
                row = span.row
                row["project_id"] = project_id
                row["created_at_us"] = now
                new_rows.append(row)
    if not new_rows:
        return 0
    insert_rows(conn, observations, new_rows)

    updates: list[dict[str, Any]] = []
    inserts: list[dict[str, Any]] = []
    tag_rows: list[dict[str, Any]] = []
    for trace_id, fresh in new_by_trace.items():
        existing = current.get(trace_id)
        base = existing if existing is not None else empty_trace(fresh[0].row["start_time_us"])
        merged, new_tags = merge_spans(base, fresh)
        merged["updated_at_us"] = now
        if existing is None:
            merged["project_id"] = project_id
            merged["id"] = trace_id
            merged["created_at_us"] = now
            merged["bookmarked"] = False
            inserts.append(merged)
        else:
            merged["b_project_id"] = project_id
            merged["b_id"] = trace_id
            updates.append(merged)
        tag_rows.extend({"project_id": project_id, "tag": tag, "trace_id": trace_id} for tag in new_tags)
    if inserts:
        insert_rows(conn, traces, inserts)
    if updates:
        update_rows(conn, _UPDATE_TRACE, updates)
    if tag_rows:
        insert_rows(conn, trace_tags, tag_rows)
    return len(new_rows)


def _lock_traces(
    conn: Connection, project_id: str, trace_ids: list[str], by_trace: dict[str, list[MappedSpan]], now: int
) -> dict[str, dict[str, Any]]:
    """The current rows of the batch's traces, locked for this transaction (see module doc)."""
    postgres = conn.dialect.name == "postgresql"
    if postgres:
        placeholders = []
        for trace_id in trace_ids:
            row = empty_trace(min(s.row["start_time_us"] for s in by_trace[trace_id]))
            row.update(project_id=project_id, id=trace_id, created_at_us=now, updated_at_us=now, bookmarked=False)
            placeholders.append(row)
        insert_rows(conn, traces, placeholders)
    current: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(trace_ids):
        query = (
            select(traces.c.id, *_MERGE_COLS)
            .where(traces.c.project_id == project_id, traces.c.id.in_(chunk))
            .order_by(traces.c.id)
        )
        if postgres:
            query = query.with_for_update()
        for found in conn.execute(query).mappings():
            current[found["id"]] = dict(found)
    return current


def _stored_observations(
    conn: Connection, project_id: str, by_trace: dict[str, list[MappedSpan]]
) -> set[tuple[str, str]]:
    """(trace_id, id) of the batch's spans that are already stored."""
    stored: set[tuple[str, str]] = set()
    if not by_trace:
        return stored
    trace_ids = sorted(by_trace)
    for chunk in _chunks(trace_ids):
        span_ids = sorted({s.row["id"] for t in chunk for s in by_trace[t]})
        for id_chunk in _chunks(span_ids):
            query = select(observations.c.trace_id, observations.c.id).where(
                observations.c.project_id == project_id,
                observations.c.trace_id.in_(chunk),
                observations.c.id.in_(id_chunk),
            )
            stored.update((r[0], r[1]) for r in conn.execute(query))
    return stored
