"""Dashboard metrics, daily metrics and the metrics query model, against hand-computed figures."""

from __future__ import annotations

from typing import Any

import pytest

from interactiveai.server.clock import us_to_iso
from interactiveai.server.query import metrics
from interactiveai.server.query.metrics_base import MetricsFilter, auto_granularity, bucket_of, check_granularity
from interactiveai.server.query.metrics_daily import daily_metrics
from interactiveai.server.query.metrics_query import parse_query, run_query
from tests.server.query.metrics_seed import DAY, HOUR, seed_metrics
from tests.server.query.seed import T0

WINDOW = MetricsFilter(T0, T0 + 3 * HOUR)


@pytest.fixture
def seeded(engine: Any, project: Any, other_project: Any) -> Any:
    seed_metrics(engine, project.id, other_project.id)
    return engine


def test_granularity_is_chosen_from_the_window() -> None:
    assert auto_granularity(T0, T0 + 3 * HOUR) == "minute"
    assert auto_granularity(T0, T0 + 7 * DAY) == "hour"
    assert auto_granularity(T0, T0 + 30 * DAY) == "day"
    assert auto_granularity(T0, T0 + 365 * DAY) == "week"
    with pytest.raises(ValueError, match="buckets"):
        check_granularity(MetricsFilter(T0, T0 + 30 * DAY), "minute")
    with pytest.raises(ValueError, match="unknown granularity"):
        check_granularity(WINDOW, "fortnight")
    with pytest.raises(ValueError, match="after"):
        MetricsFilter(T0, T0)


def test_weeks_start_on_monday() -> None:
    # 2026-01-01 is a Thursday; its week starts on Monday 2025-12-29.
    assert us_to_iso(bucket_of(T0, "week")) == "2025-12-29T00:00:00.000Z"
    assert bucket_of(T0 + HOUR + 5, "hour") == T0 + HOUR


def test_summary(seeded: Any, project: Any) -> None:
    s = metrics.summary(seeded, project.id, WINDOW)
    assert (s.traces, s.observations, s.error_traces, s.warning_traces) == (4, 6, 1, 1)
    assert (s.input_tokens, s.output_tokens, s.total_tokens) == (210, 140, 350)
    assert s.total_cost == pytest.approx(1.75)
    assert s.error_rate == pytest.approx(0.25)
    # latencies 1, 2, 4, 10 s: p50 at rank 1.5 → 3 s; p95 at rank 2.85 → 4 + 0.85 × 6 = 9.1 s
    assert s.latency_p50_us == pytest.approx(3_000_000)
    assert s.latency_p95_us == pytest.approx(9_100_000)


def test_summary_of_an_empty_window(seeded: Any, project: Any) -> None:
    s = metrics.summary(seeded, project.id, MetricsFilter(T0 + 10 * DAY, T0 + 11 * DAY))
    assert (s.traces, s.total_cost, s.latency_p95_us, s.error_rate) == (0, 0.0, None, None)


def test_volume_series_by_hour_includes_empty_buckets(seeded: Any, project: Any) -> None:
    points = metrics.volume_series(seeded, project.id, WINDOW, "hour")
    assert [p.bucket_us for p in points] == [T0, T0 + HOUR, T0 + 2 * HOUR]
    assert [(p.traces, p.observations, p.error_traces, p.warning_traces, p.total_tokens) for p in points] == [
        (2, 5, 1, 0, 300),
        (1, 1, 0, 1, 50),
        (1, 0, 0, 0, 0),  # the trace exactly on the boundary belongs to the later bucket
    ]
    assert [p.total_cost for p in points] == pytest.approx([1.5, 0.25, 0.0])
    empty = metrics.volume_series(seeded, project.id, MetricsFilter(T0 + 10 * DAY, T0 + 10 * DAY + 2 * HOUR), "hour")
    assert [p.traces for p in empty] == [0, 0]


