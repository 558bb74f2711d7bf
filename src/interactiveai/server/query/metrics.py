"""Dashboard metrics: volume, cost, tokens, latency percentiles, errors, users and scores of a window.

Each function answers from the roll-ups (``rollup_reads``: clean whole hours from the roll-up
tables, the window's edges and the dirty hours scanned exactly) when its filters are roll-up keys,
and otherwise with the exact scan of ``metrics_exact`` (a user or tag filter on trace figures, any
trace filter on per-model figures and scores, minute buckets). A window that no roll-up covers
(shorter than an hour, or all of it dirty) is scanned exactly too, so its percentiles are exact;
read from roll-ups they are within ``rollup_histogram.ALPHA``. Same results as the exact scans:
``tests/server/rollups`` compares them.
"""

from __future__ import annotations

import sys
from typing import Any

import orjson
from sqlalchemy import func, select

from interactiveai.server.query import metrics_exact as exact
from interactiveai.server.query import rollup_reads
from interactiveai.server.query._db import Db, connect
from interactiveai.server.query.metrics_base import MetricsFilter, bucket_of, bucket_starts, check_granularity
from interactiveai.server.query.metrics_exact import (
    LATENCY_FRACTIONS,
    Dashboard,
    LatencyPoint,
    ModelPoint,
    ModelUsage,
    ScoreSummary,
    Summary,
    UserCost,
    VolumePoint,
    environments,
)
from interactiveai.server.storage.rollup_schema import rollup_score_hours
from interactiveai.server.storage.schema import scores

__all__ = [
    "LATENCY_FRACTIONS",
    "Dashboard",
    "LatencyPoint",
    "ModelPoint",
    "ModelUsage",
    "ScoreSummary",
    "Summary",
    "UserCost",
    "VolumePoint",
    "dashboard",
    "environments",
    "generation_latency",
    "latency_series",
    "model_series",
    "model_usage",
    "score_summary",
    "summary",
    "top_users",
    "volume_series",
]


def _whole(_time: int) -> int:
    return 0


def _trace_plan(conn: Any, project_id: str, f: MetricsFilter, grain: str = "day") -> rollup_reads.Plan | None:
    """The roll-up plan for trace figures, or None when the exact scan must answer."""
    if f.user_ids or f.tags or grain == "minute":
        return None
    p = rollup_reads.plan(conn, project_id, f, whole_days=grain != "hour")  # day rows fill no hour bucket
    return p if p.uses_rollups else None


def _model_plan(conn: Any, project_id: str, f: MetricsFilter, grain: str = "day") -> rollup_reads.Plan | None:
    """The same for model calls and scores, whose roll-ups know no trace attribute."""
    if f.has_trace_filters:
        return None
    return _trace_plan(conn, project_id, f, grain)


def summary(db: Db, project_id: str, f: MetricsFilter) -> Summary:
    """The tiles: counts, tokens, cost, error share and trace latency percentiles of the window."""
    with connect(db) as conn:
        p = _trace_plan(conn, project_id, f)
        if p is None:
            return exact.summary(conn, project_id, f)
        agg = rollup_reads.trace_aggs(conn, project_id, f, p, _whole, latency=True).get(0, rollup_reads.TraceAgg())
    p50, p95 = agg.latency.percentiles((0.5, 0.95))
    return Summary(
        traces=agg.traces,
        observations=agg.observations,
        error_traces=agg.error_traces,
        warning_traces=agg.warning_traces,
        input_tokens=agg.input_tokens,
        output_tokens=agg.output_tokens,
        total_tokens=agg.total_tokens,
        total_cost=agg.total_cost,
        latency_p50_us=p50,
        latency_p95_us=p95,
    )


def volume_series(db: Db, project_id: str, f: MetricsFilter, granularity: str | None = None) -> list[VolumePoint]:
    """Traces, observations, traces with errors/warnings, tokens and cost per bucket (every bucket)."""
    grain = check_granularity(f, granularity)
    with connect(db) as conn:
        p = _trace_plan(conn, project_id, f, grain)
        if p is None:
            return exact.volume_series(conn, project_id, f, grain)
        found = rollup_reads.trace_aggs(conn, project_id, f, p, lambda t: bucket_of(t, grain), latency=False)
    points = []
    for start in bucket_starts(f, grain):
        a = found.get(start)
        points.append(
            VolumePoint(start)
            if a is None
            else VolumePoint(
                start, a.traces, a.observations, a.error_traces, a.warning_traces, a.total_tokens, a.total_cost
            )
        )
    return points


def latency_series(db: Db, project_id: str, f: MetricsFilter, granularity: str | None = None) -> list[LatencyPoint]:
    """Trace latency p50/p90/p95/p99 per bucket; buckets without traces have no values."""
    grain = check_granularity(f, granularity)
    with connect(db) as conn:
        p = _trace_plan(conn, project_id, f, grain)
        if p is None:
            return exact.latency_series(conn, project_id, f, grain)
        found = rollup_reads.trace_aggs(conn, project_id, f, p, lambda t: bucket_of(t, grain), latency=True)
    points = []
    for start in bucket_starts(f, grain):
        a = found.get(start)
        points.append(
            LatencyPoint(start)
            if a is None or not a.latency
            else LatencyPoint(start, *a.latency.percentiles(LATENCY_FRACTIONS))
        )
    return points


