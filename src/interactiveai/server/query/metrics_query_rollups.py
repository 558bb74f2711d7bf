"""The queries of ``GET /api/public/metrics`` that the roll-ups answer (``metrics_query.run_query``).

Answered from roll-ups (clean whole hours and days; edges and dirty hours scanned, see
``rollup_reads``), any time dimension but minutes:

- view ``traces``: dimensions and filters on ``name`` and ``environment``; measures ``count``,
  ``observationsCount``, ``inputTokens``, ``outputTokens``, ``totalTokens``, ``totalCost`` and
  ``latency`` with ``sum``, ``avg`` or ``count``, and percentiles of ``latency`` (within
  ``rollup_histogram.ALPHA``).
- view ``observations``: dimensions and filters on ``environment``, ``type``, ``model`` and
  ``providedModelName``; the same measures but ``observationsCount``. A filter naming the models
  (``=`` or ``any of``) reads the model calls' roll-ups; without a filter on the models, those and
  the roll-ups of the observations without a model (their group has no model) are read.

Every other query (``min``/``max``, input or output cost, time to first token, other dimensions
or filters, other operators on the models, tags, minute buckets) is scanned exactly over its
bounded window.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import literal

from interactiveai.server.query import rollup_reads
from interactiveai.server.query._db import Db, connect
from interactiveai.server.query.metrics_base import PERCENTILES, bucket_of
from interactiveai.server.query.rollup_histogram import Latencies
from interactiveai.server.storage.rollup_schema import rollup_model_hours, rollup_span_hours, rollup_trace_hours
from interactiveai.server.storage.schema import observations, traces

_DIMENSIONS = {
    "traces": {"name": "name", "environment": "environment"},
    "observations": {"environment": "environment", "type": "type", "model": "model", "providedModelName": "model"},
}
# measure -> (roll-up sum column, stored column) of the additive measures
_SUMS = {
    "traces": {"observationsCount": ("observations", "observation_count")},
    "observations": {},
}
for _view in _SUMS:
    _SUMS[_view].update({m: (c, c) for m, c in (("inputTokens", "input_tokens"), ("outputTokens", "output_tokens"))})
    _SUMS[_view]["totalTokens"] = ("total_tokens", "total_tokens")
_PLAIN = {"sum", "avg", "count"}
_MODEL_COLUMNS = ("model", "providedModelName")


@dataclass(slots=True)
class _Group:
    rows: int = 0
    sums: dict[str, int] = field(default_factory=dict)
    cost: float = 0.0
    costed: int = 0
    latency_count: int = 0
    latency_sum: int = 0
    latency: Latencies = field(default_factory=Latencies)


def answerable(q: Any) -> bool:
    if q.granularity == "minute":
        return False
    dims = _DIMENSIONS[q.view]
    if any(d not in dims for d in q.dimensions) or any(f.column not in dims for f in q.filters):
        return False
    if q.view == "observations" and any(
        f.column in _MODEL_COLUMNS and f.operator not in ("=", "any of") for f in q.filters
    ):
        return False  # a condition the group without a model may or may not meet, as SQL has it
    for m in q.metrics:
        if m.measure == "latency" and m.aggregation in _PLAIN | set(PERCENTILES):
            continue
        if m.aggregation not in _PLAIN or not (m.measure in ("count", "totalCost") or m.measure in _SUMS[q.view]):
            return False
    return True


def run(db: Db, project_id: str, q: Any, compare: Callable[[Any, str, Any], Any]) -> list[tuple[tuple[Any, ...], Any]]:
    """``(group key, figures)`` per group: dimension values, then the time bucket when asked."""
    stored = traces if q.view == "traces" else observations
    names_models = any(f.column in _MODEL_COLUMNS for f in q.filters)
    if q.view == "traces":
        rollups = [rollup_trace_hours]
    else:
        rollups = [rollup_model_hours] if names_models else [rollup_model_hours, rollup_span_hours]
    dims = _DIMENSIONS[q.view]
    sums = _SUMS[q.view]
    wanted_latency = any(m.measure == "latency" for m in q.metrics)
    grain = q.granularity

    def bucket(time_us: int) -> tuple[Any, ...]:
        return () if grain is None else (bucket_of(time_us, grain),)

    groups: dict[tuple[Any, ...], _Group] = {}
    with connect(db) as conn:
        p = rollup_reads.plan(conn, project_id, q.window, whole_days=grain != "hour")
        width = len(q.dimensions)
        for row in _rolled(conn, project_id, q, p, rollups, compare):
            g = groups.setdefault(tuple(row[1 : 1 + width]) + bucket(row[0]), _Group())
            n, cost, costed, lat_n, lat_sum, hist, *values = row[1 + width :]
            g.rows += n
            g.cost += cost
            g.costed += costed
            g.latency_count += lat_n
            g.latency_sum += lat_sum
            if wanted_latency:
                g.latency.add_encoded(hist)
            for name, value in zip(sums, values, strict=True):
                g.sums[name] = g.sums.get(name, 0) + value
        s = stored.c
        latency: Any
        if q.view == "traces":
            time, latency = s.timestamp_us, s.latency_us
            base = [s.project_id == project_id]
        else:
            time, latency = s.start_time_us, s.end_time_us - s.start_time_us
            base = [s.project_id == project_id, *([s.model.is_not(None)] if names_models else [])]
        columns = [time, *(s[dims[d]] for d in q.dimensions), s.total_cost, latency]
        columns += [s[c] for _, c in sums.values()]
        conditions = [compare(s[dims[f.column]], f.operator, f.value) for f in q.filters]
        for row in rollup_reads.scanned_rows(conn, columns, time, p, *base, *conditions):
            g = groups.setdefault(tuple(row[1 : 1 + width]) + bucket(row[0]), _Group())
            cost, lat, *values = row[1 + width :]
            g.rows += 1
            if cost is not None:
                g.cost += cost
                g.costed += 1
            if lat is not None:
                g.latency_count += 1
                g.latency_sum += lat
                if wanted_latency:
                    g.latency.add(lat)
            for name, value in zip(sums, values, strict=True):
                g.sums[name] = g.sums.get(name, 0) + (value or 0)
    if not groups and not q.dimensions and grain is None:
        groups[()] = _Group()  # an aggregate without groups has one row, as in SQL
    return [(key, [_figure(g, m.measure, m.aggregation) for m in q.metrics]) for key, g in groups.items()]


def _rolled(
    conn: Any, project_id: str, q: Any, p: Any, rollups: list[Any], compare: Callable[[Any, str, Any], Any]
) -> Any:
    """The roll-up rows of the plan: time, the dimensions, then the figures ``run`` adds up."""
    dims = _DIMENSIONS[q.view]
    for rollup in rollups:
        r = rollup.c

        def column(name: str, r: Any = r) -> Any:  # the rows without a model have no model column
            return r[dims[name]] if dims[name] in r else literal(None)

        count_column = r.traces if q.view == "traces" else r.calls
        columns: list[Any] = [r.hour_us, *(column(d) for d in q.dimensions), count_column, r.total_cost, r.costed]
        columns += [r.latency_count, r.latency_sum, r.latency_hist, *(r[c] for c, _ in _SUMS[q.view].values())]
        conditions = [compare(column(f.column), f.operator, f.value) for f in q.filters]
        yield from rollup_reads.rolled_rows(conn, rollup, columns, project_id, p, *conditions)


def _figure(g: _Group, measure: str, aggregation: str) -> Any:
    """The metric in stored units (what the SQL aggregate would return), or a percentile in ms."""
    if measure == "count":
        return g.rows
    if measure == "totalCost":
        count, total = g.costed, g.cost
    elif measure == "latency":
        if aggregation in PERCENTILES:
            value = g.latency.percentiles([PERCENTILES[aggregation]])[0]
            return None if value is None else value * 0.001
        count, total = g.latency_count, g.latency_sum
    else:
        count, total = g.rows, g.sums.get(measure, 0)
    if aggregation == "count":
        return count
    if count == 0:
        return None
    return total if aggregation == "sum" else total / count
