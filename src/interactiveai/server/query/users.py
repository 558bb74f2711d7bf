"""User queries: the end users seen in a project's traces, with first/last seen and usage.

A list runs in two steps. The page's user ids, most recently seen first, come from a walk of the
window's newest traces (``recent_keys``), which also counts users up to the lists' bound. Their
figures over the window come from the per-hour user roll-ups (``rollup_user_hours``, through the
user index) for the clean whole hours and days of the window, and from the trace rows of the rest
(the partial hours at its edges and hours still marked dirty), as the dashboard reads roll-ups
(``rollup_reads``): the same figures as grouping the window's traces, without reading a busy
user's every trace.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, bindparam, func, select, text

from interactiveai.server.json_values import bound_key
from interactiveai.server.query import recent_keys
from interactiveai.server.query._db import Db, connect, fetch_group_page
from interactiveai.server.query.filters import UserFilter, user_conditions
from interactiveai.server.query.metrics_base import MetricsFilter
from interactiveai.server.query.pagination import Page, check_page, count_bound, offset_of
from interactiveai.server.query.records import User
from interactiveai.server.query.rollup_reads import plan
from interactiveai.server.query.sessions import walked_page
from interactiveai.server.storage.rollup_schema import rollup_user_hours
from interactiveai.server.storage.schema import traces

COUNT_WALK = 4_000
"""Traces the users' walk reads at most to count users past its page before the roll-ups count."""


def list_users(
    db: Db,
    project_id: str,
    filters: UserFilter | None = None,
    *,
    page: int = 1,
    limit: int = 50,
    with_total: bool = True,
) -> Page[User]:
    """Users by most recent activity in the window (all time if none), with their aggregates
    over the window."""
    check_page(page, limit)
    cond = user_conditions(project_id, filters)
    offset = offset_of(page, limit)
    if filters is not None and filters.user_ids:  # a few named users: their figures, sorted
        with connect(db) as conn:
            named = aggregates(conn, project_id, filters, list(dict.fromkeys(map(bound_key, filters.user_ids))))
        named.sort(key=lambda u: u.id)
        named.sort(key=lambda u: u.last_seen_us, reverse=True)
        total = len(named) if with_total else None
        return Page(items=named[offset : offset + limit], page=page, limit=limit, total=total, total_exact=True)
    need = offset + limit
    bound = count_bound(page, limit)
    with connect(db) as conn:
        # The walk counts users while it reads few traces; when they have long tails (counting to
        # the bound read 10-20 thousand traces through Python), the roll-ups count them.
        count_to = bound + 1 if with_total else 0
        walked = recent_keys.by_last_trace(conn, cond, traces.c.user_id, need, count_to, count_within=COUNT_WALK)
        if walked is not None:
            items = aggregates(conn, project_id, filters, walked.keys[offset:])
            if not with_total or walked.complete or walked.seen >= count_to:
                return walked_page(items, walked, page=page, limit=limit, with_total=with_total)
            total = count_users(conn, project_id, filters, bound)
            return Page(items=items, page=page, limit=limit, total=total, total_exact=total <= bound)
    last_seen = func.max(traces.c.timestamp_us).label("last_seen")
    ids_query = (
        select(traces.c.user_id, last_seen)
        .where(*cond)
        .group_by(traces.c.user_id)
        .order_by(last_seen.desc(), traces.c.user_id)
    )
    counted = select(traces.c.user_id).where(*cond).distinct() if with_total else None
    return fetch_group_page(
        db,
        ids_query,
        lambda conn, ids: aggregates(conn, project_id, filters, ids),
        page=page,
        limit=limit,
        counted=counted,
    )


def count_users(conn: Connection, project_id: str, filters: UserFilter | None, bound: int) -> int:
    """The window's distinct users, counted up to ``bound`` + 1: from the user roll-ups' rows of
    its clean hours and days, and from the trace rows (their covering time index) of its edges
    and dirty hours, as ``aggregates`` reads figures; the reads stop at ``bound`` + 1 users."""
    f = filters or UserFilter()
    window = _window(conn, project_id, f)
    if window is None:
        return 0
    split = plan(conn, project_id, MetricsFilter(from_us=window[0], to_us=window[1], environments=f.environments))
    r, t = rollup_user_hours.c, traces.c
    envs = list(f.environments)
    reads = [
        select(r.user_id)
        .where(r.project_id == project_id, r.hours == span, r.hour_us >= low, r.hour_us < high, r.traces > 0)
        .where(*([r.environment.in_(envs)] if envs else []))
        for span, ranges in ((24, split.days), (1, split.hours))
        for low, high in ranges
    ]
    reads += [
        select(t.user_id).where(*user_conditions(project_id, f), t.timestamp_us >= low, t.timestamp_us < high)
        for low, high in split.scanned
    ]
    # Rows streamed and the ids gathered here, stopping past the bound: a DISTINCT with LIMIT is
    # hashed whole first on PostgreSQL (every roll-up row of the window, 35-185 ms at 400,000 traces).
    seen: set[str] = set()
    streamed = conn.execution_options(stream_results=True, yield_per=1_000)
    for read in reads:
        result = streamed.execute(read)
        try:
            for user_id in result.scalars():
                seen.add(user_id)
                if len(seen) > bound:
                    return bound + 1
        finally:
            result.close()
    return len(seen)