def model_series(db: Db, project_id: str, f: MetricsFilter, granularity: str | None = None) -> list[ModelPoint]:
    """Calls, tokens and cost per bucket and model (observations with a model), by bucket then model."""
    grain = check_granularity(f, granularity)
    with connect(db) as conn:
        p = _model_plan(conn, project_id, f, grain)
        if p is None:
            return exact.model_series(conn, project_id, f, grain)
        found = rollup_reads.model_aggs(conn, project_id, f, p, lambda t, m: (bucket_of(t, grain), m), latency=False)
    return [
        ModelPoint(b, m, a.calls, a.input_tokens, a.output_tokens, a.total_tokens, a.total_cost)
        for (b, m), a in sorted(found.items(), key=lambda kv: kv[0])
    ]


def model_usage(db: Db, project_id: str, f: MetricsFilter) -> list[ModelUsage]:
    """Per model: calls, tokens, cost and latency percentiles (end - start), most expensive first."""
    with connect(db) as conn:
        p = _model_plan(conn, project_id, f)
        if p is None:
            return exact.model_usage(conn, project_id, f)
        found = rollup_reads.model_aggs(conn, project_id, f, p, lambda _t, m: m, latency=True)
    usage = [
        ModelUsage(
            m,
            a.calls,
            a.input_tokens,
            a.output_tokens,
            a.total_tokens,
            a.total_cost,
            a.latency.percentiles(LATENCY_FRACTIONS),
        )
        for m, a in found.items()
    ]
    return sorted(usage, key=lambda u: (-u.total_cost, -u.calls, u.model))


def generation_latency(db: Db, project_id: str, f: MetricsFilter) -> dict[str, list[float | None]]:
    """Generation latency p50/p90/p95/p99 (µs) per model (generations that name a model)."""
    with connect(db) as conn:
        p = _model_plan(conn, project_id, f)
        if p is None:
            return exact.generation_latency(conn, project_id, f)
        found = rollup_reads.model_aggs(conn, project_id, f, p, lambda _t, m: m, latency=True, generations_only=True)
    return {m: a.latency.percentiles(LATENCY_FRACTIONS) for m, a in sorted(found.items()) if a.latency}


def top_users(db: Db, project_id: str, f: MetricsFilter, limit: int = 10) -> list[UserCost]:
    """The users with the highest total cost in the window (then most traces)."""
    with connect(db) as conn:
        if f.trace_names or f.tags:
            return exact.top_users(conn, project_id, f, limit)
        return [UserCost(*row) for row in rollup_reads.top_users(conn, project_id, f, limit)]


def score_summary(db: Db, project_id: str, f: MetricsFilter) -> list[ScoreSummary]:
    """Scores in the window by name and data type: count, and average/min/max of numeric values."""
    with connect(db) as conn:
        p = _model_plan(conn, project_id, f)  # any trace filter: the exact scan
        if p is None:
            return exact.score_summary(conn, project_id, f)
        found = rollup_reads.score_aggs(conn, project_id, f, p)
        labels = _categories(conn, project_id, f, p) if any(d == "CATEGORICAL" for _n, d in found) else {}
    out = []
    for (name, data_type), a in sorted(found.items()):
        numeric = data_type in ("NUMERIC", "BOOLEAN") and a.value_count > 0
        average = a.value_sum / a.value_count if numeric else None
        low, high = (a.minimum, a.maximum) if numeric else (None, None)
        shares = exact.top_categories(labels.get(name)) if data_type == "CATEGORICAL" else ()
        out.append(ScoreSummary(name, data_type, a.count, average, low, high, shares))
    return out


def _categories(conn: Any, project_id: str, f: MetricsFilter, p: rollup_reads.Plan) -> dict[str, dict[str, int]]:
    """Categorical score values and their counts per score name: the roll-ups' ``string_counts``
    of clean hours and days, the scanned ranges counted exactly."""
    r, s = rollup_score_hours.c, scores.c
    env_r = [r.environment.in_(list(f.environments))] if f.environments else []
    env_s = [s.environment.in_(list(f.environments))] if f.environments else []
    out: dict[str, dict[str, int]] = {}
    rolled = rollup_reads.rolled_rows(
        conn, rollup_score_hours, [r.name, r.string_counts], project_id, p, r.data_type == "CATEGORICAL", *env_r
    )
    for name, counts in rolled:
        into = out.setdefault(name, {})
        for label, n in orjson.loads(counts).items():
            into[label] = into.get(label, 0) + int(n)
    columns = [s.name, s.string_value, func.count()]
    for a, b in p.scanned:
        query = (
            select(*columns)
            .where(s.project_id == project_id, s.timestamp_us >= a, s.timestamp_us < b, *env_s)
            .where(s.data_type == "CATEGORICAL", s.string_value.is_not(None))
            .group_by(s.name, s.string_value)
        )
        for name, label, n in conn.execute(query):
            into = out.setdefault(name, {})
            into[label] = into.get(label, 0) + int(n)
    return out


def dashboard(db: Db, project_id: str, f: MetricsFilter, granularity: str | None = None) -> Dashboard:
    """Everything the dashboard page shows, each aggregate from the roll-ups where they answer it."""
    return exact.gather_dashboard(sys.modules[__name__], db, project_id, f, granularity)
