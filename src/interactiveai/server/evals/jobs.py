"""The evaluation jobs' life in the database: found, claimed, finished, retried; once per trace.

Finding: each evaluator reads the trace rows created since its scan position, in the order of
``ix_traces_project_created`` (creation time, trace id), keeps those its sampling rate takes
(decided by the trace id, so every replica decides alike) and inserts a ``pending`` job for each;
the unique key (evaluator, trace) turns a second insert into nothing, so replicas scanning the
same range at once do no harm. The trace row is read, not its observations: a trace may have none
(trace-level input and output only, as the batch ingestion API writes them) or get its first one
long after its row was created. Only rows older than the scan lag are read: a writer's
transaction in flight may commit a trace created a moment earlier than one already visible. On
PostgreSQL the lag also covers the oldest transaction open in the database (``in_flight_us``):
a replica's write waiting on locks may take longer than any fixed lag.

Once: a job is created once per (evaluator, trace) and never again. Spans arriving while it waits
push its start back (the trace must be quiet for the evaluator's delay); spans arriving after it
was claimed are not judged again, as the reference platform does.

Claiming: one UPDATE over the due jobs whose trace has been quiet for the evaluator's delay
marks them ``running`` under a new lease token; on PostgreSQL the jobs are selected ``FOR UPDATE
SKIP LOCKED``, so concurrent replicas claim disjoint jobs; on SQLite the statement holds the write
lock. A lease that ran out (its process died) makes the job claimable again, unless that was its
last attempt: then it fails, so a trace that kills the process judging it is not tried forever.

Finishing: the job is set ``done`` only while its lease token is still the one claimed, and the
score is inserted in the same transaction, so a score is written exactly once per job.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Engine, and_, delete, insert, or_, select, text, true, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite

from interactiveai.server.rollups.dirty import mark_dirty
from interactiveai.server.storage.eval_schema import evaluator_jobs, evaluators
from interactiveai.server.storage.schema import scores, traces

EVAL_ENVIRONMENT = "interactiveai-evaluation"
"""The environment of the judge's own traces: the worker never evaluates them."""

SCAN_BATCH = 1_000
_SCORE_IDS = uuid.UUID("6f1d3c2e-8a57-4b0e-9c53-2f1e4f0a7b21")


def sampled(trace_id: str, rate: float) -> bool:
    """Whether a sampling ``rate`` (0-1) takes this trace: the same answer in every replica."""
    if rate >= 1:
        return True
    if rate <= 0:
        return False
    bucket = int.from_bytes(hashlib.sha256(trace_id.encode()).digest()[:8], "big")
    return bucket < rate * 2**64


def score_id(evaluator_id: str, trace_id: str) -> str:
    return str(uuid.uuid5(_SCORE_IDS, f"{evaluator_id}:{trace_id}"))


IN_FLIGHT_LIMIT_S = 600
"""Transactions open longer than this (a forgotten session) no longer hold back the scan."""

_IN_FLIGHT = text(
    "SELECT COALESCE(EXTRACT(EPOCH FROM clock_timestamp() - min(xact_start)), 0) FROM pg_stat_activity"
    " WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
    f" AND xact_start > clock_timestamp() - interval '{IN_FLIGHT_LIMIT_S} seconds'"
)


def in_flight_us(engine: Engine) -> int:
    """How long the oldest transaction open in the database (but ours) has been running, on
    PostgreSQL; 0 on SQLite, whose one writer's transactions are short. A trace row it writes
    may be created that long ago and still be invisible."""
    if engine.dialect.name != "postgresql":
        return 0
    with engine.connect() as conn:
        return int(float(conn.execute(_IN_FLIGHT).scalar_one()) * 1_000_000)


def discover(engine: Engine, project_id: str, evaluator_id: str, now: int, lag_us: int) -> int:
    """Insert the jobs of one evaluator's new sampled traces; returns how many traces it read."""
    t = traces.c
    with engine.connect() as conn:  # read first, then write in a short transaction of its own
        row = conn.execute(
            select(evaluators.c.scan_created_us, evaluators.c.scan_trace_id, evaluators.c.sampling_rate).where(
                evaluators.c.project_id == project_id, evaluators.c.id == evaluator_id
            )
        ).first()
        if row is None:
            return 0
        position = (row.scan_created_us, row.scan_trace_id)
        upper = now - lag_us
        found = conn.execute(
            select(t.created_at_us, t.id)
            .where(
                t.project_id == project_id,
                t.created_at_us >= position[0],
                tuple_(t.created_at_us, t.id) > tuple_(*position),
                t.created_at_us <= upper,
                t.environment != EVAL_ENVIRONMENT,
            )
            .order_by(t.created_at_us, t.id)
            .limit(SCAN_BATCH)
        ).all()
    jobs = [
        {
            "id": str(uuid.uuid4()),
            "project_id": project_id,
            "evaluator_id": evaluator_id,
            "trace_id": trace_id,
            "status": "pending",
            "attempts": 0,
            "next_attempt_us": now,
            "created_at_us": now,
            "updated_at_us": now,
        }
        for _created, trace_id in found
        if sampled(trace_id, row.sampling_rate)
    ]
    last = (found[-1][0], found[-1][1]) if found else position
    if len(found) < SCAN_BATCH:  # everything up to ``upper`` has been read
        last = max(last, (upper, ""))
    if last == position:
        return 0
    with engine.begin() as conn:
        # compare-and-set: a replica that moved the position meanwhile inserted the same jobs
        moved = conn.execute(
            update(evaluators)
            .where(
                evaluators.c.project_id == project_id,
                evaluators.c.id == evaluator_id,
                evaluators.c.scan_created_us == position[0],
                evaluators.c.scan_trace_id == position[1],
            )
            .values(scan_created_us=last[0], scan_trace_id=last[1])
        )
        if moved.rowcount and jobs:
            dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
            conn.execute(dialect.insert(evaluator_jobs).on_conflict_do_nothing(), jobs)
    return len(found)


