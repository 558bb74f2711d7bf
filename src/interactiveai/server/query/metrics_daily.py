"""Daily metrics (``GET /api/public/metrics/daily``): per UTC day, traces, observations, cost, usage by model.

Without a user, tag or trace-name filter and with at most one environment, the figures come from
the roll-ups (``rollup_reads``): the days' trace figures from hourly trace roll-ups (the window's
edges and dirty hours scanned), and the per-model usage of each whole, clean day from the hourly
model roll-ups with the day's distinct traces per model (``rollup_model_days``); the usage of the
other days of the page is scanned. Otherwise, the exact scan below answers.

Exact scan: days come from the traces table (its ``(project_id, timestamp_us)`` index), newest first, paged;
only the page's days are then read from observations for the per-model usage. Trace counts,
observation counts and total cost are the traces' roll-ups on the trace's day; the per-model
usage counts observations on the day they started.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, distinct, func, select

from interactiveai.server.query import rollup_reads
from interactiveai.server.query._db import Db, connect
from interactiveai.server.query.metrics_base import (
    MetricsFilter,
    bucket_expr,
    observation_conditions,
    trace_conditions,
)
from interactiveai.server.query.pagination import Page, check_page, offset_of
from interactiveai.server.storage.rollup_schema import rollup_model_days, rollup_model_hours
from interactiveai.server.storage.schema import observations, traces

DAY_US = 86_400_000_000


@dataclass(frozen=True, slots=True)
class ModelDayUsage:
    model: str | None
    input_usage: int
    output_usage: int
    total_usage: int
    observations: int
    traces: int
    total_cost: float


@dataclass(frozen=True, slots=True)
class DailyMetric:
    day_us: int  # midnight UTC
    traces: int
    observations: int
    total_cost: float
    usage: list[ModelDayUsage] = field(default_factory=list)


def daily_metrics(db: Db, project_id: str, f: MetricsFilter, *, page: int = 1, limit: int = 50) -> Page[DailyMetric]:
    """One page of days with traces in the window, newest first, with per-model usage.

    ``f.models`` narrows the usage list only (days are days with matching traces).
    """
    check_page(page, limit)
    if f.has_trace_filters or len(set(f.environments)) > 1:
        return exact_daily_metrics(db, project_id, f, page=page, limit=limit)
    with connect(db) as conn:
        p = rollup_reads.plan(conn, project_id, f)
        if not p.uses_rollups:
            return exact_daily_metrics(conn, project_id, f, page=page, limit=limit)
        found = rollup_reads.trace_aggs(conn, project_id, f, p, _day_of, latency=False)
        days = sorted((d for d, a in found.items() if a.traces), reverse=True)
        shown = days[offset_of(page, limit) : offset_of(page, limit) + limit]
        usage = _usage(conn, project_id, f, shown)
    items = [
        DailyMetric(d, found[d].traces, found[d].observations, found[d].total_cost, usage.get(d, [])) for d in shown
    ]
    return Page(items=items, page=page, limit=limit, total=len(days))


def _day_of(time_us: int) -> int:
    return time_us // DAY_US * DAY_US


def _usage(conn: Connection, project_id: str, f: MetricsFilter, days: list[int]) -> dict[int, list[ModelDayUsage]]:
    """Per-model usage of these days: roll-ups for whole clean days, the others scanned."""
    if not days:
        return {}
    window = MetricsFilter(max(min(days), f.from_us), min(max(days) + DAY_US, f.to_us), environments=f.environments)
    p = rollup_reads.day_plan(conn, project_id, window)
    wanted = set(days)
    clean = [d for a, b in p.days for d in range(a, b, DAY_US) if d in wanted]
    result: dict[int, list[ModelDayUsage]] = {}
    if clean:
        h, m = rollup_model_hours.c, rollup_model_days.c
        env = f.environments[0] if f.environments else None
        sums = (
            select(
                h.hour_us,
                h.model,
                func.sum(h.input_tokens),
                func.sum(h.output_tokens),
                func.sum(h.total_tokens),
                func.sum(h.calls),
                func.sum(h.total_cost),
            )
            .where(
                h.project_id == project_id,
                h.hours == 24,  # the day rows: these days have no dirty hour
                h.hour_us.in_(clean),
                *([h.environment == env] if env is not None else []),
                *([h.model.in_(list(f.models))] if f.models else []),
            )
            .group_by(h.hour_us, h.model)
        )
        distinct_traces = select(m.day_us, m.model, m.traces).where(
            m.project_id == project_id,
            m.day_us.in_(clean),
            m.environment == env if env is not None else m.environment.is_(None),
        )
        counted = {(int(d), model): int(n) for d, model, n in conn.execute(distinct_traces)}
        rows: Any = conn.execute(sums)
        for d, model, tin, tout, ttotal, calls, cost in sorted(rows, key=lambda r: (r[0], r[1])):
            result.setdefault(int(d), []).append(
                ModelDayUsage(
                    model, int(tin), int(tout), int(ttotal), int(calls), counted.get((int(d), model), 0), float(cost)
                )
            )
    ranges: list[tuple[int, int]] = []  # the other days, within the window, consecutive ones together
    for d in sorted(wanted.difference(clean)):
        start, end = max(d, window.from_us), min(d + DAY_US, window.to_us)
        if ranges and ranges[-1][1] == start:
            ranges[-1] = (ranges[-1][0], end)
        else:
            ranges.append((start, end))
    for start, end in ranges:
        narrowed = MetricsFilter(start, end, environments=f.environments, models=f.models)
        result.update(_usage_by_day(conn, project_id, narrowed))
    return result


def exact_daily_metrics(
    db: Db, project_id: str, f: MetricsFilter, *, page: int = 1, limit: int = 50
) -> Page[DailyMetric]:
    """``daily_metrics`` by scanning the window's traces and model calls exactly."""
    check_page(page, limit)
    day = bucket_expr(traces.c.timestamp_us, "day")
    cond = trace_conditions(project_id, f)
    days_query = (
        select(
            day,
            func.count(),
            func.coalesce(func.sum(traces.c.observation_count), 0),
            func.coalesce(func.sum(traces.c.total_cost), 0.0),
        )
        .where(*cond)
        .group_by(day)
        .order_by(day.desc())
        .limit(limit)
        .offset(offset_of(page, limit))
    )
    total_query = select(func.count(distinct(day))).where(*cond)
    with connect(db) as conn:
        rows = conn.execute(days_query).all()
        total = int(conn.execute(total_query).scalar_one())
        usage: dict[int, list[ModelDayUsage]] = {}
        if rows:
            first, last = int(rows[-1][0]), int(rows[0][0])
            narrowed = MetricsFilter(
                max(first, f.from_us),
                min(last + DAY_US, f.to_us),
                environments=f.environments,
                trace_names=f.trace_names,
                user_ids=f.user_ids,
                tags=f.tags,
                models=f.models,
            )
            usage = _usage_by_day(conn, project_id, narrowed)
    items = [DailyMetric(int(d), int(n), int(o), float(c), usage.get(int(d), [])) for d, n, o, c in rows]
    return Page(items=items, page=page, limit=limit, total=total)


def _usage_by_day(conn: Db, project_id: str, f: MetricsFilter) -> dict[int, list[ModelDayUsage]]:
    day = bucket_expr(observations.c.start_time_us, "day")
    query = (
        select(
            day,
            observations.c.model,
            func.coalesce(func.sum(observations.c.input_tokens), 0),
            func.coalesce(func.sum(observations.c.output_tokens), 0),
            func.coalesce(func.sum(observations.c.total_tokens), 0),
            func.count(),
            func.count(distinct(observations.c.trace_id)),
            func.coalesce(func.sum(observations.c.total_cost), 0.0),
        )
        .where(*observation_conditions(project_id, f), observations.c.model.is_not(None))
        .group_by(day, observations.c.model)
        .order_by(day, observations.c.model)
    )
    result: dict[int, list[ModelDayUsage]] = {}
    with connect(conn) as c:
        for d, model, tin, tout, ttotal, n, ntraces, cost in c.execute(query):
            result.setdefault(int(d), []).append(
                ModelDayUsage(model, int(tin), int(tout), int(ttotal), int(n), int(ntraces), float(cost))
            )
    return result
