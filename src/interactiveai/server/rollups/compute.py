"""Exact roll-up rows of one hour (one day for users), computed from the stored rows.

Each function reads one project's rows of one period through a bounded index range (traces and
scores by ``(project_id, timestamp_us)``, observations with and without a model by their covering
indexes) and returns the roll-up rows to store, numbered by ``seq``. The same figures as the exact
scans of ``query/metrics.py``: cost sums skip rows without a cost and count the rows that had one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from sqlalchemy import Connection, func, literal, select

from interactiveai.server.query.rollup_histogram import Histogram, add_values, encode, merge_encoded
from interactiveai.server.storage.rollup_schema import DAY_US, HOUR_US
from interactiveai.server.storage.schema import observations, scores, traces


def _numbered(
    project_id: str, period: str, start: int, rows: Iterable[dict[str, Any]], **extra: int
) -> list[dict[str, Any]]:
    return [{"project_id": project_id, **extra, period: start, "seq": n, **row} for n, row in enumerate(rows)]


def trace_hour(conn: Connection, project_id: str, hour_us: int) -> list[dict[str, Any]]:
    t = traces.c
    query = select(
        t.environment,
        t.name,
        t.observation_count,
        t.error_count,
        t.warning_count,
        t.input_tokens,
        t.output_tokens,
        t.total_tokens,
        t.total_cost,
        t.latency_us,
    ).where(t.project_id == project_id, t.timestamp_us >= hour_us, t.timestamp_us < hour_us + HOUR_US)
    groups: dict[tuple[str, str | None], dict[str, Any]] = {}
    hists: dict[tuple[str, str | None], Histogram] = {}
    for env, name, obs, errors, warnings, tin, tout, ttotal, cost, latency in conn.execute(query):
        g = groups.get((env, name))
        if g is None:
            g = groups[(env, name)] = dict.fromkeys(_TRACE_SUMS, 0) | {"environment": env, "name": name}
            g["total_cost"] = 0.0
            hists[(env, name)] = {}
        g["traces"] += 1
        g["observations"] += obs
        g["error_traces"] += errors > 0
        g["warning_traces"] += warnings > 0
        g["input_tokens"] += tin
        g["output_tokens"] += tout
        g["total_tokens"] += ttotal
        if cost is not None:
            g["total_cost"] += cost
            g["costed"] += 1
        if latency is not None:
            g["latency_count"] += 1
            g["latency_sum"] += latency
            add_values(hists[(env, name)], (latency,))
    for key, g in groups.items():
        g["latency_hist"] = encode(hists[key])
    return _numbered(project_id, "hour_us", hour_us, groups.values(), hours=1)


_TRACE_SUMS = (
    "traces",
    "observations",
    "error_traces",
    "warning_traces",
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "costed",
    "latency_count",
    "latency_sum",
)


def model_hour(conn: Connection, project_id: str, hour_us: int) -> list[dict[str, Any]]:
    """Model calls (read through the covering metrics index)."""
    return _observation_hour(conn, project_id, hour_us, with_model=True)


def span_hour(conn: Connection, project_id: str, hour_us: int) -> list[dict[str, Any]]:
    """Observations without a model (read through their covering index)."""
    return _observation_hour(conn, project_id, hour_us, with_model=False)


def _observation_hour(conn: Connection, project_id: str, hour_us: int, *, with_model: bool) -> list[dict[str, Any]]:
    o = observations.c
    query = select(
        o.environment,
        o.model if with_model else literal(None),
        o.type,
        o.input_tokens,
        o.output_tokens,
        o.total_tokens,
        o.total_cost,
        o.end_time_us - o.start_time_us,
    ).where(
        o.project_id == project_id,
        o.start_time_us >= hour_us,
        o.start_time_us < hour_us + HOUR_US,
        o.model.is_not(None) if with_model else o.model.is_(None),
    )
    groups: dict[tuple[str, str | None, str], dict[str, Any]] = {}
    hists: dict[tuple[str, str | None, str], Histogram] = {}
    for env, model, kind, tin, tout, ttotal, cost, latency in conn.execute(query):
        key = (env, model, kind)
        g = groups.get(key)
        if g is None:
            g = groups[key] = dict.fromkeys(_MODEL_SUMS, 0) | {"environment": env, "type": kind}
            if with_model:
                g["model"] = model
            g["total_cost"] = 0.0
            hists[key] = {}
        g["calls"] += 1
        g["input_tokens"] += tin
        g["output_tokens"] += tout
        g["total_tokens"] += ttotal
        if cost is not None:
            g["total_cost"] += cost
            g["costed"] += 1
        if latency is not None:
            g["latency_count"] += 1
            g["latency_sum"] += latency
            add_values(hists[key], (latency,))
    for key, g in groups.items():
        g["latency_hist"] = encode(hists[key])
    return _numbered(project_id, "hour_us", hour_us, groups.values(), hours=1)


_MODEL_SUMS = ("calls", "input_tokens", "output_tokens", "total_tokens", "costed", "latency_count", "latency_sum")


def score_hour(conn: Connection, project_id: str, hour_us: int) -> list[dict[str, Any]]:
    s = scores.c
    query = select(s.environment, s.name, s.data_type, s.source, s.value, s.string_value).where(
        s.project_id == project_id, s.timestamp_us >= hour_us, s.timestamp_us < hour_us + HOUR_US
    )
    groups: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    strings: dict[tuple[str, str, str, str], dict[str, int]] = {}
    for env, name, data_type, source, value, string_value in conn.execute(query):
        key = (env, name, data_type, source)
        g = groups.get(key)
        if g is None:
            g = groups[key] = {"environment": env, "name": name, "data_type": data_type, "source": source}
            g |= {"scores": 0, "value_count": 0, "value_sum": 0.0, "value_min": None, "value_max": None}
            strings[key] = {}
        g["scores"] += 1
        if value is not None:
            g["value_count"] += 1
            g["value_sum"] += value
            g["value_min"] = value if g["value_min"] is None else min(g["value_min"], value)
            g["value_max"] = value if g["value_max"] is None else max(g["value_max"], value)
        if string_value is not None and data_type in ("CATEGORICAL", "BOOLEAN"):
            strings[key][string_value] = strings[key].get(string_value, 0) + 1
    for key, g in groups.items():
        g["string_counts"] = orjson.dumps(strings[key], option=orjson.OPT_SORT_KEYS).decode()
    return _numbered(project_id, "hour_us", hour_us, groups.values(), hours=1)


def user_hour(conn: Connection, project_id: str, hour_us: int) -> list[dict[str, Any]]:
    """The hour's traces with a user, per environment and user: what the users list shows."""
    t = traces.c
    query = (
        select(
            t.environment,
            t.user_id,
            func.count(),
            func.sum(t.input_tokens),
            func.sum(t.output_tokens),
            func.sum(t.total_tokens),
            func.coalesce(func.sum(t.total_cost), 0.0),
            func.count(t.total_cost),
            func.min(t.timestamp_us),
            func.max(t.timestamp_us),
        )
        .where(
            t.project_id == project_id,
            t.timestamp_us >= hour_us,
            t.timestamp_us < hour_us + HOUR_US,
            t.user_id.is_not(None),
        )
        .group_by(t.environment, t.user_id)
    )
    rows = (
        {
            "environment": env,
            "user_id": user,
            "traces": n,
            "input_tokens": int(tin or 0),
            "output_tokens": int(tout or 0),
            "total_tokens": int(ttotal or 0),
            "total_cost": float(cost),
            "costed": costed,
            "first_us": int(first),
            "last_us": int(last),
        }
        for env, user, n, tin, tout, ttotal, cost, costed, first, last in conn.execute(query)
    )
    return _numbered(project_id, "hour_us", hour_us, rows, hours=1)


