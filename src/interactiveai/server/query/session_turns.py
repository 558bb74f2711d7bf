"""What the session replay shows beside each turn: the scores of its trace and, for a trace at
level ERROR or WARNING, which observations failed and their status messages.

Both read only the replay's traces: scores through the ``(project_id, trace_id)`` index,
observations through their primary key (the traces' creation times and ids as two IN lists,
as ``traces.observation_ids_for_traces`` explains), and only for the traces that have a problem.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from interactiveai.server.query._db import Db, connect
from interactiveai.server.storage.schema import observations, scores, traces

PROBLEMS_PER_TRACE = 5
"""A turn names at most this many failed observations (the worst level first); the trace has the rest."""
MESSAGE_CHARS = 300


@dataclass(frozen=True, slots=True)
class Problem:
    observation_id: str
    name: str | None
    level: str
    status_message: str | None


def scores_by_trace(db: Db, project_id: str, trace_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """The scores of each trace (its own and its observations'), oldest first, as template dicts."""
    found: dict[str, list[dict[str, Any]]] = {}
    s = scores.c
    columns = [s.trace_id, s.name, s.value, s.string_value, s.data_type, s.source, s.comment, s.observation_id]
    with connect(db) as conn:
        for chunk in _chunks(list(dict.fromkeys(trace_ids))):
            query = select(*columns).where(s.project_id == project_id, s.trace_id.in_(chunk))
            for row in conn.execute(query.order_by(s.timestamp_us, s.id)).mappings():
                found.setdefault(row["trace_id"], []).append(dict(row))
    return found


def problems_by_trace(db: Db, project_id: str, trace_ids: Sequence[str]) -> dict[str, list[Problem]]:
    """The ERROR and WARNING observations of the given traces (pass only those at such a level)."""
    found: dict[str, list[Problem]] = {}
    o = observations.c
    with connect(db) as conn:
        for chunk in _chunks(list(dict.fromkeys(trace_ids))):
            created = select(traces.c.created_at_us).where(traces.c.project_id == project_id, traces.c.id.in_(chunk))
            query = select(o.trace_id, o.id, o.name, o.level, o.status_message, o.start_time_us).where(
                o.project_id == project_id,
                o.trace_created_at_us.in_(created),
                o.trace_id.in_(chunk),
                o.level.in_(["ERROR", "WARNING"]),
            )
            for trace_id, oid, name, level, message, _start in sorted(
                conn.execute(query), key=lambda r: (r[3] != "ERROR", r[5] or 0)
            ):
                listed = found.setdefault(trace_id, [])
                if len(listed) < PROBLEMS_PER_TRACE:
                    text = None if message is None else str(message)[:MESSAGE_CHARS]
                    listed.append(Problem(oid, name, level, text))
    return found


def _chunks(ids: list[str], size: int = 500) -> list[list[str]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]