def test_volume_series_by_week(seeded: Any, project: Any) -> None:
    points = metrics.volume_series(seeded, project.id, MetricsFilter(T0 - DAY, T0 + DAY), "week")
    assert [(us_to_iso(p.bucket_us), p.traces) for p in points] == [("2025-12-29T00:00:00.000Z", 6)]


def test_filters(seeded: Any, project: Any) -> None:
    def traces(**kw: Any) -> int:
        return metrics.summary(seeded, project.id, MetricsFilter(T0, T0 + 3 * HOUR, **kw)).traces

    assert traces(environments=["prod"]) == 3
    assert traces(trace_names=["search"]) == 1
    assert traces(user_ids=["alice"]) == 2
    assert traces(tags=["vip"]) == 1
    assert traces(tags=["vip", "nope"]) == 0
    usage = metrics.model_usage(seeded, project.id, MetricsFilter(T0, T0 + 3 * HOUR, user_ids=["alice"]))
    assert [(u.model, u.calls) for u in usage] == [("gpt-4o", 1), ("claude", 1)]
    usage = metrics.model_usage(seeded, project.id, MetricsFilter(T0, T0 + 3 * HOUR, models=["claude"]))
    assert [u.model for u in usage] == ["claude"]


def test_model_usage_and_latency(seeded: Any, project: Any) -> None:
    usage = metrics.model_usage(seeded, project.id, WINDOW)
    assert [(u.model, u.calls, u.input_tokens, u.output_tokens, u.total_tokens) for u in usage] == [
        ("gpt-4o", 2, 180, 120, 300),
        ("claude", 1, 30, 20, 50),
    ]
    assert [u.total_cost for u in usage] == pytest.approx([1.5, 0.25])
    # gpt-4o latencies 500 and 1500 ms: p50 1000 ms, p90 1400 ms, p95 1450 ms, p99 1490 ms
    assert usage[0].latency_us == pytest.approx([1_000_000, 1_400_000, 1_450_000, 1_490_000])
    assert usage[1].latency_us == pytest.approx([800_000] * 4)
    assert metrics.generation_latency(seeded, project.id, WINDOW) == {
        "claude": pytest.approx([800_000] * 4),
        "gpt-4o": pytest.approx([1_000_000, 1_400_000, 1_450_000, 1_490_000]),
    }


def test_model_series(seeded: Any, project: Any) -> None:
    points = metrics.model_series(seeded, project.id, WINDOW, "hour")
    assert [(p.bucket_us, p.model, p.calls, p.total_tokens) for p in points] == [
        (T0, "gpt-4o", 2, 300),
        (T0 + HOUR, "claude", 1, 50),
    ]
    assert [p.total_cost for p in points] == pytest.approx([1.5, 0.25])


def test_latency_series(seeded: Any, project: Any) -> None:
    points = metrics.latency_series(seeded, project.id, WINDOW, "hour")
    # first hour: 1 s and 2 s
    assert [points[0].p50_us, points[0].p90_us, points[0].p95_us, points[0].p99_us] == pytest.approx(
        [1_500_000, 1_900_000, 1_950_000, 1_990_000]
    )
    assert points[1].p50_us == points[1].p99_us == pytest.approx(4_000_000)
    assert points[2].p95_us == pytest.approx(10_000_000)


def test_top_users_and_scores(seeded: Any, project: Any) -> None:
    users = metrics.top_users(seeded, project.id, WINDOW)
    assert [(u.user_id, u.traces, u.total_tokens) for u in users] == [("bob", 1, 200), ("alice", 2, 150)]
    assert [u.total_cost for u in users] == pytest.approx([1.0, 0.75])
    summary = metrics.score_summary(seeded, project.id, WINDOW)
    assert [(s.name, s.data_type, s.count) for s in summary] == [
        ("quality", "NUMERIC", 2),
        ("sentiment", "CATEGORICAL", 1),
    ]
    assert (summary[0].average, summary[0].minimum, summary[0].maximum) == pytest.approx((0.6, 0.4, 0.8))
    assert summary[1].average is None
    only_bob = metrics.score_summary(seeded, project.id, MetricsFilter(T0, T0 + 3 * HOUR, user_ids=["bob"]))
    assert [(s.name, s.count, s.average) for s in only_bob] == [("quality", 1, pytest.approx(0.4))]


