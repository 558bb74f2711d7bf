"""``GET /api/public/metrics/daily`` and ``GET /api/public/metrics?query=``: shapes, figures, errors, isolation."""

from __future__ import annotations

import json
from typing import Any

import pytest

from interactiveai.server.api.metrics_models import DailyMetrics, MetricsResult
from interactiveai.server.clock import us_to_iso
from tests.server.query.metrics_seed import DAY, HOUR, seed_metrics
from tests.server.query.seed import T0

DAILY = "/api/public/metrics/daily"
METRICS = "/api/public/metrics"


@pytest.fixture
def app(app: Any) -> Any:
    """The app with the metrics router, whether or not routes.py registers it yet."""
    from interactiveai.server.api import metrics

    if not any(getattr(r, "path", "") == METRICS for r in app.routes):
        app.include_router(metrics.router, prefix="/api/public")
    return app


@pytest.fixture
def seeded(engine: Any, project: Any, other_project: Any) -> Any:
    seed_metrics(engine, project.id, other_project.id)
    return project


def _window(days: int = 1) -> dict[str, str]:
    return {"fromTimestamp": us_to_iso(T0 - days * DAY) or "", "toTimestamp": us_to_iso(T0 + days * DAY) or ""}


def test_daily_metrics(client: Any, seeded: Any) -> None:
    response = client.get(DAILY, params=_window(), headers=seeded.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    DailyMetrics.model_validate(body)
    assert body["meta"] == {"page": 1, "limit": 50, "totalItems": 2, "totalPages": 1}
    first, second = body["data"]
    assert (first["date"], first["countTraces"], first["countObservations"]) == ("2026-01-01", 5, 7)
    assert first["totalCost"] == pytest.approx(1.85)
    assert first["usage"][1] == {
        "model": "gpt-4o",
        "inputUsage": 190,
        "outputUsage": 130,
        "totalUsage": 320,
        "countObservations": 3,
        "countTraces": 2,
        "totalCost": pytest.approx(1.55),
    }
    assert (second["date"], second["countTraces"], second["usage"]) == ("2025-12-31", 1, [])


def test_daily_metrics_filters_and_paging(client: Any, seeded: Any) -> None:
    params = {**_window(), "traceName": "chat", "environment": "prod"}
    body = client.get(DAILY, params=params, headers=seeded.headers).json()
    assert [(d["date"], d["countTraces"]) for d in body["data"]] == [("2026-01-01", 3)]
    body = client.get(DAILY, params={**_window(), "tags": "vip", "userId": "alice"}, headers=seeded.headers).json()
    assert [d["countTraces"] for d in body["data"]] == [1]
    body = client.get(DAILY, params={**_window(), "page": 2, "limit": 1}, headers=seeded.headers).json()
    assert [d["date"] for d in body["data"]] == ["2025-12-31"] and body["meta"]["totalPages"] == 2


def test_daily_metrics_default_window_and_errors(client: Any, seeded: Any) -> None:
    # Without dates: the last 90 days before now; the 2026-01-01 data set is outside unless toTimestamp says so.
    body = client.get(DAILY, params={"toTimestamp": us_to_iso(T0 + DAY)}, headers=seeded.headers).json()
    assert len(body["data"]) == 2
    assert client.get(DAILY, params={"fromTimestamp": "yesterday"}, headers=seeded.headers).status_code == 400
    too_long = {"fromTimestamp": "2020-01-01T00:00:00Z", "toTimestamp": "2026-01-01T00:00:00Z"}
    response = client.get(DAILY, params=too_long, headers=seeded.headers)
    assert response.status_code == 400 and "366 days" in response.text
    assert client.get(DAILY).status_code == 401


def test_daily_metrics_isolation(client: Any, seeded: Any, other_project: Any) -> None:
    body = client.get(DAILY, params=_window(), headers=other_project.headers).json()
    assert [(d["countTraces"], d["totalCost"]) for d in body["data"]] == [(1, 99.0)]


def _query(client: Any, project: Any, **query: Any) -> Any:
    query.setdefault("fromTimestamp", us_to_iso(T0))
    query.setdefault("toTimestamp", us_to_iso(T0 + 3 * HOUR))
    return client.get(METRICS, params={"query": json.dumps(query)}, headers=project.headers)


def test_metrics_query(client: Any, seeded: Any) -> None:
    response = _query(
        client,
        seeded,
        view="observations",
        dimensions=[{"field": "model"}],
        metrics=[{"measure": "totalCost", "aggregation": "sum"}, {"measure": "latency", "aggregation": "p50"}],
        filters=[{"column": "type", "operator": "any of", "value": ["GENERATION"]}],
    )
    assert response.status_code == 200, response.text
    body = response.json()
    MetricsResult.model_validate(body)
    assert body["data"] == [
        {"model": "gpt-4o", "sum_totalCost": pytest.approx(1.5), "p50_latency": 1000.0},
        {"model": "claude", "sum_totalCost": pytest.approx(0.25), "p50_latency": 800.0},
    ]


def test_metrics_query_time_dimension(client: Any, seeded: Any) -> None:
    body = _query(
        client,
        seeded,
        view="traces",
        metrics=[{"measure": "count", "aggregation": "count"}],
        timeDimension={"granularity": "hour"},
    ).json()
    assert body["data"] == [
        {"time_dimension": "2026-01-01T00:00:00.000Z", "count_count": 2},
        {"time_dimension": "2026-01-01T01:00:00.000Z", "count_count": 1},
        {"time_dimension": "2026-01-01T02:00:00.000Z", "count_count": 1},
    ]


def test_metrics_query_isolation(client: Any, seeded: Any, other_project: Any) -> None:
    body = _query(client, other_project, view="traces", metrics=[{"measure": "totalCost", "aggregation": "sum"}]).json()
    assert body["data"] == [{"sum_totalCost": 99.0}]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"query": "{not json"}, "not valid JSON"),
        ({"query": json.dumps({"view": "traces", "toTimestamp": "2026-01-01T00:00:00Z"})}, "fromTimestamp is required"),
        (
            {"query": json.dumps({"view": "traces", "fromTimestamp": "x", "toTimestamp": "2026-01-01T00:00:00Z"})},
            "fromTimestamp must be an ISO 8601",
        ),
        (
            {
                "query": json.dumps(
                    {"view": "traces", "fromTimestamp": "2020-01-01T00:00:00Z", "toTimestamp": "2026-01-01T00:00:00Z"}
                )
            },
            "at most 366 days",
        ),
        (
            {
                "query": json.dumps(
                    {
                        "view": "observations",
                        "metrics": [{"measure": "cost", "aggregation": "sum"}],
                        "fromTimestamp": "2026-01-01T00:00:00Z",
                        "toTimestamp": "2026-01-02T00:00:00Z",
                    }
                )
            },
            "unknown measure 'cost'",
        ),
        (
            {
                "query": json.dumps(
                    {
                        "view": "traces",
                        "config": {"row_limit": 5000},
                        "fromTimestamp": "2026-01-01T00:00:00Z",
                        "toTimestamp": "2026-01-02T00:00:00Z",
                    }
                )
            },
            "row_limit",
        ),
    ],
)
def test_metrics_query_errors(client: Any, seeded: Any, params: dict[str, str], message: str) -> None:
    response = client.get(METRICS, params=params, headers=seeded.headers)
    assert response.status_code == 400
    assert message in response.text


