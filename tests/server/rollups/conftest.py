"""Roll-up tests: an app whose refresher does not run on its own (tests refresh when they mean to),
data sent through the real write paths, and the comparison of every roll-up answer with the exact scan."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from interactiveai.server.query import metrics, metrics_daily, metrics_exact, rollup_reads
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


def refresh(engine: Any) -> None:
    refresh_all(engine)
    with engine.connect() as conn:
        assert conn.execute(rollup_dirty.select().limit(1)).first() is None


def rollups_in_use(engine: Any, project_id: str) -> bool:
    with engine.connect() as conn:
        return rollup_reads.plan(conn, project_id, MetricsFilter(*WINDOWS[0])).uses_rollups
