"""Every JSON twin of a UI page is written like the API's JSON: orjson, a number JSON cannot
hold (an infinite or NaN cost kept by an older version) as null, never a 500."""

from __future__ import annotations

import math
from typing import Any

import pytest

from tests.server.query.seed import T0, add_observation, add_score, add_trace, obs_id, trace_id

INF = float("inf")


@pytest.fixture
def infinite(engine: Any, project: Any) -> str:
    tid = trace_id(1)
    add_trace(engine, project.id, tid, total_cost=INF, input_cost=-INF, output_cost=INF, user_id="u", session_id="s")
    add_observation(engine, project.id, tid, obs_id(1), total_cost=INF, input_cost=-INF, output_cost=INF)
    add_observation(engine, project.id, tid, obs_id(2), total_cost=1e308, input_cost=1e308)
    add_score(engine, project.id, "score-1", trace_id=tid, value=1.0, timestamp_us=T0)
    return tid


def _nulls_not_infinities(value: Any) -> None:
    if isinstance(value, dict):
        for member in value.values():
            _nulls_not_infinities(member)
    elif isinstance(value, list):
        for member in value:
            _nulls_not_infinities(member)
    elif isinstance(value, float):
        assert math.isfinite(value)


def test_every_twin_renders_infinite_costs(ui: Any, project: Any, infinite: str) -> None:
    base = f"/project/{project.id}"
    urls = [
        f"{base}/traces.json?range=all",
        f"{base}/traces/{infinite}.json",
        f"{base}/traces/{infinite}/io.json",
        f"{base}/traces/{infinite}/observations/{obs_id(1)}.json",
        f"{base}/sessions.json?range=all",
        f"{base}/sessions/s.json",
        f"{base}/users.json?range=all",
        f"{base}/users/u.json",
        f"{base}/scores.json?range=all",
        f"{base}/dashboard.json?range=all",
    ]
    for url in urls:
        response = ui.get(url)
        assert response.status_code == 200, f"{url}: {response.text[:300]}"
        assert response.headers["content-type"].startswith("application/json")
        assert response.headers["cache-control"] == "no-store"
        _nulls_not_infinities(response.json())  # strict JSON: no NaN or Infinity literal


def test_an_infinite_cost_reads_as_null(ui: Any, project: Any, infinite: str) -> None:
    for url in (f"traces/{infinite}.json", f"traces/{infinite}/observations/{obs_id(1)}.json"):
        text = ui.get(f"/project/{project.id}/{url}").text
        assert "Infinity" not in text and "NaN" not in text and "null" in text
