"""The page of sessions or users of a list, found by walking the project's traces newest first.

Grouping every trace of the window by session or user to sort the groups cost the whole window
(0.3-0.8 s at 1,000,000 traces). Both orders can be found from the newest traces instead, reading
only the ``ix_traces_project_time_keys`` index (time, environment, user, session):

- **Users by their last trace** (descending, then id): the order in which a walk from the newest
  trace meets each user for the first time. The walk stops once it has met the page's users.
- **Sessions by their first trace** (descending, then id descending): when the walk has read every
  trace at or after time ``T``, it has met every session whose first trace in the window is at or
  after ``T``; each session met is probed for its first trace (the session index). The walk stops
  once that many sessions reach past the page.

The walk goes on until it has also met ``count_to`` distinct keys (the lists' bounded count of
``meta``), or the window ends. A walk that reads more than ``WALK_LIMIT`` traces (a window of a
few keys with many traces each) gives up, and the caller groups the window as before. The walk
reads whole timestamps at a time, so ties are ordered exactly as the grouping query orders them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, func, select

from interactiveai.server.storage.schema import traces

BATCH = 2_000
WALK_LIMIT = 100_000
"""Traces a walk reads at most (~50-100 ms) before the caller groups the window instead."""


@dataclass(frozen=True, slots=True)
class Walked:
    keys: list[str]  # the first ``need`` keys in the list's order (fewer if the window has fewer)
    seen: int  # distinct keys met: all of the window's when ``complete``, else at least ``count_to``
    complete: bool


def _groups(
    conn: Connection, cond: Sequence[ColumnElement[bool]], key: ColumnElement[str]
) -> Iterator[list[tuple[int, str]]]:
    """The window's ``(timestamp, key)`` pairs, newest first, a batch at a time; a batch always
    ends with every trace of its last timestamp."""
    ts = traces.c.timestamp_us
    upper: int | None = None
    limit = BATCH
    read = 0
    while read < WALK_LIMIT:
        bounded = [*cond] if upper is None else [*cond, ts < upper]
        query = select(ts, key).where(*bounded).order_by(ts.desc()).limit(limit)
        rows = [(int(t), k) for t, k in conn.execute(query)]
        if len(rows) < limit:
            yield rows
            return
        last = rows[-1][0]
        whole = [r for r in rows if r[0] > last]  # the last timestamp may go on: read it next time
        if not whole:  # one timestamp fills the batch
            limit *= 2
            continue
        read += len(whole)
        upper = last + 1
        yield whole
    raise _TooLong


class _TooLong(Exception):
    pass


def by_last_trace(
    conn: Connection,
    cond: Sequence[ColumnElement[bool]],
    key: ColumnElement[str],
    need: int,
    count_to: int,
    *,
    count_within: int = WALK_LIMIT,
) -> Walked | None:
    """Keys by their latest trace in the window (newest first, then key ascending); None if the
    walk is too long. Once the page is known, counting goes on only while at most
    ``count_within`` traces have been read (``seen`` may then stay below ``count_to``)."""
    order: list[str] = []
    seen: set[str] = set()
    read = 0
    try:
        for batch in _groups(conn, cond, key):
            read += len(batch)
            group_ts: int | None = None
            group: list[str] = []
            for t, k in batch:
                if t != group_ts:
                    order.extend(sorted(group))
                    group, group_ts = [], t
                if k not in seen:
                    seen.add(k)
                    group.append(k)
            order.extend(sorted(group))
            if len(order) >= need and (len(seen) >= count_to or read >= count_within) and batch:
                return Walked(order[:need], len(seen), complete=False)
    except _TooLong:
        return None
    return Walked(order[:need], len(seen), complete=True)


def by_first_trace(
    conn: Connection, cond: Sequence[ColumnElement[bool]], key: ColumnElement[str], need: int, count_to: int
) -> Walked | None:
    """Keys by their earliest trace in the window (newest first, then key descending); None if
    the walk is too long."""
    first: dict[str, int] = {}
    seen: set[str] = set()
    page: list[str] | None = None
    try:
        for batch in _groups(conn, cond, key):
            new = list(dict.fromkeys(k for _t, k in batch if k not in seen))
            seen.update(new)
            if page is None:
                first.update(_first_traces(conn, cond, key, new))
                if batch:
                    reached = batch[-1][0]  # every key whose first trace is at or after it is known
                    done = sorted(((t, k) for k, t in first.items() if t >= reached), reverse=True)
                    if len(done) >= need:
                        page = [k for _t, k in done[:need]]
            if page is not None and len(seen) >= count_to:
                return Walked(page, len(seen), complete=False)
    except _TooLong:
        return None
    if page is None:
        page = [k for _t, k in sorted(((t, k) for k, t in first.items()), reverse=True)[:need]]
    return Walked(page, len(seen), complete=True)


def _first_traces(
    conn: Connection, cond: Sequence[ColumnElement[bool]], key: ColumnElement[str], keys: list[str]
) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        query = select(key, func.min(traces.c.timestamp_us)).where(*cond, key.in_(chunk)).group_by(key)
        found.update((k, int(t)) for k, t in conn.execute(query))
    return found
