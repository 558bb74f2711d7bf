"""Marking hours dirty: what every write to traces, observations or scores does in its transaction.

A writer appends one ``(project_id, hour_us)`` row per hour it changed to ``rollup_dirty`` with a
single multi-row insert: for a trace its old and its new hour (a late span can move its
timestamp to an earlier hour), for an observation or a score the hour of its time. Rows are only
ever appended (duplicates allowed), so writers on several replicas never wait on each other here;
the refresher (``refresher.py``) deduplicates them.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, insert

from interactiveai.server.storage.rollup_schema import HOUR_US, rollup_dirty


def hour_of(time_us: int) -> int:
    return time_us // HOUR_US * HOUR_US


def mark_dirty(conn: Connection, times: Iterable[tuple[str, int | None]]) -> None:
    """Mark the hours of these ``(project_id, time_us)`` dirty (a time of None is skipped)."""
    hours = sorted({(project_id, hour_of(t)) for project_id, t in times if t is not None})
    if hours:
        conn.execute(insert(rollup_dirty).values([{"project_id": p, "hour_us": h} for p, h in hours]))
