"""Trace queries: the filtered, sorted list (page/limit or keyset) and one trace with its tree.

Lists read the traces table only (roll-up columns maintained at ingestion); observations are
read for a single trace, or as ids for the traces of one page, always through their primary key
(``schema.observations_of_trace``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, and_, func, select

from interactiveai.server.json_values import bound_tag
from interactiveai.server.query._db import Db, connect, count_rows, fetch_all, fetch_one, matching_rows, page_total
from interactiveai.server.query.filters import (
    TRACE_SORT_COLUMNS,
    TraceFilter,
    TraceOrder,
    keyset_condition,
    trace_conditions,
)
from interactiveai.server.query.pagination import Cursor, InvalidCursorError, Page, check_page, offset_of
from interactiveai.server.query.records import (
    Observation,
    Trace,
    TraceDetail,
    observation_from_row,
    trace_from_row,
)
from interactiveai.server.query.scores import scores_for_trace
from interactiveai.server.query.tag_lists import counted_in_order, other_tags, tag_drive
from interactiveai.server.storage.payload_sharing import OBSERVATION_COLUMNS
from interactiveai.server.storage.schema import (
    START_TIME_IN_TRACE,
    observations,
    observations_of_trace,
    scores,
    trace_tags,
    traces,
)

_IO_COLUMNS = ("input", "output", "metadata")
_LIST_COLUMNS = [c for c in traces.c if c.name not in _IO_COLUMNS]


def list_traces(
    db: Db,
    project_id: str,
    filters: TraceFilter | None = None,
    order: TraceOrder | None = None,
    *,
    page: int = 1,
    limit: int = 50,
    cursor: str | None = None,
    with_io: bool = True,
    with_total: bool = True,
) -> Page[Trace]:
    """One page of a project's traces.

    Page/limit mode (``cursor=None``) skips ``(page-1)*limit`` rows. Keyset mode (``cursor`` from a
    previous page's ``next_cursor``, or ``""`` for the first page) ignores ``page`` and continues
    after the last row seen: constant cost however deep. ``next_cursor`` is returned in keyset
    mode when more rows follow. ``with_io=False`` skips input/output/metadata (the heavy columns).
    ``with_total=False`` skips the count; otherwise ``total`` is counted as ``page_total`` says
    (exact up to a bound, a lower bound past it).

    Raises:
        ValueError: bad page/limit, or a cursor that was not made for this sort order.
    """
    check_page(page, limit)
    order = order or TraceOrder()
    column = TRACE_SORT_COLUMNS[order.column]
    conditions = trace_conditions(project_id, filters)
    keyset = cursor is not None
    position = Cursor.decode(cursor) if cursor else None
    if position is not None and position.sort != order.key:
        raise InvalidCursorError(f"cursor was made for order {position.sort!r}, not {order.key!r}")

    with connect(db) as conn:
        drive = tag_drive(conn, project_id, filters) if column is traces.c.timestamp_us else None
        source: Any = traces
        sort_column: Any = column
        id_column: ColumnElement[str] = traces.c.id
        if drive is None:
            conditions += _from_rare_tag(conn, project_id, filters)
        else:  # the tag's rows in time order (query/tag_lists.py): equal to the trace's time and id
            assert filters is not None
            conditions = trace_conditions(project_id, replace(filters, tags=other_tags(list(filters.tags), drive)))
            conditions += drive.conditions
            source, sort_column, id_column = drive.source, drive.timestamp, drive.trace_id
        query = select(*(traces.c if with_io else _LIST_COLUMNS)).select_from(source).where(*conditions)
        query = query.order_by(*_order_by(sort_column, order, id_column, nullable=bool(column.nullable)))
        if position is not None:
            after = keyset_condition(sort_column, id_column, order.direction, position.value, position.id)
            query = query.where(after)
        deep = not keyset and offset_of(page, limit) >= DEEP_OFFSET and len(conditions) == 1
        if keyset:
            query = query.limit(limit + 1)  # one extra row tells whether a next page exists
        elif not deep or column is not traces.c.timestamp_us:
            query = query.limit(limit).offset(offset_of(page, limit))
        if deep and column is traces.c.timestamp_us:
            rows = _deep_page(conn, project_id, query, order, offset_of(page, limit), limit)
        else:
            rows = conn.execute(query).mappings().all()
        total, exact = None, True
        if with_total:
            on_page = limit if keyset else len(rows)  # a keyset page does not tell the rows before it
            counted = counted_in_order(drive, matching_rows(source, conditions))
            total, exact = page_total(conn, counted, page, limit, on_page)

    next_cursor = None
    if keyset and len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = Cursor(order.key, last[column.name], last["id"]).encode()
    items = [trace_from_row(r, with_io=with_io) for r in rows]
    return Page(items=items, page=page, limit=limit, total=total, next_cursor=next_cursor, total_exact=exact)


DEEP_OFFSET = 5_000
"""From this offset an unfiltered list by time skips rows on the time index alone (``_deep_page``)."""
LOOK_BACK = 64


def _deep_page(conn: Connection, project_id: str, ordered: Any, order: TraceOrder, offset: int, limit: int) -> Any:
    """An unfiltered page far from the start, by timestamp: the rows skipped are counted on the
    ``(project_id, timestamp_us)`` index without reading them, then only the page's time range is
    read and ordered exactly (ties by id).

    An offset on the full query reads every skipped trace row for its id (the tie order), which
    on SQLite cost ~0.15-0.37 s for page 2,000 of 50 at 1 M traces.
    """
    ts = traces.c.timestamp_us
    mine = traces.c.project_id == project_id
    desc = order.direction != "asc"
    back = min(offset, LOOK_BACK)  # the times just before the page: how many of its first time precede it
    edge = select(ts).where(mine).order_by(ts.desc() if desc else ts).limit(limit + back).offset(offset - back)
    times = [t for (t,) in conn.execute(edge)]
    if len(times) <= back:
        return []
    first, last = times[back], times[-1]
    ties = sum(1 for t in times[:back] if t == first)
    if ties == back:  # more ties than looked back at: count the rows before the page's first time
        earlier = select(ts).where(mine, ts > first if desc else ts < first)
        ties = offset - conn.execute(select(func.count()).select_from(earlier.subquery())).scalar_one()
    low, high = (last, first) if desc else (first, last)
    rows = conn.execute(ordered.where(ts >= low, ts <= high)).mappings().all()
    return rows[ties : ties + limit]


def count_traces(db: Db, project_id: str, filters: TraceFilter | None = None) -> int:
    with connect(db) as conn:
        count: int = conn.execute(count_rows(traces, trace_conditions(project_id, filters))).scalar_one()
    return count


def get_trace(db: Db, project_id: str, trace_id: str) -> Trace | None:
    """One trace's row (roll-ups included), or None if the project has no such trace."""
    return fetch_one(
        db, select(traces).where(traces.c.project_id == project_id, traces.c.id == trace_id), trace_from_row
    )


def get_observations_for_trace(db: Db, project_id: str, trace_id: str) -> list[Observation]:
    """Every observation of a trace, by start time (then id, so the order is stable)."""
    query = (
        select(*OBSERVATION_COLUMNS)
        .where(observations_of_trace(project_id, trace_id))
        .order_by(START_TIME_IN_TRACE, observations.c.id)
    )
    return fetch_all(db, query, observation_from_row)


def get_trace_detail(db: Db, project_id: str, trace_id: str) -> TraceDetail | None:
    """A trace with its observations (by start time) and scores (by timestamp), in one connection."""
    with connect(db) as conn:
        trace = get_trace(conn, project_id, trace_id)
        if trace is None:
            return None
        obs = get_observations_for_trace(conn, project_id, trace_id)
        return TraceDetail(trace=trace, observations=obs, scores=scores_for_trace(conn, project_id, trace_id))


def observation_ids_for_traces(db: Db, project_id: str, trace_ids: Sequence[str]) -> dict[str, list[str]]:
    """Observation ids per trace (by start time), for the traces of one page.

    Each trace's observations are one range of the primary key, found from its creation time
    and id. Written as two IN lists (not a join from traces) so that SQLite without statistics
    (no ANALYZE has run on most databases) still probes the key per trace instead of walking
    the project's start-time index, reading every trace's rows (~0.4 s at 1 M observations).
    """

    def of_traces(ids: list[str]) -> ColumnElement[bool]:
        created = select(traces.c.created_at_us).where(traces.c.project_id == project_id, traces.c.id.in_(ids))
        return and_(
            observations.c.project_id == project_id,
            observations.c.trace_created_at_us.in_(created),
            observations.c.trace_id.in_(ids),
        )

    return _ids_by_trace(db, observations, observations.c.start_time_us, trace_ids, of_traces)


def score_ids_for_traces(db: Db, project_id: str, trace_ids: Sequence[str]) -> dict[str, list[str]]:
    """Score ids per trace (by timestamp), for the traces of one page (``(project_id, trace_id)`` index)."""
    return _ids_by_trace(
        db,
        scores,
        scores.c.timestamp_us,
        trace_ids,
        lambda ids: (scores.c.project_id == project_id) & scores.c.trace_id.in_(ids),
    )


# Bound-parameter lists stay far below both engines' limits (a session may hold 10,000 traces);
# without statistics SQLite probes every (creation time, id) pair of a chunk, so chunks stay small.
_IN_CHUNK = 50


def _ids_by_trace(
    db: Db,
    table: Table,
    time_column: ColumnElement[Any],
    trace_ids: Sequence[str],
    of_traces: Callable[[list[str]], ColumnElement[bool]],
) -> dict[str, list[str]]:
    """The ids of a table's rows (observations or scores) per trace, by ``time_column`` then id.

    ``of_traces`` selects the table's rows of a list of trace ids, the project included.
    """
    result: dict[str, list[str]] = {t: [] for t in trace_ids}
    unique = list(result)
    with connect(db) as conn:
        for start in range(0, len(unique), _IN_CHUNK):
            query = (
                select(table.c.trace_id, table.c.id)
                .where(of_traces(unique[start : start + _IN_CHUNK]))
                .order_by(table.c.trace_id, time_column, table.c.id)
            )
            for trace_id, row_id in conn.execute(query):
                result.setdefault(trace_id, []).append(row_id)
    return result


RARE_TAG_TRACES = 5_000
"""A tag on at most this many traces drives a tag-filtered list: its traces are read from the
tag's range of ``trace_tags`` and sorted, instead of walking the project's traces in order and
probing each for the tag, which reads ``limit`` / (the tag's share) traces a page."""


def _from_rare_tag(conn: Connection, project_id: str, filters: TraceFilter | None) -> list[ColumnElement[bool]]:
    """For a list filtered by tags: the traces of its rarest tag, when that tag is rare.

    Each tag's traces are counted up to ``RARE_TAG_TRACES`` + 1 on ``trace_tags``' primary key
    (cheap whatever the tag). The EXISTS conditions of ``trace_conditions`` stay: this only adds
    a condition the planners drive the list from.
    """
    if filters is None or not filters.tags:
        return []
    sizes = {}
    for tag in dict.fromkeys(map(bound_tag, filters.tags)):
        of_tag = matching_rows(trace_tags, [trace_tags.c.project_id == project_id, trace_tags.c.tag == tag])
        counted = select(func.count()).select_from(of_tag.limit(RARE_TAG_TRACES + 1).subquery())
        sizes[tag] = conn.execute(counted).scalar_one()
    rarest = min(sizes, key=sizes.__getitem__)
    if sizes[rarest] > RARE_TAG_TRACES:
        return []
    tagged = select(trace_tags.c.trace_id).where(trace_tags.c.project_id == project_id, trace_tags.c.tag == rarest)
    return [traces.c.id.in_(tagged)]


def _order_by(column: Any, order: TraceOrder, id_column: Any, *, nullable: bool) -> list[ColumnElement[Any]]:
    # NULLS LAST only on nullable columns: the engines disagree on where NULLs sort, but adding it
    # to timestamp would stop PostgreSQL from reading the (project_id, timestamp_us) index backwards.
    if order.direction == "asc":
        primary, tie = column.asc(), id_column.asc()
    else:
        primary, tie = column.desc(), id_column.desc()
    if nullable:
        primary = primary.nulls_last()
    return [primary, tie]
