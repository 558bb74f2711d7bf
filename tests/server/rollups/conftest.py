"""Roll-up tests: an app whose refresher does not run on its own (tests refresh when they mean to),
data sent through the real write paths, and the comparison of every roll-up answer with the exact scan."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from interactiveai.server.query import metrics, metrics_daily, metrics_exact, metrics_query, rollup_reads
from interactiveai.server.query.metrics_base import MetricsFilter
from interactiveai.server.query.rollup_histogram import ALPHA
from interactiveai.server.rollups.refresher import refresh_all
from interactiveai.server.storage.rollup_schema import DAY_US, HOUR_US, rollup_dirty

HOUR_NS = HOUR_US * 1000
BASE_US = 1_767_225_600_000_000 + 3 * DAY_US  # 2026-01-04T00:00Z, a Sunday
BASE_NS = BASE_US * 1000


@pytest.fixture
def quiet_client(engine: Any, tmp_path: Path) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from interactiveai.server.app import create_app
    from interactiveai.server.settings import load_settings

    url = engine.url.render_as_string(hide_password=False)
    settings = load_settings(data_dir=tmp_path, database_url=url, rollup_refresh_ms=0)
    with TestClient(create_app(settings, engine=engine, first_start=False)) as client:
        yield client


WINDOWS = [
    (BASE_US - DAY_US, BASE_US + 3 * DAY_US),  # whole days around everything
    (BASE_US + 20 * 60_000_000, BASE_US + 30 * HOUR_US + 7 * 60_000_000),  # partial hours at both edges
    (BASE_US + HOUR_US, BASE_US + 2 * HOUR_US),  # one whole hour
    (BASE_US + 5 * 60_000_000, BASE_US + 50 * 60_000_000),  # inside one hour: exact
]
FILTERS: list[dict[str, Any]] = [
    {},
    {"environments": ["production"]},
    {"environments": ["staging", "production"], "trace_names": ["chat"]},
    {"models": ["gpt-4o"]},
    {"user_ids": ["user-1"]},
    {"tags": ["vip"]},
]


def _close(a: Any, b: Any, rel: float) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        return math.isclose(a, b, rel_tol=rel, abs_tol=1e-9)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k], rel) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_close(x, y, rel) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _plain(value: Any) -> Any:
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "__dataclass_fields__"):
        return asdict(value)
    return value


_PERCENTILE_FIELDS = ("latency_p50_us", "latency_p95_us", "p50_us", "p90_us", "p95_us", "p99_us", "latency_us")


def assert_same(rolled: Any, scanned: Any, what: str) -> None:
    """Equal, floats to rounding, percentiles within the histograms' bound."""
    a, b = _plain(rolled), _plain(scanned)
    if what.startswith("generation_latency"):  # {model: percentiles}
        assert a.keys() == b.keys(), what
        assert _close(a, b, ALPHA * 1.0001), f"{what}:\n roll-ups {a}\n exact    {b}"
        return

    def strip(value: Any) -> tuple[Any, Any]:  # (without percentiles, percentiles)
        if isinstance(value, list):
            pairs = [strip(v) for v in value]
            return [p[0] for p in pairs], [p[1] for p in pairs]
        if isinstance(value, dict):
            kept = {k: v for k, v in value.items() if k not in _PERCENTILE_FIELDS}
            ranked = {k: v for k, v in value.items() if k in _PERCENTILE_FIELDS}
            return kept, ranked
        return value, None

    (a_plain, a_ranked), (b_plain, b_ranked) = strip(a), strip(b)
    assert _close(a_plain, b_plain, 1e-9), f"{what}:\n roll-ups {a_plain}\n exact    {b_plain}"
    assert _close(a_ranked, b_ranked, ALPHA * 1.0001), f"{what} percentiles:\n roll-ups {a_ranked}\n exact {b_ranked}"


def assert_rollups_equal_exact(engine: Any, project_id: str) -> None:
    """Every dashboard function, over windows and filters, equals the exact scan."""
    for from_us, to_us in WINDOWS:
        assert_metrics_queries_equal_exact(engine, project_id, from_us, to_us)
        for extra in FILTERS:
            f = MetricsFilter(from_us, to_us, **extra)
            label = f"window {(from_us - BASE_US) / HOUR_US:+.2f} h .. {(to_us - BASE_US) / HOUR_US:+.2f} h, {extra}"
            for name in ("summary", "model_usage", "generation_latency", "top_users", "score_summary"):
                assert_same(
                    getattr(metrics, name)(engine, project_id, f),
                    getattr(metrics_exact, name)(engine, project_id, f),
                    f"{name}, {label}",
                )
            for page, limit in ((1, 50), (2, 2)):
                assert_same(
                    metrics_daily.daily_metrics(engine, project_id, f, page=page, limit=limit),
                    metrics_daily.exact_daily_metrics(engine, project_id, f, page=page, limit=limit),
                    f"daily_metrics page {page} of {limit}, {label}",
                )
            for name in ("volume_series", "latency_series", "model_series"):
                for grain in ("hour", "day", "week"):
                    assert_same(
                        getattr(metrics, name)(engine, project_id, f, grain),
                        getattr(metrics_exact, name)(engine, project_id, f, grain),
                        f"{name} by {grain}, {label}",
                    )


