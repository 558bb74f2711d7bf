"""Session queries. A session is the set of a project's traces sharing ``session_id``.

Sessions are derived from the traces table (no observations are read). A list runs in two
steps: first the page of session ids, from a walk of the window's newest traces
(``recent_keys``); then the full aggregates for just those ids, through the
``(project_id, session_id, timestamp_us)`` index.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import func, select

from interactiveai.server.json_values import bound_key
from interactiveai.server.query import recent_keys
from interactiveai.server.query._db import Db, connect, fetch_group_page
from interactiveai.server.query.filters import SessionFilter, session_conditions
from interactiveai.server.query.pagination import Page, check_page, count_bound, offset_of
from interactiveai.server.query.records import Score, Session, Trace, trace_from_row
from interactiveai.server.query.scores import scores_for_session
from interactiveai.server.storage.schema import traces

R = TypeVar("R")

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
    """Sessions with a trace in the window, most recently started first (by their first trace in
    the window), with their whole-session aggregates.

    The page's ids come from a walk of the window's newest traces (``recent_keys``), which also
    counts the sessions up to the lists' bound; a window the walk cannot finish quickly is grouped.
    """
    check_page(page, limit)
    cond = session_conditions(project_id, filters)
    need = offset_of(page, limit) + limit
    count_to = count_bound(page, limit) + 1 if with_total else 0
    with connect(db) as conn:
        walked = recent_keys.by_first_trace(conn, cond, traces.c.session_id, need, count_to)
    if walked is None:
        return _grouped_page(db, project_id, cond, page=page, limit=limit, with_total=with_total)
    with connect(db) as conn:
        items = _aggregate(conn, project_id, walked.keys[offset_of(page, limit) :])
    return walked_page(items, walked, page=page, limit=limit, with_total=with_total)


def walked_page(items: list[R], walked: recent_keys.Walked, *, page: int, limit: int, with_total: bool) -> Page[R]:
    """The page of a walk, with the total it counted: exact when the walk met every key of the
    window, else the lists' bound plus one (as ``page_total``)."""
    total: int | None = None
    exact = True
    if with_total:
        total, exact = (walked.seen, True) if walked.complete else (count_bound(page, limit) + 1, False)
    return Page(items=items, page=page, limit=limit, total=total, total_exact=exact)


def _grouped_page(
    db: Db, project_id: str, cond: list[Any], *, page: int, limit: int, with_total: bool
) -> Page[Session]:
    """The page from the window's traces grouped by session (every trace of the window read)."""
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
    """Whole-session aggregates for the given ids, in the given order (unknown ids are skipped).

    The sessions' rows are read through the ``(project_id, session_id, timestamp_us)`` index and
    added up here. Grouped in SQL (and the users read apart), SQLite without statistics chose
    other plans: the project's user index for GROUP BY user_id (~0.5 s at 200,000 traces), and
    the covering time index of the lists for the users' column (every trace of the project).
    """
    if not session_ids:
        return []
    t = traces.c
    query = select(
        t.session_id, t.timestamp_us, t.end_time_us, t.input_tokens, t.output_tokens, t.total_tokens, t.total_cost
    ).add_columns(t.environment, t.user_id)
    sums: dict[str, _SessionSums] = {}
    for start in range(0, len(session_ids), 500):
        chunk = list(session_ids[start : start + 500])
        for sid, *row in conn.execute(query.where(t.project_id == project_id, t.session_id.in_(chunk))):
            sums.setdefault(sid, _SessionSums()).add(row)
    return [sums[s].session(s, project_id) for s in session_ids if s in sums]


@dataclass(slots=True)
class _SessionSums:
    first: int | None = None
    last: int = 0
    end: int = 0
    count: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    cost: float | None = None
    environment: str | None = None
    users: set[str] = field(default_factory=set)

    def add(self, row: Sequence[Any]) -> None:
        ts, end, tin, tout, ttotal, cost, env, uid = row
        self.first = ts if self.first is None else min(self.first, ts)
        self.last = max(self.last, ts)
        self.end = max(self.end, ts if end is None else end)
        self.count += 1
        self.input_tokens += tin or 0
        self.output_tokens += tout or 0
        self.total_tokens += ttotal or 0
        if cost is not None:
            self.cost = (self.cost or 0.0) + cost
        self.environment = env if self.environment is None else min(self.environment, env)
        if uid is not None:
            self.users.add(uid)

    def session(self, session_id: str, project_id: str) -> Session:
        assert self.first is not None and self.environment is not None  # a session has a trace
        return Session(
            id=session_id,
            project_id=project_id,
            environment=self.environment,
            created_at_us=int(self.first),
            last_trace_at_us=int(self.last),
            end_time_us=int(self.end),
            trace_count=self.count,
            user_ids=sorted(self.users),
            input_tokens=int(self.input_tokens),
            output_tokens=int(self.output_tokens),
            total_tokens=int(self.total_tokens),
            total_cost=self.cost,
        )
