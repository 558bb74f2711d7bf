"""Daily metrics (``GET /api/public/metrics/daily``): per UTC day, traces, observations, cost, usage by model.

Days come from the traces table (its ``(project_id, timestamp_us)`` index), newest first, paged;
only the page's days are then read from observations for the per-model usage. Trace counts,
observation counts and total cost are the traces' roll-ups on the trace's day; the per-model
usage counts observations on the day they started.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import distinct, func, select

from interactiveai.server.query._db import Db, connect
from interactiveai.server.query.metrics_base import (
    MetricsFilter,
    bucket_expr,
    observation_conditions,
    trace_conditions,
)
from interactiveai.server.query.pagination import Page, check_page, offset_of
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