@dataclass(slots=True)
class _Sums:
    traces: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    cost: float = 0.0
    costed: int = 0
    first: int | None = None
    last: int | None = None

    def add(self, row: Sequence[Any]) -> None:
        n, tin, tout, ttotal, cost, costed, first, last = row
        self.traces += int(n)
        self.input_tokens += int(tin or 0)
        self.output_tokens += int(tout or 0)
        self.total_tokens += int(ttotal or 0)
        self.cost += float(cost or 0.0)
        self.costed += int(costed or 0)
        lo, hi = int(first), int(last)
        self.first = lo if self.first is None else min(self.first, lo)
        self.last = hi if self.last is None else max(self.last, hi)


def aggregates(conn: Connection, project_id: str, filters: UserFilter | None, user_ids: list[str]) -> list[User]:
    """The users' figures over the filter's window (and environments), in the given order; users
    without a trace there are skipped."""
    if not user_ids:
        return []
    f = filters or UserFilter()
    window = _window(conn, project_id, f)
    if window is None:
        return []
    split = plan(conn, project_id, MetricsFilter(from_us=window[0], to_us=window[1], environments=f.environments))
    sums: dict[str, _Sums] = {}
    for start in range(0, len(user_ids), 500):
        chunk = user_ids[start : start + 500]
        for uid, *row in _rolled(conn, project_id, f, chunk, split.hours, split.days):
            sums.setdefault(uid, _Sums()).add(row)
        for uid, *row in _scanned(conn, project_id, f, chunk, split.scanned):
            sums.setdefault(uid, _Sums()).add(row)
    return [_user(uid, sums[uid]) for uid in user_ids if uid in sums and sums[uid].traces]


def _window(conn: Connection, project_id: str, f: UserFilter) -> tuple[int, int] | None:
    """The filter's window, its open ends closed at the project's first and last trace."""
    ts = traces.c.timestamp_us
    low, high = f.from_us, f.to_us
    mine = traces.c.project_id == project_id
    if low is None:  # two ordered reads: min() and max() in one query read the whole project
        low = conn.execute(select(ts).where(mine).order_by(ts).limit(1)).scalar()
    if high is None:
        last = conn.execute(select(ts).where(mine).order_by(ts.desc()).limit(1)).scalar()
        high = None if last is None else int(last) + 1
    if low is None or high is None:
        return None
    return (int(low), high) if low < high else None


def _rolled(
    conn: Connection,
    project_id: str,
    f: UserFilter,
    user_ids: list[str],
    hours: list[tuple[int, int]],
    days: list[tuple[int, int]],
) -> Iterable[tuple[Any, ...]]:
    """The users' roll-up rows of these hour and day ranges, added up per user, through the user
    index (named on SQLite: without statistics it reads the period's rows of every user by the
    primary key instead)."""
    indexed = " INDEXED BY ix_rollup_user_hours_user" if conn.dialect.name == "sqlite" else ""
    envs = " AND environment IN :envs" if f.environments else ""
    statement = text(
        "SELECT user_id, sum(traces), sum(input_tokens), sum(output_tokens), sum(total_tokens),"
        " sum(total_cost), sum(costed), min(first_us), max(last_us)"
        f" FROM rollup_user_hours{indexed}"
        " WHERE project_id = :project_id AND user_id IN :users AND hours = :hours"
        f" AND hour_us >= :low AND hour_us < :high{envs} GROUP BY user_id"
    ).bindparams(bindparam("users", expanding=True), *([bindparam("envs", expanding=True)] if envs else []))
    for span, ranges in ((1, hours), (24, days)):
        for low, high in ranges:
            values = {"project_id": project_id, "users": user_ids, "hours": span, "low": low, "high": high}
            if envs:
                values["envs"] = list(f.environments)
            yield from (tuple(row) for row in conn.execute(statement, values))


def _scanned(
    conn: Connection, project_id: str, f: UserFilter, user_ids: list[str], ranges: list[tuple[int, int]]
) -> Iterable[tuple[Any, ...]]:
    t = traces.c
    extra: list[ColumnElement[bool]] = [t.environment.in_(list(f.environments))] if f.environments else []
    for a, b in ranges:
        query = (
            select(
                t.user_id,
                func.count(),
                func.sum(t.input_tokens),
                func.sum(t.output_tokens),
                func.sum(t.total_tokens),
                func.sum(t.total_cost),
                func.count(t.total_cost),
                func.min(t.timestamp_us),
                func.max(t.timestamp_us),
            )
            .where(t.project_id == project_id, t.user_id.in_(user_ids), t.timestamp_us >= a, t.timestamp_us < b)
            .where(*extra)
            .group_by(t.user_id)
        )
        yield from (tuple(row) for row in conn.execute(query))


def _user(uid: str, s: _Sums) -> User:
    assert s.first is not None and s.last is not None
    return User(
        id=uid,
        first_seen_us=s.first,
        last_seen_us=s.last,
        trace_count=s.traces,
        input_tokens=s.input_tokens,
        output_tokens=s.output_tokens,
        total_tokens=s.total_tokens,
        total_cost=s.cost if s.costed else None,
    )


def get_user(db: Db, project_id: str, user_id: str, filters: UserFilter | None = None) -> User | None:
    """One user's aggregates (in the window, if given), or None if no trace carries the id (a
    long one bounded as ingestion stored it)."""
    base = filters or UserFilter()
    narrowed = UserFilter(from_us=base.from_us, to_us=base.to_us, environments=base.environments, user_ids=[user_id])
    page = list_users(db, project_id, narrowed, limit=1, with_total=False)
    return page.items[0] if page.items else None