def test_metrics_query_requires_the_query_and_a_key(client: Any, seeded: Any) -> None:
    missing = client.get(METRICS, headers=seeded.headers)
    assert missing.status_code == 400 and "query" in missing.json()["message"]
    assert client.get(METRICS, params={"query": "{}"}).status_code == 401


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"view": {"x": 1}}, "unknown view"),
        ({"view": ["traces"]}, "unknown view"),
        ({"view": "traces", "dimensions": [{"field": ["name"]}]}, "unknown field"),
        ({"view": "traces", "metrics": [{"measure": {}, "aggregation": "sum"}]}, "unknown measure"),
        ({"view": "traces", "metrics": [{"measure": "latency", "aggregation": []}]}, "unknown aggregation"),
        ({"view": "traces", "filters": [{"column": {}, "operator": "=", "value": 1}]}, "unknown filter column"),
        ({"view": "traces", "filters": [{"column": "name", "operator": [], "value": 1}]}, "unknown filter operator"),
        ({"view": "traces", "timeDimension": {"granularity": ["day"]}}, "unknown granularity"),
        ({"view": "traces", "orderBy": [{"field": {}}]}, "cannot order by"),
        # a number column compared with text failed the query (SQLite) or the statement (PostgreSQL)
        ({"view": "traces", "filters": [{"column": "latency", "operator": ">", "value": "slow"}]}, "compares numbers"),
        (
            {"view": "observations", "filters": [{"column": "totalCost", "operator": "any of", "value": [1, "a"]}]},
            "numbers",
        ),
    ],
)
def test_names_of_the_wrong_type_are_400_not_500(client: Any, seeded: Any, query: dict[str, Any], message: str) -> None:
    response = _query(client, seeded, **query)
    assert response.status_code == 400, response.text
    assert message in response.json()["message"]


def test_a_number_compared_with_a_text_column_is_compared_as_text(client: Any, seeded: Any) -> None:
    as_text = _query(client, seeded, view="traces", filters=[{"column": "name", "operator": "!=", "value": 7}])
    assert as_text.status_code == 200, as_text.text
    listed = _query(
        client, seeded, view="traces", filters=[{"column": "version", "operator": "none of", "value": [2.5]}]
    )
    assert listed.status_code == 200, listed.text
    assert as_text.json()["data"] == listed.json()["data"] == _query(client, seeded, view="traces").json()["data"]