def test_dashboard_bundle_is_project_scoped(seeded: Any, project: Any, other_project: Any) -> None:
    board = metrics.dashboard(seeded, project.id, WINDOW)
    assert board.granularity == "minute" and len(board.volume) == 180
    assert board.summary.traces == 4 and [u.user_id for u in board.users] == ["bob", "alice"]
    other = metrics.dashboard(seeded, other_project.id, WINDOW, "hour")
    assert other.summary.traces == 1 and other.summary.total_cost == pytest.approx(99.0)
    assert [u.user_id for u in other.users] == ["mallory"] and [m.model for m in other.models] == ["gpt-4o"]


def test_daily_metrics(seeded: Any, project: Any) -> None:
    page = daily_metrics(seeded, project.id, MetricsFilter(T0 - DAY, T0 + DAY))
    assert page.total == 2
    assert [(d.day_us, d.traces, d.observations) for d in page.items] == [(T0, 5, 7), (T0 - DAY, 1, 1)]
    assert [d.total_cost for d in page.items] == pytest.approx([1.85, 2.0])
    usage = page.items[0].usage
    assert [(u.model, u.observations, u.traces, u.input_usage, u.output_usage, u.total_usage) for u in usage] == [
        ("claude", 1, 1, 30, 20, 50),
        ("gpt-4o", 3, 2, 190, 130, 320),
    ]
    assert usage[1].total_cost == pytest.approx(1.55)
    second = daily_metrics(seeded, project.id, MetricsFilter(T0 - DAY, T0 + DAY), page=2, limit=1)
    assert [d.day_us for d in second.items] == [T0 - DAY] and second.items[0].usage == []
    named = daily_metrics(seeded, project.id, MetricsFilter(T0 - DAY, T0 + DAY, trace_names=["search"]))
    assert [(d.traces, [u.model for u in d.usage]) for d in named.items] == [(1, ["claude"])]


def _iso_time(value: Any, name: str) -> int:
    from interactiveai.server.clock import parse_iso_to_us

    return parse_iso_to_us(str(value))


def _run(engine: Any, project_id: str, **body: Any) -> list[dict[str, Any]]:
    body.setdefault("fromTimestamp", us_to_iso(T0))
    body.setdefault("toTimestamp", us_to_iso(T0 + 3 * HOUR))
    return run_query(engine, project_id, parse_query(body, _iso_time))


def test_query_traces_by_name(seeded: Any, project: Any) -> None:
    rows = _run(
        seeded,
        project.id,
        view="traces",
        dimensions=[{"field": "name"}],
        metrics=[
            {"measure": "count", "aggregation": "count"},
            {"measure": "totalCost", "aggregation": "sum"},
            {"measure": "latency", "aggregation": "p50"},
            {"measure": "totalTokens", "aggregation": "max"},
        ],
    )
    # chat: 1 s, 2 s, 10 s → p50 2000 ms; search: 4000 ms
    assert rows == [
        {
            "name": "chat",
            "count_count": 3,
            "sum_totalCost": pytest.approx(1.5),
            "p50_latency": 2000.0,
            "max_totalTokens": 200,
        },
        {
            "name": "search",
            "count_count": 1,
            "sum_totalCost": pytest.approx(0.25),
            "p50_latency": 4000.0,
            "max_totalTokens": 50,
        },
    ]


