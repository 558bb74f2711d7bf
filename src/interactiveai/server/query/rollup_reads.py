"""Reading the roll-ups of a window, with the rest of it scanned exactly.

A window ``[from_us, to_us)`` is split (``plan``): the whole hours inside it that have no row in
the dirty log are read from the roll-up tables; the partial hours at its edges and the dirty hours
are scanned from the stored rows. User figures are kept per day, so for them whole clean days come
from roll-ups and the rest is scanned. Both parts give the same partial aggregates (``TraceAgg``,
``ModelAgg``, …), keyed by whatever the caller groups by, and are added up: counts and sums add,
latency histograms merge (exact values are put in the same buckets; ``rollup_histogram``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Connection, and_, false, func, or_, select

from interactiveai.server.query.metrics_base import MetricsFilter
from interactiveai.server.query.rollup_histogram import Histogram, add_values, merge_encoded
from interactiveai.server.storage.rollup_schema import (
    DAY_US,
    HOUR_US,
    rollup_dirty,
    rollup_model_hours,
    rollup_score_hours,
    rollup_trace_hours,
    rollup_user_days,
)
from interactiveai.server.storage.schema import observations, scores, traces

Range = tuple[int, int]
K = TypeVar("K")


@dataclass(frozen=True, slots=True)
class Plan:
    rolled: list[Range]  # period ranges read from roll-ups (hour or day starts, end exclusive)
    scanned: list[Range]  # time ranges scanned exactly

    @property
    def uses_rollups(self) -> bool:
        return bool(self.rolled)


def plan(conn: Connection, project_id: str, f: MetricsFilter, period_us: int = HOUR_US) -> Plan:
    """Split the window into roll-up periods (whole, clean) and exactly scanned ranges."""
    first = -(-f.from_us // period_us) * period_us
    last = f.to_us // period_us * period_us
    if first >= last:
        return Plan([], [(f.from_us, f.to_us)])
    dirty_hours = conn.execute(
        select(rollup_dirty.c.hour_us)
        .where(rollup_dirty.c.project_id == project_id, rollup_dirty.c.hour_us >= first, rollup_dirty.c.hour_us < last)
        .distinct()
    ).scalars()
    dirty = {h // period_us * period_us for h in dirty_hours}
    rolled: list[Range] = []
    scanned: list[Range] = [(f.from_us, first)] if f.from_us < first else []
    for start in range(first, last, period_us):
        target = scanned if start in dirty else rolled
        if target and target[-1][1] == start:
            target[-1] = (target[-1][0], start + period_us)
        else:
            target.append((start, start + period_us))
    if last < f.to_us:
        if scanned and scanned[-1][1] == last:
            scanned[-1] = (scanned[-1][0], f.to_us)
        else:
            scanned.append((last, f.to_us))
    return Plan(rolled, scanned)


def in_ranges(column: Any, ranges: Sequence[Range]) -> ColumnElement[bool]:
    if not ranges:
        return false()
    return or_(*(and_(column >= a, column < b) for a, b in ranges))


def _one_of(column: Any, values: Sequence[str]) -> list[ColumnElement[bool]]:
    unique = list(dict.fromkeys(values))
    return [column.in_(unique)] if unique else []


# --- traces -------------------------------------------------------------------------------------


@dataclass(slots=True)
class TraceAgg:
    traces: int = 0
    observations: int = 0
    error_traces: int = 0
    warning_traces: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    total_cost: float = 0.0
    latency: Histogram = field(default_factory=dict)


def trace_aggs(
    conn: Connection, project_id: str, f: MetricsFilter, p: Plan, key: Callable[[int], K], *, latency: bool
) -> dict[K, TraceAgg]:
    """Trace figures (environment and name filters only) grouped by ``key(time)``."""
    out: dict[K, TraceAgg] = {}
    r = rollup_trace_hours.c
    if p.rolled:
        columns = [r.hour_us, r.traces, r.observations, r.error_traces, r.warning_traces]
        columns += [r.input_tokens, r.output_tokens, r.total_tokens, r.total_cost]
        query = select(*columns, r.latency_hist if latency else r.seq).where(
            r.project_id == project_id,
            in_ranges(r.hour_us, p.rolled),
            *_one_of(r.environment, f.environments),
            *_one_of(r.name, f.trace_names),
        )
        rolled: Any = conn.execute(query)
        for hour, n, obs, errors, warnings, tin, tout, ttotal, cost, hist in rolled:
            agg = out.get(k := key(hour))
            if agg is None:
                agg = out[k] = TraceAgg()
            agg.traces += n
            agg.observations += obs
            agg.error_traces += errors
            agg.warning_traces += warnings
            agg.input_tokens += tin
            agg.output_tokens += tout
            agg.total_tokens += ttotal
            agg.total_cost += cost
            if latency:
                merge_encoded(agg.latency, hist)
    if p.scanned:
        t = traces.c
        query = select(
            t.timestamp_us,
            t.observation_count,
            t.error_count,
            t.warning_count,
            t.input_tokens,
            t.output_tokens,
            t.total_tokens,
            t.total_cost,
            t.latency_us,
        ).where(
            t.project_id == project_id,
            in_ranges(t.timestamp_us, p.scanned),
            *_one_of(t.environment, f.environments),
            *_one_of(t.name, f.trace_names),
        )
        rows: Any = conn.execute(query)
        for ts, obs, errors, warnings, tin, tout, ttotal, cost, lat in rows:
            agg = out.get(k := key(ts))
            if agg is None:
                agg = out[k] = TraceAgg()
            agg.traces += 1
            agg.observations += obs
            agg.error_traces += errors > 0
            agg.warning_traces += warnings > 0
            agg.input_tokens += tin
            agg.output_tokens += tout
            agg.total_tokens += ttotal
            agg.total_cost += cost or 0.0
            if latency and lat is not None:
                add_values(agg.latency, (lat,))
    return out


# --- model calls --------------------------------------------------------------------------------


@dataclass(slots=True)
class ModelAgg:
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    total_cost: float = 0.0
    latency: Histogram = field(default_factory=dict)


def model_aggs(
    conn: Connection,
    project_id: str,
    f: MetricsFilter,
    p: Plan,
    key: Callable[[int, str], K],
    *,
    latency: bool,
    generations_only: bool = False,
) -> dict[K, ModelAgg]:
    """Figures of observations with a model (environment and model filters only) by ``key(time, model)``."""
    out: dict[K, ModelAgg] = {}

    def add(k: K, calls: int, tin: int, tout: int, ttotal: int, cost: float | None) -> ModelAgg:
        agg = out.get(k)
        if agg is None:
            agg = out[k] = ModelAgg()
        agg.calls += calls
        agg.input_tokens += tin
        agg.output_tokens += tout
        agg.total_tokens += ttotal
        agg.total_cost += cost or 0.0
        return agg

    r = rollup_model_hours.c
    if p.rolled:
        columns = [r.hour_us, r.model, r.calls, r.input_tokens, r.output_tokens, r.total_tokens, r.total_cost]
        query = select(*columns, r.latency_hist if latency else r.seq).where(
            r.project_id == project_id,
            in_ranges(r.hour_us, p.rolled),
            *_one_of(r.environment, f.environments),
            *_one_of(r.model, f.models),
            *([r.type == "GENERATION"] if generations_only else []),
        )
        rolled: Any = conn.execute(query)
        for hour, model, calls, tin, tout, ttotal, cost, hist in rolled:
            agg = add(key(hour, model), calls, tin, tout, ttotal, cost)
            if latency:
                merge_encoded(agg.latency, hist)
    if p.scanned:
        o = observations.c
        query = select(
            o.start_time_us,
            o.model,
            o.input_tokens,
            o.output_tokens,
            o.total_tokens,
            o.total_cost,
            o.end_time_us - o.start_time_us,
        ).where(
            o.project_id == project_id,
            in_ranges(o.start_time_us, p.scanned),
            o.model.is_not(None),
            *_one_of(o.environment, f.environments),
            *_one_of(o.model, f.models),
            *([o.type == "GENERATION"] if generations_only else []),
        )
        scanned: Any = conn.execute(query)
        for start, model, tin, tout, ttotal, cost, lat in scanned:
            agg = add(key(start, model), 1, tin, tout, ttotal, cost)
            if latency and lat is not None:
                add_values(agg.latency, (lat,))
    return out


# --- users --------------------------------------------------------------------------------------


@dataclass(slots=True)
class UserAgg:
    traces: int = 0
    total_tokens: int = 0
    total_cost: float = 0.0


def user_aggs(conn: Connection, project_id: str, f: MetricsFilter) -> dict[str, UserAgg]:
    """Traces, tokens and cost per user (environment and user filters only)."""
    p = plan(conn, project_id, f, DAY_US)
    out: dict[str, UserAgg] = {}
    queries = []
    if p.rolled:
        r = rollup_user_days.c
        queries.append(
            select(r.user_id, func.sum(r.traces), func.sum(r.total_tokens), func.sum(r.total_cost))
            .where(
                r.project_id == project_id,
                in_ranges(r.day_us, p.rolled),
                *_one_of(r.environment, f.environments),
                *_one_of(r.user_id, f.user_ids),
            )
            .group_by(r.user_id)
        )
    if p.scanned:
        t = traces.c
        queries.append(
            select(t.user_id, func.count(), func.sum(t.total_tokens), func.coalesce(func.sum(t.total_cost), 0.0))
            .where(
                t.project_id == project_id,
                in_ranges(t.timestamp_us, p.scanned),
                t.user_id.is_not(None),
                *_one_of(t.environment, f.environments),
                *_one_of(t.user_id, f.user_ids),
            )
            .group_by(t.user_id)
        )
    for query in queries:
        for user, n, tokens, cost in conn.execute(query):
            agg = out.get(user)
            if agg is None:
                agg = out[user] = UserAgg()
            agg.traces += int(n)
            agg.total_tokens += int(tokens or 0)
            agg.total_cost += float(cost or 0.0)
    return out


# --- scores -------------------------------------------------------------------------------------


@dataclass(slots=True)
class ScoreAgg:
    count: int = 0
    value_count: int = 0
    value_sum: float = 0.0
    minimum: float | None = None
    maximum: float | None = None

    def add(self, count: int, value_count: int, value_sum: float, low: float | None, high: float | None) -> None:
        self.count += count
        self.value_count += value_count
        self.value_sum += value_sum
        if low is not None:
            self.minimum = low if self.minimum is None else min(self.minimum, low)
        if high is not None:
            self.maximum = high if self.maximum is None else max(self.maximum, high)


def score_aggs(conn: Connection, project_id: str, f: MetricsFilter, p: Plan) -> dict[tuple[str, str], ScoreAgg]:
    """Scores per (name, data type): counts and numeric value statistics (environment filter only)."""
    out: dict[tuple[str, str], ScoreAgg] = {}
    queries = []
    if p.rolled:
        r = rollup_score_hours.c
        queries.append(
            select(
                r.name,
                r.data_type,
                func.sum(r.scores),
                func.sum(r.value_count),
                func.sum(r.value_sum),
                func.min(r.value_min),
                func.max(r.value_max),
            )
            .where(r.project_id == project_id, in_ranges(r.hour_us, p.rolled), *_one_of(r.environment, f.environments))
            .group_by(r.name, r.data_type)
        )
    if p.scanned:
        s = scores.c
        queries.append(
            select(
                s.name,
                s.data_type,
                func.count(),
                func.count(s.value),
                func.coalesce(func.sum(s.value), 0.0),
                func.min(s.value),
                func.max(s.value),
            )
            .where(
                s.project_id == project_id,
                in_ranges(s.timestamp_us, p.scanned),
                *_one_of(s.environment, f.environments),
            )
            .group_by(s.name, s.data_type)
        )
    for query in queries:
        for name, data_type, n, value_count, value_sum, low, high in conn.execute(query):
            agg = out.get((name, data_type))
            if agg is None:
                agg = out[(name, data_type)] = ScoreAgg()
            agg.add(int(n), int(value_count or 0), float(value_sum or 0.0), low, high)
    return out
