"""The web UI's sessions and users lists when sorted by a column or searched by an id prefix.

The default lists (most recent first, no search) are ``sessions.list_sessions`` and
``users.list_users``. These read the window's traces grouped by session or user id:

- An id prefix is a range on the ``(project_id, session_id | user_id, timestamp_us)`` index
  (``id >= prefix AND id < prefix + U+10FFFF``), never ``LIKE '%…'``, plus an exact check of the
  first characters, so a collation that orders text differently never lets a wrong id through.
- Sorting by the id walks that index in order and stops after the page. Sorting by a figure
  (traces, tokens, cost, times, duration) groups every trace of the window first, so it is
  offered while the window holds at most ``SORT_SCAN_LIMIT`` traces (counted, bounded); past
  that the list is sorted by id and says so.
- Figures are the window's (a session partly outside it counts its traces inside).
- Totals are counted like the REST lists' ``meta``: exact up to 1,000 groups (or the end of the
  page asked for), a lower bound past it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, func, literal, literal_column, select

from interactiveai.server.query._db import Db, connect, page_total
from interactiveai.server.query.pagination import Page, check_page, offset_of
from interactiveai.server.query.records import Session, User
from interactiveai.server.storage.schema import traces

Kind = Literal["sessions", "users"]
SORT_SCAN_LIMIT = 50_000
"""Sorting by a figure groups the window's traces: offered up to this many traces in the window."""
_LAST_CHAR = "\U0010ffff"

_first = func.min(traces.c.timestamp_us)
_last = func.max(traces.c.timestamp_us)
_end = func.max(func.coalesce(traces.c.end_time_us, traces.c.timestamp_us))
_SORTS: dict[str, Any] = {
    "started": _first,
    "first_seen": _first,
    "last_seen": _last,
    "last_activity": _end,
    "duration": _end - _first,
    "traces": func.count(),
    "tokens": func.coalesce(func.sum(traces.c.total_tokens), 0),
    "cost": func.coalesce(func.sum(traces.c.total_cost), 0.0),
}
SORTS: dict[Kind, tuple[str, ...]] = {
    "sessions": ("id", "started", "last_activity", "duration", "traces", "tokens", "cost"),
    "users": ("id", "first_seen", "last_seen", "traces", "tokens", "cost"),
}
DEFAULT_SORT: dict[Kind, str] = {"sessions": "started", "users": "last_seen"}


@dataclass(frozen=True, slots=True)
class PeopleQuery:
    kind: Kind
    from_us: int | None = None
    prefix: str | None = None
    sort: str = ""
    descending: bool = True


def prefix_conditions(column: Any, prefix: str) -> list[ColumnElement[bool]]:
    """Ids starting with ``prefix``: an index range, and the exact first characters."""
    return [column >= prefix, column < prefix + _LAST_CHAR, func.substr(column, 1, len(prefix)) == prefix]


def _conditions(project_id: str, q: PeopleQuery) -> tuple[Any, list[ColumnElement[bool]]]:
    key = traces.c.session_id if q.kind == "sessions" else traces.c.user_id
    cond: list[ColumnElement[bool]] = [traces.c.project_id == project_id, key.is_not(None)]
    if q.from_us is not None:
        cond.append(traces.c.timestamp_us >= q.from_us)
    if q.prefix:
        cond += prefix_conditions(key, q.prefix)
    return key, cond


def sortable_by_figures(db: Db, project_id: str, q: PeopleQuery) -> bool:
    """Whether the window holds few enough traces to group them all for a sort by a figure."""
    _key, cond = _conditions(project_id, q)
    capped = select(literal_column("1")).select_from(traces).where(*cond).limit(SORT_SCAN_LIMIT + 1).subquery()
    with connect(db) as conn:
        return int(conn.execute(select(func.count()).select_from(capped)).scalar_one()) <= SORT_SCAN_LIMIT


def list_people(db: Db, project_id: str, q: PeopleQuery, *, page: int = 1, limit: int = 50) -> Page[Any]:
    """One page of sessions or users (``records.Session`` / ``records.User``) with a bounded total."""
    check_page(page, limit)
    key, cond = _conditions(project_id, q)
    sort = q.sort if q.sort in SORTS[q.kind] else "id"
    columns = [
        key,
        _first,
        _last,
        _end,
        func.count(),
        func.sum(traces.c.input_tokens),
        func.sum(traces.c.output_tokens),
        func.sum(traces.c.total_tokens),
        func.sum(traces.c.total_cost),
        func.min(traces.c.environment),
    ]
    group = key
    if sort != "id" and q.from_us is not None and not q.prefix:
        # Read the window through the time index and group its rows: grouping on the bare column
        # let SQLite walk the whole project's id index in order instead (2x slower for a week of 30 days).
        group = key.op("||")(literal(""))
        columns[0] = group
    measure = key if sort == "id" else _SORTS[sort]
    order = [measure.desc() if q.descending else measure.asc()]
    if sort != "id":
        order.append(group.asc())  # ties in id order
    query = select(*columns).where(*cond).group_by(group).order_by(*order)
    with connect(db) as conn:
        rows = conn.execute(query.limit(limit).offset(offset_of(page, limit))).all()
        counted = select(key).where(*cond).group_by(key)
        total, exact = page_total(conn, counted, page, limit, len(rows))
        users = _session_users(conn, project_id, [r[0] for r in rows]) if q.kind == "sessions" else {}
    items: list[Any] = []
    for gid, first, last, end, count, tin, tout, ttotal, cost, env in rows:
        usage = (int(tin or 0), int(tout or 0), int(ttotal or 0), None if cost is None else float(cost))
        if q.kind == "sessions":
            items.append(
                Session(gid, project_id, env, int(first), int(last), int(end), int(count), users.get(gid, []), *usage)
            )
        else:
            items.append(User(gid, int(first), int(last), int(count), *usage))
    return Page(items=items, page=page, limit=limit, total=total, total_exact=exact)


def _session_users(conn: Any, project_id: str, session_ids: list[str]) -> dict[str, list[str]]:
    if not session_ids:
        return {}
    found: dict[str, set[str]] = {}
    query = select(traces.c.session_id, traces.c.user_id).where(
        traces.c.project_id == project_id, traces.c.session_id.in_(session_ids), traces.c.user_id.is_not(None)
    )
    for sid, uid in conn.execute(query):
        found.setdefault(sid, set()).add(uid)
    return {sid: sorted(uids) for sid, uids in found.items()}
