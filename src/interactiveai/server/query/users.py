"""User queries: the end users seen in a project's traces, with first/last seen and usage."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Connection, func, select

from interactiveai.server.query._db import Db, fetch_group_page
from interactiveai.server.query.filters import UserFilter, user_conditions
from interactiveai.server.query.pagination import Page, check_page
from interactiveai.server.query.records import User
from interactiveai.server.storage.schema import traces


def list_users(
    db: Db,
    project_id: str,
    filters: UserFilter | None = None,
    *,
    page: int = 1,
    limit: int = 50,
    with_total: bool = True,
) -> Page[User]:
    """Users by most recent activity in the window (all time if none), with their aggregates.

    Two steps, like sessions: the page of user ids comes from the covering
    ``(project_id, user_id, timestamp_us)`` index alone; only the page's users then have their
    token and cost sums read from the table rows. Aggregates cover the window.
    """
    check_page(page, limit)
    cond = user_conditions(project_id, filters)
    last_seen = func.max(traces.c.timestamp_us).label("last_seen")
    ids_query = (
        select(traces.c.user_id, last_seen)
        .where(*cond)
        .group_by(traces.c.user_id)
        .order_by(last_seen.desc(), traces.c.user_id)
    )
    counted = select(traces.c.user_id).where(*cond).distinct() if with_total else None
    return fetch_group_page(
        db, ids_query, lambda conn, ids: _aggregate(conn, cond, ids), page=page, limit=limit, counted=counted
    )


def _aggregate(conn: Connection, cond: list[ColumnElement[bool]], user_ids: list[str]) -> list[User]:
    if not user_ids:
        return []
    query = (
        select(
            traces.c.user_id,
            func.min(traces.c.timestamp_us),
            func.max(traces.c.timestamp_us),
            func.count(),
            func.sum(traces.c.input_tokens),
            func.sum(traces.c.output_tokens),
            func.sum(traces.c.total_tokens),
            func.sum(traces.c.total_cost),
        )
        .where(*cond, traces.c.user_id.in_(user_ids))
        .group_by(traces.c.user_id)
    )
    by_id = {
        uid: User(
            id=uid,
            first_seen_us=int(first),
            last_seen_us=int(last),
            trace_count=int(count),
            input_tokens=int(tin or 0),
            output_tokens=int(tout or 0),
            total_tokens=int(ttotal or 0),
            total_cost=None if cost is None else float(cost),
        )
        for uid, first, last, count, tin, tout, ttotal, cost in conn.execute(query)
    }
    return [by_id[u] for u in user_ids if u in by_id]


def get_user(db: Db, project_id: str, user_id: str, filters: UserFilter | None = None) -> User | None:
    """One user's aggregates (in the window, if given), or None if no trace carries the id (a
    long one bounded as ingestion stored it, by ``user_conditions``)."""
    base = filters or UserFilter()
    narrowed = UserFilter(from_us=base.from_us, to_us=base.to_us, environments=base.environments, user_ids=[user_id])
    page = list_users(db, project_id, narrowed, limit=1, with_total=False)
    return page.items[0] if page.items else None