def test_query_observations_over_time(seeded: Any, project: Any) -> None:
    rows = _run(
        seeded,
        project.id,
        view="observations",
        dimensions=[{"field": "model"}],
        metrics=[
            {"measure": "totalTokens", "aggregation": "sum"},
            {"measure": "timeToFirstToken", "aggregation": "avg"},
        ],
        filters=[{"column": "type", "operator": "=", "value": "GENERATION"}],
        timeDimension={"granularity": "hour"},
        orderBy=[{"field": "time_dimension", "direction": "asc"}],
    )
    assert rows == [
        {"model": "gpt-4o", "time_dimension": us_to_iso(T0), "sum_totalTokens": 300, "avg_timeToFirstToken": 100.0},
        {
            "model": "claude",
            "time_dimension": us_to_iso(T0 + HOUR),
            "sum_totalTokens": 50,
            "avg_timeToFirstToken": 100.0,
        },
    ]


def test_query_order_by_percentile_and_row_limit(seeded: Any, project: Any) -> None:
    rows = _run(
        seeded,
        project.id,
        view="traces",
        dimensions=[{"field": "userId"}],
        metrics=[{"measure": "latency", "aggregation": "p95"}],
        orderBy=[{"field": "p95_latency", "direction": "asc"}],
        config={"row_limit": 2},
    )
    # alice: 1 s and 4 s → p95 3850 ms; bob 2000 ms; no user: 10 s (cut by the row limit)
    assert rows == [{"userId": "bob", "p95_latency": 2000.0}, {"userId": "alice", "p95_latency": pytest.approx(3850.0)}]


def test_query_filters_and_isolation(seeded: Any, project: Any, other_project: Any) -> None:
    count = [{"measure": "count", "aggregation": "count"}]
    tags = [{"column": "tags", "operator": "all of", "value": ["vip"]}]
    assert _run(seeded, project.id, view="traces", metrics=count, filters=tags) == [{"count_count": 1}]
    slow = [{"column": "latency", "operator": ">=", "value": 2000}]
    assert _run(seeded, project.id, view="traces", metrics=count, filters=slow) == [{"count_count": 3}]
    envs = [{"column": "environment", "operator": "none of", "value": ["prod"]}]
    assert _run(seeded, project.id, view="traces", metrics=count, filters=envs) == [{"count_count": 1}]
    cost = [{"measure": "totalCost", "aggregation": "sum"}]
    assert _run(seeded, other_project.id, view="observations", metrics=cost) == [{"sum_totalCost": pytest.approx(99.0)}]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"view": "spans"}, "unknown view"),
        ({"view": "traces", "fromTimestamp": None}, "fromTimestamp is required"),
        ({"view": "traces", "metrics": [{"measure": "speed", "aggregation": "sum"}]}, "unknown measure 'speed'"),
        ({"view": "traces", "metrics": [{"measure": "latency", "aggregation": "median"}]}, "unknown aggregation"),
        ({"view": "traces", "metrics": [{"measure": "count", "aggregation": "sum"}]}, "count aggregation"),
        ({"view": "traces", "dimensions": [{"field": "model"}]}, "unknown field 'model'"),
        ({"view": "traces", "filters": [{"column": "x", "operator": "=", "value": 1}]}, "unknown filter column"),
        ({"view": "traces", "filters": [{"column": "name", "operator": "~", "value": 1}]}, "unknown filter operator"),
        ({"view": "traces", "config": {"row_limit": 1001}}, "row_limit"),
        ({"view": "traces", "orderBy": [{"field": "sum_totalCost"}]}, "cannot order by"),
        ({"view": "traces", "timeDimension": {"granularity": "year"}}, "unknown granularity"),
    ],
)
def test_query_validation(body: dict[str, Any], message: str) -> None:
    full = {"fromTimestamp": us_to_iso(T0), "toTimestamp": us_to_iso(T0 + HOUR), **body}
    with pytest.raises(ValueError, match=message):
        parse_query(full, _iso_time)
