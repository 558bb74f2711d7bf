"""The refresher: recomputes the dirty hours' roll-ups exactly, in every server replica.

Every ``interval`` it reads a bounded batch of the dirty log (``rollup_dirty``, oldest first) and
groups it by project and UTC day. For each day it recomputes the roll-up rows of the day's dirty
hours (and the day's user rows) from the stored rows, replaces the old ones, and deletes exactly
the log rows it read for that day (by id), in one transaction.

Why the roll-ups end up exact, whatever runs concurrently. A writer adds its log rows in the
transaction of its data change (``dirty.py``), so for each change one of two things holds:

- the writer committed before the refresher read the log: its log row is among those read, and
  its data is visible to the recomputation, which reads after that (on PostgreSQL every statement
  of a READ COMMITTED transaction sees what was committed before it started; on SQLite the log and
  the data are read in one snapshot);
- the writer commits after that read: its log row was not read, so it is not deleted, and the hour
  is recomputed again in a later round.

Two refreshers on one day must not apply an older recomputation after a newer one. On PostgreSQL
the day's transaction takes ``pg_try_advisory_xact_lock`` first, so refreshers of one day run one
after the other (a replica that finds the lock taken skips the day; the log rows it leaves are
read again). On SQLite the recomputation reads in a snapshot without holding the write lock (so
ingestion is not held up), and the write transaction then deletes the log rows it read: if any is
gone, another refresher (another process) deleted it after reading a snapshot at least as new,
and this result is dropped instead of written.

Readers trust a roll-up row only for hours without a log row (``query/rollup_reads.py``): they
scan the others exactly, so an answer never waits for the refresher.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, Table, and_, delete, insert, not_, select, text

from interactiveai.server.rollups import compute
from interactiveai.server.storage.rollup_schema import (
    DAY_US,
    HOUR_US,
    rollup_dirty,
    rollup_model_days,
    rollup_model_hours,
    rollup_score_hours,
    rollup_span_hours,
    rollup_trace_hours,
    rollup_user_days,
    rollup_user_hours,
)

logger = logging.getLogger("interactiveai.server.rollups")

PACE = 49
"""A day is recomputed again after at least 49 times its last recomputation's time: about 2 % of
a core per busy day (measured at 5 %, the OTLP benchmark's server CPU per span still rose ~10 %)."""

ROUND_ROWS = 5_000
"""Log rows read per round: bounds a round's work after a backlog (a migration, a rebuild)."""

_HOURLY: tuple[tuple[Table, Any], ...] = (
    (rollup_trace_hours, compute.trace_hour),
    (rollup_model_hours, compute.model_hour),
    (rollup_span_hours, compute.span_hour),
    (rollup_score_hours, compute.score_hour),
    (rollup_user_hours, compute.user_hour),
)
_DAILY: tuple[tuple[Table, Any], ...] = (
    (rollup_user_days, compute.user_day),
    (rollup_model_days, compute.model_day),
)


@dataclass
class DirtyDay:
    project_id: str
    day_us: int
    ids: list[int] = field(default_factory=list)
    hours: set[int] = field(default_factory=set)


def refresh_round(
    engine: Engine, *, limit: int = ROUND_ROWS, pacing: dict[tuple[str, int], float] | None = None
) -> int:
    """Refresh the days of the oldest ``limit`` log rows; returns how many log rows it read.

    ``pacing`` (the background refresher's): per project-day, the monotonic time before which it
    is not recomputed again. A recomputation costs the size of the day's hours, which keep growing
    while traffic arrives, so a day is recomputed at most every ``PACE`` times its last cost: the
    refresher takes a bounded share of the server's CPU, and meanwhile the readers scan the day's
    dirty hours exactly (answers stay exact, only slower).
    """
    now = time.monotonic()
    waiting = [key for key, until in (pacing or {}).items() if until > now]
    query = select(rollup_dirty.c.id, rollup_dirty.c.project_id, rollup_dirty.c.hour_us)
    for project_id, day_us in waiting:  # a few days at most: the ones written to in the last seconds
        c = rollup_dirty.c
        query = query.where(not_(and_(c.project_id == project_id, c.hour_us >= day_us, c.hour_us < day_us + DAY_US)))
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(rollup_dirty.c.id).limit(limit)).all()
    days: dict[tuple[str, int], DirtyDay] = {}
    for row_id, project_id, hour_us in rows:
        day = hour_us // DAY_US * DAY_US
        unit = days.get((project_id, day))
        if unit is None:
            unit = days[(project_id, day)] = DirtyDay(project_id, day)
        unit.ids.append(row_id)
        unit.hours.add(hour_us)
    for key, unit in days.items():
        began = time.monotonic()
        refresh_day(engine, unit)
        if pacing is not None:
            done = time.monotonic()
            pacing[key] = done + PACE * (done - began)
    if pacing is not None:  # forget the days whose pause is over and that were not refreshed now
        for key in [key for key, until in pacing.items() if until <= now and key not in days]:
            del pacing[key]
    return len(rows)


