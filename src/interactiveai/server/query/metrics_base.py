"""Building blocks of the metrics queries: the bounded window, filters, time buckets, percentiles.

Every metrics query is bounded by a project and a half-open time window ``[from_us, to_us)``:
dashboards of the closest existing platform timed out on unbounded scans (reference §7.1), so
the window is required here, never defaulted to "all time".

Time buckets are integer arithmetic on the ``*_us`` columns (``floor(ts / width) * width``), the
same SQL on SQLite and PostgreSQL. Weeks start on Monday (the epoch was a Thursday, so week
buckets are shifted by four days).

Percentiles are exact and identical on both engines (``percentile_cont``: linear interpolation
between the two closest ranks). PostgreSQL computes them natively. SQLite has no percentile
function: the window's values of the measure are streamed out (one column, through the covering
metrics index), kept as 8-byte doubles per group and sorted in Python. Ranking in SQL instead
(``ROW_NUMBER()`` and keeping the rows at the wanted ranks) returns two rows per percentile but
was three times slower at 2 M values, its sorter dominating. Either way the cost grows with the
window (about 1 s per million values on the 2-core dev machine, 16 MB of memory per two million
values): exact answers, no sampling, at the price of SQLite being the slower engine on the
largest windows (docs/benchmarks.md).
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, Connection, func, select, text

from interactiveai.server.storage.schema import observations, observations_of_traces, trace_has_tag, traces

Granularity = Literal["minute", "hour", "day", "week"]
GRANULARITIES: dict[str, int] = {
    "minute": 60_000_000,
    "hour": 3_600_000_000,
    "day": 86_400_000_000,
    "week": 7 * 86_400_000_000,
}
_WEEK_SHIFT_US = 4 * 86_400_000_000  # 1970-01-01 was a Thursday; Monday 1970-01-05 starts week 0
MAX_BUCKETS = 2_000
"""A chart never needs more points; a minute granularity over a month would be 43,200."""

PERCENTILES: dict[str, float] = {"p50": 0.5, "p75": 0.75, "p90": 0.9, "p95": 0.95, "p99": 0.99}


@dataclass(frozen=True, slots=True)
class MetricsFilter:
    """The window (required) and optional filters shared by every metrics query.

    Trace attributes (name, user, tags) filter observations through their trace; ``environments``
    and ``models`` read the observation's own columns.
    """

    from_us: int
    to_us: int
    environments: Sequence[str] = ()
    trace_names: Sequence[str] = ()
    user_ids: Sequence[str] = ()
    tags: Sequence[str] = ()
    models: Sequence[str] = ()

    def __post_init__(self) -> None:
        if self.to_us <= self.from_us:
            raise ValueError("toTimestamp must be after fromTimestamp")

    @property
    def has_trace_filters(self) -> bool:
        return bool(self.trace_names or self.user_ids or self.tags)


def auto_granularity(from_us: int, to_us: int) -> Granularity:
    """About 24 to 200 points for any window: minutes up to 3 h, hours up to 8 days, then days."""
    span = to_us - from_us
    if span <= 3 * GRANULARITIES["hour"]:
        return "minute"
    if span <= 8 * GRANULARITIES["day"]:
        return "hour"
    if span <= 120 * GRANULARITIES["day"]:
        return "day"
    return "week"


def check_granularity(f: MetricsFilter, granularity: str | None) -> Granularity:
    """The given granularity (or the automatic one), refusing a bucket count past MAX_BUCKETS."""
    if granularity in (None, "", "auto"):
        return auto_granularity(f.from_us, f.to_us)
    if granularity not in GRANULARITIES:
        raise ValueError(f"unknown granularity {granularity!r}; use one of auto, {', '.join(GRANULARITIES)}")
    buckets = (f.to_us - f.from_us) // GRANULARITIES[granularity]
    if buckets > MAX_BUCKETS:
        raise ValueError(f"{granularity} granularity gives {buckets} buckets in this window; at most {MAX_BUCKETS}")
    result: Granularity = granularity  # type: ignore[assignment]  # checked against GRANULARITIES above
    return result


def bucket_of(us: int, granularity: Granularity) -> int:
    """Python twin of ``bucket_expr``: the start of the bucket holding ``us``."""
    width = GRANULARITIES[granularity]
    shift = _WEEK_SHIFT_US if granularity == "week" else 0
    return (us - shift) // width * width + shift


def bucket_expr(column: Any, granularity: Granularity) -> ColumnElement[Any]:
    """``floor(column / width) * width`` in integer arithmetic (both engines), labelled ``bucket``."""
    width = GRANULARITIES[granularity]
    if granularity == "week":
        shifted = column - _WEEK_SHIFT_US
        week: ColumnElement[Any] = ((shifted // width) * width + _WEEK_SHIFT_US).label("bucket")
        return week
    bucket: ColumnElement[Any] = ((column // width) * width).label("bucket")
    return bucket


def bucket_starts(f: MetricsFilter, granularity: Granularity) -> list[int]:
    """Every bucket start of the window, so charts show empty buckets as zeros, not gaps."""
    width = GRANULARITIES[granularity]
    first = bucket_of(f.from_us, granularity)
    return list(range(first, f.to_us, width))


def _tag_conditions(project_id: str, tags: Sequence[str]) -> list[ColumnElement[bool]]:
    # "All of these tags": one indexed EXISTS per tag, as the trace list does.
    return [trace_has_tag(project_id, tag) for tag in dict.fromkeys(tags)]


def _any(column: Any, values: Sequence[str]) -> list[ColumnElement[bool]]:
    unique = list(dict.fromkeys(values))
    if not unique:
        return []
    return [column == unique[0]] if len(unique) == 1 else [column.in_(unique)]


def trace_conditions(project_id: str, f: MetricsFilter, *, windowed: bool = True) -> list[ColumnElement[bool]]:
    """Traces of the project (in the window) matching the filters. ``models`` do not apply to traces."""
    cond: list[ColumnElement[bool]] = [traces.c.project_id == project_id]
    if windowed:
        cond += [traces.c.timestamp_us >= f.from_us, traces.c.timestamp_us < f.to_us]
    cond += _any(traces.c.environment, f.environments)
    cond += _any(traces.c.name, f.trace_names)
    cond += _any(traces.c.user_id, f.user_ids)
    cond += _tag_conditions(project_id, f.tags)
    return cond


def observation_conditions(project_id: str, f: MetricsFilter) -> list[ColumnElement[bool]]:
    """Observations of the project starting in the window, matching the filters."""
    cond: list[ColumnElement[bool]] = [
        observations.c.project_id == project_id,
        observations.c.start_time_us >= f.from_us,
        observations.c.start_time_us < f.to_us,
    ]
    cond += _any(observations.c.environment, f.environments)
    cond += _any(observations.c.model, f.models)
    if f.has_trace_filters:
        # The trace of an observation may start a little before the window: look it up unwindowed.
        trace_filter = MetricsFilter(f.from_us, f.to_us, trace_names=f.trace_names, user_ids=f.user_ids, tags=f.tags)
        cond.append(observations_of_traces(project_id, *trace_conditions(project_id, trace_filter, windowed=False)))
    return cond


def percentiles(
    conn: Connection,
    value: Any,
    groups: Sequence[Any],
    conditions: Sequence[ColumnElement[bool]],
    wanted: Sequence[float],
) -> dict[tuple[Any, ...], list[float | None]]:
    """Exact ``percentile_cont`` of ``value`` per group (non-null values only), on either engine.

    ``groups`` are labelled column expressions (possibly none: one overall group, key ``()``).
    Returns ``{group key: [one value per wanted fraction]}``.
    """
    conditions = [*conditions, value.is_not(None)]
    if conn.dialect.name == "postgresql":
        # percentile_cont sorts each group; the default 4 MB work_mem makes a million values an
        # external merge on disk. SET LOCAL ends with this read's transaction.
        conn.execute(text(f"SET LOCAL work_mem = '{_PG_SORT_MEMORY}'"))
        query = select(*groups, *(func.percentile_cont(p).within_group(value) for p in wanted)).where(*conditions)
        if groups:
            query = query.group_by(*groups)
        width = len(groups)
        return {
            tuple(row[:width]): [None if v is None else float(v) for v in row[width:]]
            for row in conn.execute(query)
            if not (width == 0 and row[0] is None)
        }
    return _sorted_percentiles(conn, value, groups, conditions, wanted)


def _sorted_percentiles(
    conn: Connection,
    value: Any,
    groups: Sequence[Any],
    conditions: Sequence[ColumnElement[bool]],
    wanted: Sequence[float],
) -> dict[tuple[Any, ...], list[float | None]]:
    # SQLite: stream the window's values (an index-only scan with the metrics indexes), keep them
    # as 8-byte doubles per group, and sort in Python. Measured at 2 M values, this is about three
    # times faster than ranking them in SQL with ROW_NUMBER(), whose sorter dominates.
    width = len(groups)
    values: dict[tuple[Any, ...], array[float]] = {}
    result = conn.execute(select(*groups, value).where(*conditions))
    for chunk in result.partitions(_FETCH_CHUNK):
        for row in chunk:
            key = tuple(row[:width])
            bucket = values.get(key)
            if bucket is None:
                bucket = values[key] = array("d")
            bucket.append(row[width])
    return {key: _interpolate(sorted(bucket), wanted) for key, bucket in values.items()}


_FETCH_CHUNK = 10_000
_PG_SORT_MEMORY = "64MB"


def _interpolate(ordered: list[float], wanted: Sequence[float]) -> list[float | None]:
    """``percentile_cont`` over sorted values: linear interpolation between the closest ranks."""
    out: list[float | None] = []
    last = len(ordered) - 1
    for p in wanted:
        position = last * p
        low = math.floor(position)
        high = min(low + 1, last)
        out.append(ordered[low] + (ordered[high] - ordered[low]) * (position - low))
    return out
