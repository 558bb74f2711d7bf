"""Dashboard metrics scanned exactly: volume, cost, tokens, latency percentiles, errors, users, scores.

``query/metrics.py`` answers from the roll-ups where it can and falls back to these scans.

Each function reads one project's rows in ``[from_us, to_us)`` (see ``metrics_base``). Trace-level
figures (volume, errors, trace latency, users) read the traces table's roll-up columns, never
observations; the observation count per bucket is the traces' ``observation_count`` roll-up, so
observations are counted at their trace's timestamp. Per-model figures (cost, tokens, calls,
generation latency) read observations that carry a model.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, case, func, select

from interactiveai.server.query._db import Db, connect
from interactiveai.server.query.metrics_base import (
    Granularity,
    MetricsFilter,
    bucket_expr,
    bucket_starts,
    check_granularity,
    observation_conditions,
    percentiles,
    trace_conditions,
)
from interactiveai.server.storage.schema import observations, scores, traces

LATENCY_FRACTIONS = (0.5, 0.9, 0.95, 0.99)
"""p50, p90, p95, p99: the dashboard's latency percentiles."""


@dataclass(frozen=True, slots=True)
class Summary:
    traces: int
    observations: int
    error_traces: int
    warning_traces: int
    input_tokens: int
    output_tokens: int
    total_tokens: int
    total_cost: float
    latency_p50_us: float | None
    latency_p95_us: float | None

    @property
    def error_rate(self) -> float | None:
        return None if self.traces == 0 else self.error_traces / self.traces


@dataclass(frozen=True, slots=True)
class VolumePoint:
    bucket_us: int
    traces: int = 0
    observations: int = 0
    error_traces: int = 0
    warning_traces: int = 0
    total_tokens: int = 0
    total_cost: float = 0.0


@dataclass(frozen=True, slots=True)
class ModelPoint:
    bucket_us: int
    model: str
    calls: int
    input_tokens: int
    output_tokens: int
    total_tokens: int
    total_cost: float


@dataclass(frozen=True, slots=True)
class LatencyPoint:
    bucket_us: int
    p50_us: float | None = None
    p90_us: float | None = None
    p95_us: float | None = None
    p99_us: float | None = None


@dataclass(frozen=True, slots=True)
class ModelUsage:
    model: str
    calls: int
    input_tokens: int
    output_tokens: int
    total_tokens: int
    total_cost: float
    latency_us: list[float | None] = field(default_factory=list)  # LATENCY_FRACTIONS, by position


@dataclass(frozen=True, slots=True)
class UserCost:
    user_id: str
    traces: int
    total_tokens: int
    total_cost: float


@dataclass(frozen=True, slots=True)
class ScoreSummary:
    name: str
    data_type: str
    count: int
    average: float | None
    minimum: float | None
    maximum: float | None
    categories: tuple[tuple[str, int], ...] = ()  # categorical values and their counts, most frequent first


@dataclass(frozen=True, slots=True)
class Dashboard:
    granularity: Granularity
    summary: Summary
    volume: list[VolumePoint]
    model_series: list[ModelPoint]
    latency: list[LatencyPoint]
    models: list[ModelUsage]
    users: list[UserCost]
    scores: list[ScoreSummary]


def summary(db: Db, project_id: str, f: MetricsFilter) -> Summary:
    """The tiles: counts, tokens, cost, error share and trace latency percentiles of the window."""
    cond = trace_conditions(project_id, f)
    query = select(
        func.count(),
        func.coalesce(func.sum(traces.c.observation_count), 0),
        func.coalesce(func.sum(case((traces.c.error_count > 0, 1), else_=0)), 0),
        func.coalesce(func.sum(case((traces.c.warning_count > 0, 1), else_=0)), 0),
        func.coalesce(func.sum(traces.c.input_tokens), 0),
        func.coalesce(func.sum(traces.c.output_tokens), 0),
        func.coalesce(func.sum(traces.c.total_tokens), 0),
        func.coalesce(func.sum(traces.c.total_cost), 0.0),
    ).where(*cond)
    with connect(db) as conn:
        row = conn.execute(query).one()
        p50, p95 = percentiles(conn, traces.c.latency_us, [], cond, (0.5, 0.95)).get((), [None, None])
    count, obs, errors, warnings, tin, tout, ttotal, cost = row
    return Summary(
        traces=int(count),
        observations=int(obs),
        error_traces=int(errors),
        warning_traces=int(warnings),
        input_tokens=int(tin),
        output_tokens=int(tout),
        total_tokens=int(ttotal),
        total_cost=float(cost),
        latency_p50_us=p50,
        latency_p95_us=p95,
    )


