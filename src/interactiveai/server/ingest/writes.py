"""One batch of mapped spans → observations, trace roll-ups and trace tags, in a few bulk statements.

The caller owns the transaction (see writer.py). Order of work, chosen for correctness under
concurrency (several server replicas on one PostgreSQL):

1. Lock the affected trace rows that exist (PostgreSQL: ``SELECT … FOR UPDATE`` in id order;
   SQLite: the transaction was opened with ``BEGIN IMMEDIATE``, so this writer is the only one).
2. Insert the unknown traces as finished rows (their spans merged in Python), in id order, with
   ``ON CONFLICT DO NOTHING RETURNING id``. A trace another replica inserted in the meantime is
   then locked and treated as existing. Inserting new keys in sorted order after locking existing
   rows in sorted order cannot form a wait cycle (an insert only waits for another transaction's
   uncommitted insert of the same key), and a deadlock error would be retried anyway.
3. With the traces locked, no one else can be inserting their observations: read which of the
   batch's spans are already stored and insert only the others. A re-sent span is a no-op.
   Each observation carries its trace row's ``created_at_us`` (part of its primary key, see
   schema.py): ``now`` for the traces inserted here, the stored value for the others.
4. Merge only the inserted spans into the existing trace rows and write them back.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, String, any_, bindparam, select, update
from sqlalchemy.dialects import postgresql

from interactiveai.server.clock import now_us
from interactiveai.server.ingest.bulk import copy_rows, insert_rows, pg_update_rows, update_rows
from interactiveai.server.ingest.merge import MERGE_COLUMNS, empty_trace, merge_spans
from interactiveai.server.ingest.records import MappedSpan
from interactiveai.server.rollups.dirty import mark_dirty
from interactiveai.server.storage.observation_lookup import observations_by_id
from interactiveai.server.storage.payload_sharing import (
    Restore,
    observation_row,
    restore_root_payloads,
    share_root_payloads,
)
from interactiveai.server.storage.schema import observations, trace_tags, traces

_IN_CHUNK = 500  # ids per IN (...) list: far below both engines' parameter limits

_MERGE_COLS = [traces.c[name] for name in MERGE_COLUMNS]
_UPDATE_TRACE = (
    update(traces)
    .where(traces.c.project_id == bindparam("b_project_id"), traces.c.id == bindparam("b_id"))
    .values({name: bindparam(name) for name in (*MERGE_COLUMNS, "updated_at_us")})
)


def _one_of(column: Any, values: Sequence[str], dialect_name: str) -> Any:
    """``column IN (values)``; on PostgreSQL ``= ANY(array)``: one parameter, not hundreds to plan."""
    if dialect_name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=postgresql.ARRAY(String), unique=True))
    return column.in_(values)


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), _IN_CHUNK):
        yield items[start : start + _IN_CHUNK]


def write_batch(conn: Connection, jobs: Sequence[tuple[str, Sequence[MappedSpan]]]) -> list[int]:
    """Store several requests' ``(project_id, spans)`` at once; per request, how many spans were new.

    One set of statements for all of them: fewer, larger multi-row statements, and each span that
    repeats (re-sent, or twice in this batch) counts once, for the first request that brought it.
    """
    by_project: dict[str, dict[str, list[MappedSpan]]] = defaultdict(lambda: defaultdict(list))
    seen: set[tuple[str, str, str]] = set()
    for project_id, spans in jobs:
        for span in spans:
            key = (project_id, span.row["trace_id"], span.row["id"])
            if key not in seen:
                seen.add(key)
                by_project[project_id][span.row["trace_id"]].append(span)
    now = now_us()
    stored: set[int] = set()  # id() of every span object written: the first occurrence of each
    changed: list[tuple[str, int | None]] = []  # (project, time) of what the roll-ups count
    for project_id in sorted(by_project):
        stored.update(map(id, _write_project(conn, project_id, by_project[project_id], now, changed)))
    mark_dirty(conn, changed)  # in this transaction: see rollups/dirty.py
    return [sum(1 for span in spans if id(span) in stored) for _, spans in jobs]


def _write_project(
    conn: Connection,
    project_id: str,
    by_trace: dict[str, list[MappedSpan]],
    now: int,
    changed: list[tuple[str, int | None]],
) -> list[MappedSpan]:
    """Write one project's share of a batch; returns the spans actually stored."""
    trace_ids = sorted(by_trace)
    current = _select_traces(conn, project_id, trace_ids)
    merged_rows: dict[str, tuple[dict[str, Any], list[str]]] = {}
    trace_created: dict[str, int] = {}
    spans_to_store: list[MappedSpan] = []

    # Unknown traces: all their spans are new; insert the finished rows directly.
    unknown = [t for t in trace_ids if t not in current]
    if unknown:
        rows = []
        for trace_id in unknown:
            spans = by_trace[trace_id]
            merged, tags = merge_spans(empty_trace(spans[0].row["start_time_us"]), spans)
            share_root_payloads(None, merged, [s.row for s in spans])
            merged.update(project_id=project_id, id=trace_id, created_at_us=now, updated_at_us=now, bookmarked=False)
            merged_rows[trace_id] = (merged, tags)
            rows.append(merged)
        if conn.dialect.name == "postgresql":
            # another replica may have inserted some of them since our read: those it won are
            # locked and merged like any existing trace below
            won = set(insert_rows(conn, traces, rows, returning="id"))
            lost = [t for t in unknown if t not in won]
            if lost:
                current.update(_select_traces(conn, project_id, lost))
                for trace_id in lost:
                    del merged_rows[trace_id]
        else:
            insert_rows(conn, traces, rows)  # BEGIN IMMEDIATE: no one else can have inserted them
        for trace_id in merged_rows:
            trace_created[trace_id] = now
            spans_to_store.extend(by_trace[trace_id])

    # Known traces: only spans not stored yet count (re-sends are no-ops).
    stored = _stored_observations(
        conn, project_id, {t: by_trace[t] for t, row in current.items() if row["observation_count"]}
    )
    updates: list[dict[str, Any]] = []
    restores: list[Restore] = []
    for trace_id, row in current.items():
        fresh = [s for s in by_trace[trace_id] if (trace_id, s.row["id"]) not in stored]
        if fresh:
            trace_created[trace_id] = row["created_at_us"]
            merged, tags = merge_spans(row, fresh)
            restore = share_root_payloads(row, merged, [s.row for s in fresh])
            if restore is not None:
                restores.append(restore)
            merged.update(updated_at_us=now, b_project_id=project_id, b_id=trace_id)
            merged.update(project_id=project_id, id=trace_id, created_at_us=0, bookmarked=False)  # staging only
            merged_rows[trace_id] = (merged, tags)
            updates.append(merged)
            spans_to_store.extend(fresh)
            changed.append((project_id, row["timestamp_us"]))  # the hour it may leave
    if not spans_to_store:
        return []

    changed.extend((project_id, merged["timestamp_us"]) for merged, _ in merged_rows.values())
    changed.extend((project_id, s.row["start_time_us"]) for s in spans_to_store)  # model calls and the others
    observation_rows = []
    for span in spans_to_store:
        row = span.row
        row["project_id"] = project_id
        row["created_at_us"] = now
        row["trace_created_at_us"] = trace_created[row["trace_id"]]
        observation_rows.append(observation_row(row, merged_rows[row["trace_id"]][0]))
    if conn.dialect.name == "postgresql":
        # no conflict possible: these spans' traces are locked and the spans were checked absent
        copy_rows(conn, observations, observation_rows)
        if updates:
            pg_update_rows(conn, traces, updates, [*MERGE_COLUMNS, "updated_at_us"])
    else:
        insert_rows(conn, observations, observation_rows)
        if updates:
            update_rows(conn, _UPDATE_TRACE, updates)
    restore_root_payloads(conn, project_id, restores)
    tag_rows = [
        {
            "project_id": project_id,
            "tag": tag,
            "trace_id": trace_id,
            "trace_created_at_us": trace_created[trace_id],
            "timestamp_us": merged["timestamp_us"],  # moved later by a trigger with the trace's (migration 0015)
        }
        for trace_id, (merged, tags) in merged_rows.items()
        for tag in tags
    ]
    if tag_rows:
        insert_rows(conn, trace_tags, tag_rows)
    return spans_to_store


def _select_traces(conn: Connection, project_id: str, trace_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The current rows of these traces; on PostgreSQL locked, in id order (see module doc)."""
    current: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(trace_ids):
        query = (
            select(traces.c.id, traces.c.created_at_us, *_MERGE_COLS)
            .where(traces.c.project_id == project_id, _one_of(traces.c.id, chunk, conn.dialect.name))
            .order_by(traces.c.id)
        )
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        for found in conn.execute(query).mappings():
            current[found["id"]] = dict(found)
    return current


def _stored_observations(
    conn: Connection, project_id: str, by_trace: dict[str, list[MappedSpan]]
) -> set[tuple[str, str]]:
    """(trace_id, id) of the batch's spans that are already stored.

    Looked up by span id (the ``(project_id, id)`` index, ``storage/observation_lookup.py``): one
    probe per span, whatever the size of its trace or project; a span id that some other trace
    also uses is told apart by its trace id.
    """
    span_ids = [s.row["id"] for spans in by_trace.values() for s in spans]
    found = observations_by_id(conn, project_id, span_ids, ("trace_id", "id"))
    return {(row["trace_id"], row["id"]) for row in found if row["trace_id"] in by_trace}
