"""The refresher reads an hour of observations from the covering indexes alone: the rows carry
the payloads (several KB each), the indexes only what the roll-ups add up."""

from __future__ import annotations

from typing import Any

import pytest

from interactiveai.server.rollups import compute
from tests.server.query.seed import SECOND, T0, add_observation, add_trace, obs_id, trace_id
from tests.server.query.test_people_list_plans import plans
from tests.server.storage.test_query_plans import captured

HOUR_START = T0 - T0 % (3600 * SECOND)


@pytest.mark.parametrize(
    ("compute_hour", "index"),
    [(compute.model_hour, "ix_observations_metrics"), (compute.span_hour, "ix_observations_spans_metrics")],
)
def test_an_hour_of_observations_is_read_from_its_covering_index(
    dialect: str, engine: Any, compute_hour: Any, index: str
) -> None:
    if dialect != "sqlite":
        pytest.skip("SQLite's plans")
    add_trace(engine, "p1", trace_id(1), timestamp_us=T0)
    add_observation(engine, "p1", trace_id(1), obs_id(1), type="GENERATION", model="gpt-4o", start_time_us=T0)
    add_observation(engine, "p1", trace_id(1), obs_id(2), type="TOOL", start_time_us=T0 + SECOND)
    with captured(engine) as statements, engine.connect() as conn:
        rows = compute_hour(conn, "p1", HOUR_START)
    assert [row["calls"] for row in rows] == [1]
    details = [d for _s, d in plans(engine, statements) if "observations" in d]
    assert details and all(f"COVERING INDEX {index}" in d for d in details), details