def volume_series(db: Db, project_id: str, f: MetricsFilter, granularity: str | None = None) -> list[VolumePoint]:
    """Traces, observations, traces with errors/warnings, tokens and cost per bucket (every bucket)."""
    grain = check_granularity(f, granularity)
    bucket = bucket_expr(traces.c.timestamp_us, grain)
    query = (
        select(
            bucket,
            func.count(),
            func.sum(traces.c.observation_count),
            func.sum(case((traces.c.error_count > 0, 1), else_=0)),
            func.sum(case((traces.c.warning_count > 0, 1), else_=0)),
            func.sum(traces.c.total_tokens),
            func.coalesce(func.sum(traces.c.total_cost), 0.0),
        )
        .where(*trace_conditions(project_id, f))
        .group_by(bucket)
    )
    with connect(db) as conn:
        found = {
            int(b): VolumePoint(int(b), int(n), int(o or 0), int(e or 0), int(w or 0), int(t or 0), float(c))
            for b, n, o, e, w, t, c in conn.execute(query)
        }
    return [found.get(start, VolumePoint(start)) for start in bucket_starts(f, grain)]


def _model_columns() -> list[Any]:
    return [
        func.count(),
        func.coalesce(func.sum(observations.c.input_tokens), 0),
        func.coalesce(func.sum(observations.c.output_tokens), 0),
        func.coalesce(func.sum(observations.c.total_tokens), 0),
        func.coalesce(func.sum(observations.c.total_cost), 0.0),
    ]


def model_series(db: Db, project_id: str, f: MetricsFilter, granularity: str | None = None) -> list[ModelPoint]:
    """Calls, tokens and cost per bucket and model (observations with a model), by bucket then model."""
    grain = check_granularity(f, granularity)
    bucket = bucket_expr(observations.c.start_time_us, grain)
    query = (
        select(bucket, observations.c.model, *_model_columns())
        .where(*observation_conditions(project_id, f), observations.c.model.is_not(None))
        .group_by(bucket, observations.c.model)
        .order_by(bucket, observations.c.model)
    )
    with connect(db) as conn:
        return [
            ModelPoint(int(b), m, int(n), int(i), int(o), int(t), float(c))
            for b, m, n, i, o, t, c in conn.execute(query)
        ]


def model_usage(db: Db, project_id: str, f: MetricsFilter) -> list[ModelUsage]:
    """Per model: calls, tokens, cost and latency percentiles (end - start), most expensive first."""
    cond = [*observation_conditions(project_id, f), observations.c.model.is_not(None)]
    query = select(observations.c.model, *_model_columns()).where(*cond).group_by(observations.c.model)
    latency = (observations.c.end_time_us - observations.c.start_time_us).label("latency")
    model = observations.c.model.label("model")
    with connect(db) as conn:
        rows = conn.execute(query).all()
        lat = percentiles(conn, latency, [model], cond, LATENCY_FRACTIONS)
    usage = [
        ModelUsage(m, int(n), int(i), int(o), int(t), float(c), lat.get((m,), [None] * len(LATENCY_FRACTIONS)))
        for m, n, i, o, t, c in rows
    ]
    return sorted(usage, key=lambda u: (-u.total_cost, -u.calls, u.model))


def latency_series(db: Db, project_id: str, f: MetricsFilter, granularity: str | None = None) -> list[LatencyPoint]:
    """Trace latency p50/p90/p95/p99 per bucket; buckets without traces have no values."""
    grain = check_granularity(f, granularity)
    bucket = bucket_expr(traces.c.timestamp_us, grain)
    with connect(db) as conn:
        found = percentiles(conn, traces.c.latency_us, [bucket], trace_conditions(project_id, f), LATENCY_FRACTIONS)
    result = []
    for start in bucket_starts(f, grain):
        values = found.get((start,))
        result.append(LatencyPoint(start) if values is None else LatencyPoint(start, *values))
    return result


def top_users(db: Db, project_id: str, f: MetricsFilter, limit: int = 10) -> list[UserCost]:
    """The users with the highest total cost in the window (then most traces)."""
    cost = func.coalesce(func.sum(traces.c.total_cost), 0.0).label("cost")
    count = func.count().label("n")
    query = (
        select(traces.c.user_id, count, func.coalesce(func.sum(traces.c.total_tokens), 0), cost)
        .where(*trace_conditions(project_id, f), traces.c.user_id.is_not(None))
        .group_by(traces.c.user_id)
        .order_by(cost.desc(), count.desc(), traces.c.user_id)
        .limit(limit)
    )
    with connect(db) as conn:
        return [UserCost(u, int(n), int(t), float(c)) for u, n, t, c in conn.execute(query)]


