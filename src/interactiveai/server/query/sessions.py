"""Session queries. A session is the set of a project's traces sharing ``session_id``.

Sessions are derived from the traces table (no observations are read). A list runs in two
steps: first the page of session ids, bounded by project and the time window; then the full
aggregates for just those ids, through the ``(project_id, session_id, timestamp_us)`` index.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from interactiveai.server.json_values import bound_key
from interactiveai.server.query._db import Db, connect, fetch_group_page
from interactiveai.server.query.filters import SessionFilter, session_conditions
from interactiveai.server.query.pagination import Page, check_page
from interactiveai.server.query.records import Score, Session, Trace, trace_from_row
from interactiveai.server.query.scores import scores_for_session
from interactiveai.server.storage.schema import traces

MAX_SESSION_TRACES = 10_000
"""A session detail returns at most this many traces: huge sessions must not exhaust memory."""


@dataclass(frozen=True, slots=True)
class SessionDetail:
    session: Session
    traces: list[Trace] = field(default_factory=list)
    scores: list[Score] = field(default_factory=list)


def list_sessions(
    db: Db,
    project_id: str,
    filters: SessionFilter | None = None,
    *,
    page: int = 1,
    limit: int = 50,
    with_total: bool = True,
) -> Page[Session]:
    """Sessions with a trace in the window, most recently started first, with their aggregates."""
    check_page(page, limit)
    cond = session_conditions(project_id, filters)
    first = func.min(traces.c.timestamp_us).label("first")
    ids_query = (
        select(traces.c.session_id, first)
        .where(*cond)
        .group_by(traces.c.session_id)
        .order_by(first.desc(), traces.c.session_id.desc())
    )
    counted = select(traces.c.session_id).where(*cond).distinct() if with_total else None
    return fetch_group_page(
        db, ids_query, lambda conn, ids: _aggregate(conn, project_id, ids), page=page, limit=limit, counted=counted
    )


def get_session(db: Db, project_id: str, session_id: str, *, with_io: bool = True) -> SessionDetail | None:
    """A session with its traces (oldest first) and the scores attached to the session.

    ``session_id`` as the client knows it: a long one is bounded as ingestion stored it."""
    session_id = bound_key(session_id)
    with connect(db) as conn:
        found = _aggregate(conn, project_id, [session_id])
        if not found:
            return None
        rows = conn.execute(
            select(*traces.c)
            .where(traces.c.project_id == project_id, traces.c.session_id == session_id)
            .order_by(traces.c.timestamp_us, traces.c.id)
            .limit(MAX_SESSION_TRACES)
        ).mappings()
        trace_list = [trace_from_row(r, with_io=with_io) for r in rows]
        return SessionDetail(found[0], trace_list, scores_for_session(conn, project_id, session_id))


def _aggregate(conn: Any, project_id: str, session_ids: Sequence[str]) -> list[Session]:
    """Whole-session aggregates for the given ids, in the given order (unknown ids are skipped)."""
    if not session_ids:
        return []
    ids = list(session_ids)
    scope = (traces.c.project_id == project_id, traces.c.session_id.in_(ids))
    query = (
        select(
            traces.c.session_id,
            func.min(traces.c.timestamp_us),
            func.max(traces.c.timestamp_us),
            func.max(func.coalesce(traces.c.end_time_us, traces.c.timestamp_us)),
            func.count(),
            func.sum(traces.c.input_tokens),
            func.sum(traces.c.output_tokens),
            func.sum(traces.c.total_tokens),
            func.sum(traces.c.total_cost),
            func.min(traces.c.environment),
        )
        .where(*scope)
        .group_by(traces.c.session_id)
    )
    # Users are gathered here, not grouped in SQL: GROUP BY / ORDER BY user_id let SQLite without
    # statistics walk the project's user index instead of the sessions' rows (~0.5 s at 200,000).
    users: dict[str, set[str]] = {}
    for sid, uid in conn.execute(select(traces.c.session_id, traces.c.user_id).where(*scope)):
        if uid is not None:
            users.setdefault(sid, set()).add(uid)
    by_id: dict[str, Session] = {}
    for sid, first, last, end, count, tin, tout, ttotal, cost, env in conn.execute(query):
        by_id[sid] = Session(
            id=sid,
            project_id=project_id,
            environment=env,
            created_at_us=int(first),
            last_trace_at_us=int(last),
            end_time_us=int(end),
            trace_count=int(count),
            user_ids=sorted(users.get(sid, ())),
            input_tokens=int(tin or 0),
            output_tokens=int(tout or 0),
            total_tokens=int(ttotal or 0),
            total_cost=None if cost is None else float(cost),
        )
    return [by_id[s] for s in ids if s in by_id]