def user_day(conn: Connection, project_id: str, day_us: int) -> list[dict[str, Any]]:
    t = traces.c
    query = (
        select(
            t.environment,
            t.user_id,
            func.count(),
            func.sum(t.total_tokens),
            func.coalesce(func.sum(t.total_cost), 0.0),
            func.count(t.total_cost),
        )
        .where(
            t.project_id == project_id,
            t.timestamp_us >= day_us,
            t.timestamp_us < day_us + DAY_US,
            t.user_id.is_not(None),
        )
        .group_by(t.environment, t.user_id)
    )
    rows = (
        {
            "environment": env,
            "user_id": user,
            "traces": n,
            "total_tokens": int(tokens or 0),
            "total_cost": float(cost),
            "costed": costed,
        }
        for env, user, n, tokens, cost, costed in conn.execute(query)
    )
    return _numbered(project_id, "day_us", day_us, rows)


def model_day(conn: Connection, project_id: str, day_us: int) -> list[dict[str, Any]]:
    """Distinct traces per model of the day, per environment and over all of them (environment None)."""
    o = observations.c
    where = (o.project_id == project_id, o.start_time_us >= day_us, o.start_time_us < day_us + DAY_US)
    per_env = (
        select(o.environment, o.model, func.count(o.trace_id.distinct()))
        .where(*where, o.model.is_not(None))
        .group_by(o.environment, o.model)
    )
    overall = select(o.model, func.count(o.trace_id.distinct())).where(*where, o.model.is_not(None)).group_by(o.model)
    rows = [{"environment": env, "model": model, "traces": n} for env, model, n in conn.execute(per_env)]
    rows += [{"environment": None, "model": model, "traces": n} for model, n in conn.execute(overall)]
    return _numbered(project_id, "day_us", day_us, rows)


KEYS = {
    "rollup_trace_hours": ("environment", "name"),
    "rollup_model_hours": ("environment", "model", "type"),
    "rollup_span_hours": ("environment", "type"),
    "rollup_score_hours": ("environment", "name", "data_type", "source"),
    "rollup_user_hours": ("environment", "user_id"),
}
_LOWEST = frozenset({"value_min", "first_us"})
_HIGHEST = frozenset({"value_max", "last_us"})
_PLACE = frozenset({"project_id", "hours", "hour_us", "seq"})


def day_rows(table: str, project_id: str, day_us: int, hour_rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The day's rows of an hourly table (``hours`` = 24): its hour rows added up key by key."""
    keys = KEYS[table]
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in hour_rows:
        key = tuple(row[k] for k in keys)
        g = groups.get(key)
        if g is None:
            g = groups[key] = {k: row[k] for k in keys}
        for column, value in row.items():
            if column in _PLACE or column in keys:
                continue
            if column.endswith("_hist"):
                merge_encoded(g.setdefault(column, {}), value)
            elif column == "string_counts":
                counts = g.setdefault(column, {})
                for label, n in orjson.loads(value).items():
                    counts[label] = counts.get(label, 0) + n
            elif column in _LOWEST or column in _HIGHEST:
                pick = min if column in _LOWEST else max
                g[column] = value if g.get(column) is None else (g[column] if value is None else pick(g[column], value))
            else:
                g[column] = g.get(column, 0) + value
    for g in groups.values():
        for column, value in g.items():
            if column.endswith("_hist"):
                g[column] = encode(value)
            elif column == "string_counts":
                g[column] = orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    return _numbered(project_id, "hour_us", day_us, groups.values(), hours=24)