def refresh_day(engine: Engine, unit: DirtyDay) -> bool:
    """Recompute one project-day's dirty hours and users; False if left to another refresher."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            digest = hashlib.blake2b(f"{unit.project_id}:{unit.day_us}".encode(), digest_size=8).digest()
            key = int.from_bytes(digest, "big", signed=True)
            if not conn.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": key}).scalar_one():
                return False
            _write(conn, unit, _compute(conn, unit))
            _delete_log_rows(conn, unit.ids)
        return True
    with _sqlite_snapshot(engine) as conn:
        computed = _compute(conn, unit)
    with _sqlite_write(engine) as conn:
        if _delete_log_rows(conn, unit.ids) != len(unit.ids):
            conn.exec_driver_sql("ROLLBACK")  # another process refreshed this day from a newer snapshot
            return False
        _write(conn, unit, computed)
    return True


def _compute(conn: Connection, unit: DirtyDay) -> dict[Table, list[dict[str, Any]]]:
    computed: dict[Table, list[dict[str, Any]]] = defaultdict(list)
    for hour in sorted(unit.hours):
        for table, fn in _HOURLY:
            computed[table].extend(fn(conn, unit.project_id, hour))
    for table, _fn in _HOURLY:
        # the day row adds up the day's hour rows: the ones just computed and the others as stored
        # (if another hour of the day is dirty, readers do not use the day row until it is redone)
        others = select(table).where(
            table.c.project_id == unit.project_id,
            table.c.hours == 1,
            table.c.hour_us >= unit.day_us,
            table.c.hour_us < unit.day_us + DAY_US,
            table.c.hour_us.not_in(sorted(unit.hours)),
        )
        hour_rows = [*computed[table], *(dict(row) for row in conn.execute(others).mappings())]
        computed[table].extend(compute.day_rows(table.name, unit.project_id, unit.day_us, hour_rows))
    for table, fn in _DAILY:
        computed[table] = fn(conn, unit.project_id, unit.day_us)
    return computed


def _write(conn: Connection, unit: DirtyDay, computed: dict[Table, list[dict[str, Any]]]) -> None:
    hours = sorted(unit.hours)
    for table, _fn in _HOURLY:
        mine = table.c.project_id == unit.project_id
        conn.execute(delete(table).where(mine, table.c.hours == 1, table.c.hour_us.in_(hours)))
        conn.execute(delete(table).where(mine, table.c.hours == 24, table.c.hour_us == unit.day_us))
    for table, _fn in _DAILY:
        conn.execute(delete(table).where(table.c.project_id == unit.project_id, table.c.day_us == unit.day_us))
    for table, rows in computed.items():
        if rows:
            conn.execute(insert(table), rows)


def _delete_log_rows(conn: Connection, ids: list[int]) -> int:
    deleted = 0
    for start in range(0, len(ids), 500):
        result = conn.execute(delete(rollup_dirty).where(rollup_dirty.c.id.in_(ids[start : start + 500])))
        deleted += int(result.rowcount or 0)
    return deleted


@contextmanager
def _sqlite_snapshot(engine: Engine) -> Iterator[Connection]:
    """A read transaction: every statement sees the database as of its first read."""
    with engine.connect() as raw:
        conn = raw.execution_options(isolation_level="AUTOCOMMIT")
        conn.exec_driver_sql("BEGIN")
        try:
            yield conn
        finally:
            conn.exec_driver_sql("ROLLBACK")


@contextmanager
def _sqlite_write(engine: Engine) -> Iterator[Connection]:
    """A write transaction holding SQLite's write lock from its start (as the ingestion writer's)."""
    with engine.connect() as raw:
        conn = raw.execution_options(isolation_level="AUTOCOMMIT")
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            if conn.connection.dbapi_connection is not None and conn.connection.dbapi_connection.in_transaction:
                conn.exec_driver_sql("ROLLBACK")
            raise
        if conn.connection.dbapi_connection is not None and conn.connection.dbapi_connection.in_transaction:
            conn.exec_driver_sql("COMMIT")


def refresh_all(engine: Engine, *, project_id: str | None = None, max_rounds: int = 100_000) -> None:
    """Refresh until the log is empty (of ``project_id``, when given)."""
    for _ in range(max_rounds):
        refresh_round(engine)
        with engine.connect() as conn:
            query = select(rollup_dirty.c.id).limit(1)
            if project_id is not None:
                query = query.where(rollup_dirty.c.project_id == project_id)
            if conn.execute(query).first() is None:
                break


def rebuild(engine: Engine, project_id: str) -> int:
    """Recompute every roll-up of a project from its stored rows; returns the hours marked."""
    from interactiveai.server.storage.schema import observations, scores, traces

    hours: set[int] = set()
    with engine.connect() as conn:
        for column in (traces.c.timestamp_us, observations.c.start_time_us, scores.c.timestamp_us):
            hour = column - (column % HOUR_US + HOUR_US) % HOUR_US  # rounded down before 1970 too
            query = select(hour).where(column.table.c.project_id == project_id).distinct()
            hours.update(int(h) for (h,) in conn.execute(query))
        # hours whose roll-ups exist but whose rows are gone (deleted outside the writers)
        for table, _fn in _HOURLY:
            hours.update(  # (day rows start on an hour of their day: that hour is enough)
                int(h)
                for (h,) in conn.execute(select(table.c.hour_us).where(table.c.project_id == project_id).distinct())
            )
    ordered = sorted(hours)
    with engine.begin() as conn:
        for start in range(0, len(ordered), 1000):
            conn.execute(
                insert(rollup_dirty), [{"project_id": project_id, "hour_us": h} for h in ordered[start : start + 1000]]
            )
    refresh_all(engine, project_id=project_id)
    return len(ordered)


class RollupRefresher:
    """Runs refresh rounds every ``interval_seconds`` in a daemon thread (one per server process)."""

    def __init__(self, engine: Engine, interval_seconds: float = 1.0) -> None:
        self._engine = engine
        self._interval = interval_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pacing: dict[tuple[str, int], float] = {}

    def start(self) -> None:
        if self._interval <= 0:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="interactiveai-rollups", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                while refresh_round(self._engine, pacing=self._pacing) >= ROUND_ROWS and not self._stop.is_set():
                    pass  # a backlog: keep going without waiting
            except Exception:  # a failed round is retried at the next interval; the log keeps the work
                logger.exception("roll-up refresh failed")
