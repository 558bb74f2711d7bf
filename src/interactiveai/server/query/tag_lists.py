"""Trace lists filtered by tags and sorted by time, read from one tag's rows in time order.

``trace_tags`` holds each tag row's trace timestamp (kept equal to the trace row's by triggers,
migration 0015) under the index ``(project_id, tag, timestamp_us, trace_id)``. A list filtered by
tags and sorted by timestamp (then id, as every trace list) walks the rarest tag's range of that
index in order and reads each trace row by key for the other conditions: a page reads about its
rows (divided by the share of the tag's traces that match the other conditions), and the count
stops at its bound, whatever the tag's share of the project.

Before, such a list walked the project's traces newest first and probed each for the tag: a page
read ``limit`` / (the tag's share) traces and the count ~16 times its bound for a tag on 1/16 of
the traces (0.2 s at 1 M traces on SQLite); rare tags were read whole and sorted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, FromClause, Select, and_, func, select

from interactiveai.server.json_values import bound_tag
from interactiveai.server.query._db import matching_rows
from interactiveai.server.query.filters import TraceFilter
from interactiveai.server.storage.schema import trace_tags, traces

COMPARED_TAG_ROWS = 5_000
"""When several tags filter a list, each tag's newest rows up to this many are read (on its index)
to choose the one to drive the list from (``_rarest``)."""


@dataclass(frozen=True)
class TagDrive:
    """A tag-filtered list read from one tag's rows: select from ``source`` where ``conditions``
    (with the list's own), ordered by ``timestamp`` and ``trace_id`` (equal to the trace's
    timestamp and id)."""

    tag: str  # the list's other conditions need not probe it
    source: FromClause
    conditions: list[ColumnElement[bool]]
    timestamp: ColumnElement[int]
    trace_id: ColumnElement[str]


def tag_drive(conn: Connection, project_id: str, filters: TraceFilter | None) -> TagDrive | None:
    """How to read a list sorted by timestamp and filtered by these tags, or None when it has no
    tag, or a user, session or trace ids that find fewer traces on their own index."""
    if filters is None or not filters.tags or filters.user_id or filters.session_id or filters.trace_ids:
        return None
    tags = list(dict.fromkeys(map(bound_tag, filters.tags)))
    tag = tags[0] if len(tags) == 1 else _rarest(conn, project_id, tags)
    tagged = trace_tags.alias("tagged")
    # Joined on the trace's key alone: PostgreSQL estimated a join on the (equal) timestamps too at
    # one row, and hashed both tables whole instead of walking the index.
    source = tagged.join(traces, and_(traces.c.project_id == tagged.c.project_id, traces.c.id == tagged.c.trace_id))
    conditions: list[ColumnElement[bool]] = [tagged.c.project_id == project_id, tagged.c.tag == tag]
    if filters.from_us is not None:  # the list's window, on the index too
        conditions.append(tagged.c.timestamp_us >= filters.from_us)
    if filters.to_us is not None:
        conditions.append(tagged.c.timestamp_us < filters.to_us)
    return TagDrive(tag, source, conditions, tagged.c.timestamp_us, tagged.c.trace_id)


def other_tags(tags: list[str], drive: TagDrive) -> list[str]:
    """The filter's tags but the one the list is read from (a probe per row fewer)."""
    return [t for t in tags if bound_tag(t) != drive.tag]


def counted_in_order(drive: TagDrive | None, counted: Select[Any]) -> Select[Any]:
    """The rows a list counts, read in the tag's time order when the list is driven by a tag: a
    count bounded by LIMIT then walks the tag's index as the page does (SQLite without statistics
    otherwise read a window's traces by environment and scanned the tag's range for each)."""
    return counted if drive is None else counted.order_by(drive.timestamp.desc(), drive.trace_id.desc())


def _rarest(conn: Connection, project_id: str, tags: list[str]) -> str:
    """The tag the list reads fewest rows of: the tag on the fewest traces when some have at most
    ``COMPARED_TAG_ROWS``, else the one whose newest ``COMPARED_TAG_ROWS`` rows reach furthest
    back in time (the sparsest where lists read, newest first). One bounded index read a tag."""
    rarity: dict[str, tuple[int, int]] = {}
    for tag in tags:
        mine = [trace_tags.c.project_id == project_id, trace_tags.c.tag == tag]
        ts = trace_tags.c.timestamp_us
        edge = conn.execute(select(ts).where(*mine).order_by(ts.desc()).offset(COMPARED_TAG_ROWS).limit(1)).first()
        if edge is None:
            counted = select(func.count()).select_from(
                matching_rows(trace_tags, mine).limit(COMPARED_TAG_ROWS).subquery()
            )
            rarity[tag] = (0, int(conn.execute(counted).scalar_one()))
        else:
            rarity[tag] = (1, int(edge[0] if edge[0] is not None else 0))
    return min(tags, key=rarity.__getitem__)