def score_summary(db: Db, project_id: str, f: MetricsFilter) -> list[ScoreSummary]:
    """Scores in the window by name and data type: count, and average/min/max of numeric values."""
    cond = [scores.c.project_id == project_id, scores.c.timestamp_us >= f.from_us, scores.c.timestamp_us < f.to_us]
    if f.environments:
        cond.append(scores.c.environment.in_(list(f.environments)))
    if f.has_trace_filters:
        trace_filter = MetricsFilter(f.from_us, f.to_us, trace_names=f.trace_names, user_ids=f.user_ids, tags=f.tags)
        cond.append(scores.c.trace_id.in_(select(traces.c.id).where(*trace_conditions(project_id, trace_filter))))
    # Averages only mean something for numbers and booleans (0/1); categories get counts alone.
    numeric = case((scores.c.data_type.in_(["NUMERIC", "BOOLEAN"]), scores.c.value))
    query = (
        select(scores.c.name, scores.c.data_type, func.count(), func.avg(numeric), func.min(numeric), func.max(numeric))
        .where(*cond)
        .group_by(scores.c.name, scores.c.data_type)
        .order_by(scores.c.name, scores.c.data_type)
    )
    labels = (
        select(scores.c.name, scores.c.string_value, func.count())
        .where(*cond, scores.c.data_type == "CATEGORICAL", scores.c.string_value.is_not(None))
        .group_by(scores.c.name, scores.c.string_value)
    )
    with connect(db) as conn:
        found: dict[str, dict[str, int]] = {}
        for name, label, n in conn.execute(labels):
            found.setdefault(name, {})[label] = int(n)
        return [
            ScoreSummary(
                n, d, int(c), _opt(a), _opt(lo), _opt(hi), top_categories(found.get(n)) if d == "CATEGORICAL" else ()
            )
            for n, d, c, a, lo, hi in conn.execute(query)
        ]


MAX_CATEGORIES = 12
"""A score summary lists at most this many categorical values; the rest are summed as "other"."""


def top_categories(counts: dict[str, int] | None) -> tuple[tuple[str, int], ...]:
    """Categorical values by count (then label), the tail past ``MAX_CATEGORIES`` summed as "other"."""
    ranked = sorted((counts or {}).items(), key=lambda kv: (-kv[1], kv[0]))
    if len(ranked) <= MAX_CATEGORIES:
        return tuple(ranked)
    head = ranked[: MAX_CATEGORIES - 1]
    return (*head, ("other", sum(n for _label, n in ranked[MAX_CATEGORIES - 1 :])))


def generation_latency(db: Db, project_id: str, f: MetricsFilter) -> dict[str, list[float | None]]:
    """Generation latency p50/p90/p95/p99 (µs) per model (generations that name a model)."""
    latency = (observations.c.end_time_us - observations.c.start_time_us).label("latency")
    model = observations.c.model.label("model")
    # Generations with a model: the condition also lets the partial metrics index cover the scan.
    cond = [*observation_conditions(project_id, f), observations.c.type == "GENERATION", model.is_not(None)]
    with connect(db) as conn:
        found = percentiles(conn, latency, [model], cond, LATENCY_FRACTIONS)
    return {str(key[0]): values for key, values in sorted(found.items(), key=lambda kv: str(kv[0][0]))}


def environments(db: Db, project_id: str, limit: int = 50) -> list[str]:
    """The project's environments (all time), for the filter menu.

    A loose index scan: one seek per distinct value on ``(project_id, environment, …)``, so a
    project with a million traces in three environments costs three index probes, not a scan.
    """
    found: list[str] = []
    with connect(db) as conn:
        while len(found) < limit:
            query = select(func.min(traces.c.environment)).where(traces.c.project_id == project_id)
            if found:
                query = query.where(traces.c.environment > found[-1])
            value = conn.execute(query).scalar()
            if value is None:
                break
            found.append(str(value))
    return found


def dashboard(db: Db, project_id: str, f: MetricsFilter, granularity: str | None = None) -> Dashboard:
    """Everything the dashboard page shows, from exact scans (see ``gather_dashboard``)."""
    return gather_dashboard(sys.modules[__name__], db, project_id, f, granularity)


def gather_dashboard(
    source: Any, db: Db, project_id: str, f: MetricsFilter, granularity: str | None = None
) -> Dashboard:
    """The dashboard bundle from ``source``'s seven aggregate functions (this module's exact
    scans, or ``metrics.py``'s roll-up readers).

    Given an engine, the aggregates run concurrently, each on its own pooled connection: both
    drivers release the GIL while the database works, so the page costs about its slowest
    aggregate rather than their sum (on SQLite too: WAL readers do not block each other).
    """
    grain = check_granularity(f, granularity)
    parts: dict[str, Callable[[Db], Any]] = {
        "summary": lambda c: source.summary(c, project_id, f),
        "volume": lambda c: source.volume_series(c, project_id, f, grain),
        "model_series": lambda c: source.model_series(c, project_id, f, grain),
        "latency": lambda c: source.latency_series(c, project_id, f, grain),
        "models": lambda c: source.model_usage(c, project_id, f),
        "users": lambda c: source.top_users(c, project_id, f),
        "scores": lambda c: source.score_summary(c, project_id, f),
    }
    if isinstance(db, Engine):
        with ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="dashboard") as pool:
            futures = {name: pool.submit(fn, db) for name, fn in parts.items()}
            results = {name: future.result() for name, future in futures.items()}
    else:
        results = {name: fn(db) for name, fn in parts.items()}
    return Dashboard(granularity=grain, **results)


_WORKERS = 4
"""Concurrent aggregates per dashboard; below the engines' pool size so other requests still get a connection."""


def _opt(value: Any) -> float | None:
    return None if value is None else float(value)