def _query(view: str, dims: list[str], metrics: list[tuple[str, str]], **extra: Any) -> dict[str, Any]:
    return {
        "view": view,
        "dimensions": [{"field": d} for d in dims],
        "metrics": [{"measure": m, "aggregation": a} for m, a in metrics],
        "config": {"row_limit": 1000},
        **extra,
    }


_TRACE_METRICS = [("count", "count"), ("totalTokens", "sum"), ("observationsCount", "avg"), ("totalCost", "sum")]
_TRACE_METRICS += [("totalCost", "avg"), ("totalCost", "count"), ("latency", "avg"), ("latency", "p50")]
_TRACE_METRICS += [("latency", "p95"), ("latency", "count"), ("inputTokens", "count")]
_MODEL_METRICS = [("count", "count"), ("totalTokens", "sum"), ("outputTokens", "avg"), ("totalCost", "sum")]
_MODEL_METRICS += [("latency", "p90"), ("latency", "sum"), ("totalCost", "count")]
QUERIES = [
    _query("traces", [], _TRACE_METRICS),
    _query("traces", ["name", "environment"], _TRACE_METRICS, timeDimension={"granularity": "day"}),
    _query("traces", ["environment"], _TRACE_METRICS, timeDimension={"granularity": "hour"}),
    _query(
        "traces",
        ["name"],
        _TRACE_METRICS,
        filters=[
            {"column": "environment", "operator": "none of", "value": ["staging"]},
            {"column": "name", "operator": "!=", "value": "search"},
        ],
        timeDimension={"granularity": "week"},
    ),
    _query(
        "observations",
        ["model", "type"],
        _MODEL_METRICS,
        filters=[{"column": "model", "operator": "any of", "value": ["gpt-4o", "claude-3-5-sonnet"]}],
        timeDimension={"granularity": "day"},
    ),
    _query(
        "observations",
        ["providedModelName", "environment"],
        _MODEL_METRICS,
        filters=[{"column": "providedModelName", "operator": "=", "value": "gpt-4o-mini"}],
    ),
    # Without a filter on the models: the model calls' and the other observations' roll-ups
    _query("observations", ["providedModelName"], [*_MODEL_METRICS, ("latency", "p95")]),
    _query("observations", [], _MODEL_METRICS, timeDimension={"granularity": "hour"}),
    _query(
        "observations",
        ["type", "model"],
        _MODEL_METRICS,
        filters=[
            {"column": "environment", "operator": "none of", "value": ["staging"]},
            {"column": "type", "operator": "any of", "value": ["SPAN", "GENERATION", "TOOL", "EVENT"]},
        ],
        timeDimension={"granularity": "week"},
    ),
    _query("traces", ["name"], [("totalCost", "max")]),  # not answerable: the exact scan
    _query(  # not answerable: the group without a model passes no condition on the model
        "observations",
        ["model"],
        _MODEL_METRICS,
        filters=[{"column": "model", "operator": "!=", "value": "gpt-4o"}],
    ),
]


def _by_keys(rows: list[dict[str, Any]], keys: list[str]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: tuple(str(r.get(k)) for k in keys))


def assert_metrics_queries_equal_exact(engine: Any, project_id: str, from_us: int, to_us: int) -> None:
    for body in QUERIES:
        q = metrics_query.parse_query({**body, "fromTimestamp": from_us, "toTimestamp": to_us}, lambda v, _n: int(v))
        rolled = metrics_query.run_query(engine, project_id, q)
        exact = metrics_query.run_exact_query(engine, project_id, q)

        keys = [d["field"] for d in body["dimensions"]] + ["time_dimension"]
        rolled, exact = _by_keys(rolled, keys), _by_keys(exact, keys)
        assert len(rolled) == len(exact), (body, rolled, exact)
        for a, b in zip(rolled, exact, strict=True):
            ranked = {k for k in a if k.split("_")[0] in ("p50", "p90", "p95", "p99")}
            plain_a = {k: v for k, v in a.items() if k not in ranked}
            plain_b = {k: v for k, v in b.items() if k not in ranked}
            assert _close(plain_a, plain_b, 1e-9), (body, a, b)
            assert _close({k: a[k] for k in ranked}, {k: b[k] for k in ranked}, ALPHA * 1.0001), (body, a, b)


def refresh(engine: Any) -> None:
    refresh_all(engine)
    with engine.connect() as conn:
        assert conn.execute(rollup_dirty.select().limit(1)).first() is None


def rollups_in_use(engine: Any, project_id: str) -> bool:
    with engine.connect() as conn:
        return rollup_reads.plan(conn, project_id, MetricsFilter(*WINDOWS[0])).uses_rollups
