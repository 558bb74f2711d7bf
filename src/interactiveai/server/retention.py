"""Deleting traces for real: on request (API, UI, by filter) and by per-project retention.

A deleted trace takes its observations, scores, tag rows and evaluation jobs with it, on both
engines. Deletes run in small batches, each its own short transaction, so the ingestion writer
(which needs the write lock on SQLite) is never held up for long.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, Engine, and_, bindparam, delete, select, update

from interactiveai.server.clock import now_us
from interactiveai.server.query._db import load_json_list
from interactiveai.server.rollups.dirty import mark_dirty
from interactiveai.server.storage.eval_schema import evaluator_jobs
from interactiveai.server.storage.schema import (
    OBSERVATIONS_OF_TRACE_ROW,
    observations,
    projects,
    scores,
    trace_tags,
    traces,
)

logger = logging.getLogger("interactiveai.server.retention")

DELETE_BATCH = 200  # traces per transaction: short enough not to stall ingestion


def delete_traces(engine: Engine, project_id: str, trace_ids: Iterable[str]) -> int:
    """Delete these traces of the project with everything attached; returns how many traces existed."""
    ids = list(dict.fromkeys(trace_ids))
    deleted = 0
    for start in range(0, len(ids), DELETE_BATCH):
        deleted += _delete_batch(engine, project_id, ids[start : start + DELETE_BATCH])
    return deleted


def _delete_batch(engine: Engine, project_id: str, ids: Sequence[str]) -> int:
    with engine.begin() as conn:
        _mark_deleted_hours(conn, project_id, ids)
        # observations and tags first: they are found through their trace rows (schema.py)
        _delete_observations_and_tags(conn, project_id, ids)
        # evaluations before scores: on PostgreSQL an evaluation finishing meanwhile holds its job
        # row, so the scores are deleted after its score is committed (server/evals/jobs.py)
        jobs = evaluator_jobs.c
        conn.execute(delete(evaluator_jobs).where((jobs.project_id == project_id) & (jobs.trace_id.in_(ids))))
        conn.execute(delete(scores).where((scores.c.project_id == project_id) & (scores.c.trace_id.in_(ids))))
        result = conn.execute(delete(traces).where((traces.c.project_id == project_id) & (traces.c.id.in_(ids))))
        return int(result.rowcount or 0)


def _mark_deleted_hours(conn: Connection, project_id: str, ids: Sequence[str]) -> None:
    """The hours the roll-ups counted these traces, their observations and their scores in are dirty."""
    trace_rows = and_(traces.c.project_id == project_id, traces.c.id.in_(ids))
    times = select(traces.c.timestamp_us).where(trace_rows)
    calls = (
        select(observations.c.start_time_us)
        .select_from(traces.join(observations, OBSERVATIONS_OF_TRACE_ROW))
        .where(trace_rows)
    )
    rated = select(scores.c.timestamp_us).where(scores.c.project_id == project_id, scores.c.trace_id.in_(ids))
    mark_dirty(conn, [(project_id, t) for query in (times, calls, rated) for (t,) in conn.execute(query)])


_DELETE_OBSERVATIONS = delete(observations).where(
    observations.c.project_id == bindparam("p"),
    observations.c.trace_created_at_us == bindparam("created"),
    observations.c.trace_id == bindparam("trace"),
)
_DELETE_TAG = delete(trace_tags).where(
    trace_tags.c.project_id == bindparam("p"),
    trace_tags.c.tag == bindparam("tag"),
    trace_tags.c.trace_created_at_us == bindparam("created"),
    trace_tags.c.trace_id == bindparam("trace"),
)


def _delete_observations_and_tags(conn: Connection, project_id: str, ids: Sequence[str]) -> None:
    """Both by key, trace by trace: the trace rows give each key's prefix and list the tags."""
    found = conn.execute(
        select(traces.c.id, traces.c.created_at_us, traces.c.tags).where(
            traces.c.project_id == project_id, traces.c.id.in_(ids)
        )
    ).all()
    if not found:
        return
    conn.execute(
        _DELETE_OBSERVATIONS, [{"p": project_id, "created": created, "trace": tid} for tid, created, _ in found]
    )
    tag_keys = [
        {"p": project_id, "tag": tag, "created": created, "trace": tid}
        for tid, created, tags in found
        for tag in load_json_list(tags)
    ]
    if tag_keys:
        conn.execute(_DELETE_TAG, tag_keys)


def delete_traces_before(engine: Engine, project_id: str, cutoff_us: int, *, limit: int | None = None) -> int:
    """Delete the project's traces whose timestamp is older than ``cutoff_us``, batch by batch."""
    total = 0
    while limit is None or total < limit:
        with engine.connect() as conn:
            batch = [
                row[0]
                for row in conn.execute(
                    select(traces.c.id)
                    .where((traces.c.project_id == project_id) & (traces.c.timestamp_us < cutoff_us))
                    .limit(DELETE_BATCH)
                )
            ]
        if not batch:
            break
        total += _delete_batch(engine, project_id, batch)
    return total


def set_retention(engine: Engine, project_id: str, days: int | None) -> bool:
    """Keep the project's traces ``days`` days (None: forever). Returns False for an unknown project."""
    if days is not None and days < 1:
        raise ValueError("retention must be at least 1 day, or None to keep everything")
    with engine.begin() as conn:
        result = conn.execute(update(projects).where(projects.c.id == project_id).values(retention_days=days))
        return bool(result.rowcount)


def apply_retention(engine: Engine, *, now: int | None = None) -> dict[str, int]:
    """Delete every trace older than its project's retention; returns deleted counts per project."""
    now = now_us() if now is None else now
    with engine.connect() as conn:
        rows = conn.execute(
            select(projects.c.id, projects.c.retention_days).where(projects.c.retention_days.is_not(None))
        ).all()
    deleted: dict[str, int] = {}
    for project_id, days in rows:
        count = delete_traces_before(engine, project_id, now - int(days) * 86_400_000_000)
        if count:
            deleted[project_id] = count
            logger.info("retention: deleted %d traces of project %s older than %d days", count, project_id, days)
    return deleted


class RetentionWorker:
    """Applies retention periodically in a daemon thread (every replica may run one: deletes are idempotent)."""

    def __init__(self, engine: Engine, interval_seconds: float = 3600.0) -> None:
        self._engine = engine
        self._interval = interval_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="interactiveai-retention", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                apply_retention(self._engine)
            except Exception:  # a failed pass is retried at the next interval
                logger.exception("retention pass failed")