@dataclass(frozen=True, slots=True)
class Claimed:
    id: str
    project_id: str
    evaluator_id: str
    trace_id: str
    attempts: int
    token: str


def claim(engine: Engine, limit: int, now: int, lease_us: int, max_attempts: int | None = None) -> list[Claimed]:
    """Up to ``limit`` due jobs, marked running under a lease of ``lease_us``; first, jobs whose
    last attempt (of ``max_attempts``) ran out of its lease are failed."""
    if limit <= 0:
        return []
    j, e, t = evaluator_jobs.c, evaluators.c, traces.c
    if max_attempts is not None:
        with engine.begin() as conn:
            conn.execute(
                update(evaluator_jobs)
                .where(j.status == "running", j.lease_until_us < now, j.attempts >= max_attempts)
                .values(
                    status="failed",
                    error=f"attempt {max_attempts} did not finish: its server process stopped, or the judge's call "
                    "outlived the lease",
                    lease_token=None,
                    lease_until_us=None,
                    updated_at_us=now,
                    finished_at_us=now,
                )
            )
    joined = evaluator_jobs.join(evaluators, and_(e.project_id == j.project_id, e.id == j.evaluator_id)).outerjoin(
        traces, and_(t.project_id == j.project_id, t.id == j.trace_id)
    )
    due = (
        select(j.id)
        .select_from(joined)
        .where(
            or_(
                and_(j.status == "pending", j.next_attempt_us <= now),
                and_(j.status == "running", j.lease_until_us < now),
            ),
            e.enabled == true(),
            # quiet for the evaluator's delay (or deleted: the job is then dropped)
            or_(t.id.is_(None), t.updated_at_us <= now - e.delay_ms * 1000),
        )
        .order_by(j.next_attempt_us)
        .limit(limit)
    )
    if engine.dialect.name == "postgresql":
        due = due.with_for_update(of=evaluator_jobs, skip_locked=True)
    token = uuid.uuid4().hex
    statement = (
        update(evaluator_jobs)
        .where(j.id.in_(due.scalar_subquery()))
        .values(
            status="running",
            attempts=j.attempts + 1,
            lease_token=token,
            lease_until_us=now + lease_us,
            updated_at_us=now,
        )
        .returning(j.id, j.project_id, j.evaluator_id, j.trace_id, j.attempts)
    )
    with engine.begin() as conn:
        rows = conn.execute(statement).all()
    return [Claimed(r.id, r.project_id, r.evaluator_id, r.trace_id, r.attempts, token) for r in rows]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt produced (``None`` where it did not get that far)."""

    model: str | None = None
    latency_ms: int | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    total_tokens: int | None = None
    cost: float | None = None
    judge_trace_id: str | None = None
    observation_id: str | None = None


def storable(text: str | None, limit: int = 2_000) -> str | None:
    """``text`` as both engines store it: no NUL (PostgreSQL refuses one), no lone surrogate,
    at most ``limit`` characters. A judge's answer and its errors are whatever it sent."""
    if text is None:
        return None
    text = text[:limit].replace("\x00", "\ufffd")
    if not text.isascii():
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def _mine(job: Claimed) -> tuple[ColumnElement[bool], ...]:
    c = evaluator_jobs.c
    return (c.id == job.id, c.lease_token == job.token, c.status == "running")


def _outcome_values(outcome: Outcome) -> dict[str, object]:
    values = {key: getattr(outcome, key) for key in Outcome.__dataclass_fields__}
    values["model"] = storable(outcome.model, 200)
    return values


def finish(engine: Engine, job: Claimed, outcome: Outcome, score: Mapping[str, object], now: int) -> bool:
    """Mark the job done and write its score, together; False if the lease was lost meanwhile."""
    with engine.begin() as conn:
        done = conn.execute(
            update(evaluator_jobs)
            .where(*_mine(job))
            .values(
                status="done",
                error=None,
                score_id=score["id"],
                lease_token=None,
                lease_until_us=None,
                updated_at_us=now,
                finished_at_us=now,
                **_outcome_values(outcome),
            )
        )
        if not done.rowcount:
            return False
        conn.execute(
            insert(scores).values(
                project_id=job.project_id,
                trace_id=job.trace_id,
                source="EVAL",
                timestamp_us=now,
                created_at_us=now,
                updated_at_us=now,
                **{"metadata": "{}", **score},
            )
        )
        mark_dirty(conn, [(job.project_id, now)])
    return True


def fail(engine: Engine, job: Claimed, error: str, outcome: Outcome, *, retry_at: int | None, now: int) -> None:
    """Another attempt at ``retry_at``, or (None) the job failed for good, keeping the error."""
    values: dict[str, object] = {"error": storable(error), "lease_token": None, "lease_until_us": None}
    if retry_at is None:
        values.update(status="failed", finished_at_us=now)
    else:
        values.update(status="pending", next_attempt_us=retry_at)
    with engine.begin() as conn:
        conn.execute(
            update(evaluator_jobs).where(*_mine(job)).values(updated_at_us=now, **values, **_outcome_values(outcome))
        )


def drop(engine: Engine, job: Claimed) -> None:
    """Forget a job whose trace does not match the evaluator's filter (or is gone)."""
    with engine.begin() as conn:
        conn.execute(delete(evaluator_jobs).where(*_mine(job)))
