"""A metrics query of percentiles only: one row (or one per group), on both engines.

With no other aggregate the query had nothing to select: SQLite refused ``SELECT FROM``, and
PostgreSQL answered one row per matching trace.
"""

from __future__ import annotations

from typing import Any

import pytest

from interactiveai.server.clock import parse_iso_to_us, us_to_iso
from interactiveai.server.query.metrics_query import parse_query, run_query
from tests.server.query.metrics_seed import HOUR, seed_metrics
from tests.server.query.seed import T0


@pytest.fixture
def seeded(engine: Any, project: Any, other_project: Any) -> Any:
    seed_metrics(engine, project.id, other_project.id)
    return engine


def _run(engine: Any, project_id: str, **body: Any) -> list[dict[str, Any]]:
    body = {"view": "traces", "fromTimestamp": us_to_iso(T0), "toTimestamp": us_to_iso(T0 + 3 * HOUR), **body}
    return run_query(engine, project_id, parse_query(body, lambda value, _name: parse_iso_to_us(str(value))))


def test_percentiles_alone_answer_one_row(seeded: Any, project: Any) -> None:
    rows = _run(seeded, project.id, metrics=[{"measure": "latency", "aggregation": "p50"}])
    assert len(rows) == 1 and set(rows[0]) == {"p50_latency"}
    assert rows[0]["p50_latency"] == pytest.approx(3000.0)  # latencies 1, 2, 4, 10 s


def test_percentiles_alone_by_group(seeded: Any, project: Any) -> None:
    rows = _run(
        seeded,
        project.id,
        dimensions=[{"field": "name"}],
        metrics=[{"measure": "latency", "aggregation": "p50"}, {"measure": "latency", "aggregation": "p99"}],
    )
    assert [(r["name"], r["p50_latency"]) for r in rows] == [("search", 4000.0), ("chat", 2000.0)]
    assert all(set(r) == {"name", "p50_latency", "p99_latency"} for r in rows)
