from __future__ import annotations

from typing import Any

from interactiveai.server.query.filters import ObservationFilter
from interactiveai.server.query.observations import get_observation, list_observations
from tests.server.query.seed import SECOND, T0, add_observation, add_trace, obs_id, trace_id


def test_list_and_get(engine: Any) -> None:
    add_trace(engine, "p1", trace_id(1), user_id="alice")
    add_observation(engine, "p1", trace_id(1), obs_id(1), start_time_us=T0)
    add_observation(
        engine,
        "p1",
        trace_id(1),
        obs_id(2),
        start_time_us=T0 + SECOND,
        end_time_us=None,
        type="GENERATION",
        model="m",
        completion_start_time_us=T0 + 2 * SECOND,
        input="not json {",
    )
    add_observation(engine, "p2", trace_id(1), obs_id(3), start_time_us=T0)

    page = list_observations(engine, "p1")
    assert [o.id for o in page.items] == [obs_id(2), obs_id(1)] and page.total == 2
    generation = page.items[0]
    assert generation.latency_seconds is None and generation.time_to_first_token_seconds == 1.0
    assert generation.input == "not json {"  # stored text that is not JSON comes back as text
    assert page.items[1].latency_seconds == 0.5

    assert [o.id for o in list_observations(engine, "p1", ObservationFilter(types=["generation"])).items] == [obs_id(2)]
    assert [o.id for o in list_observations(engine, "p1", ObservationFilter(model="m")).items] == [obs_id(2)]
    assert list_observations(engine, "p1", ObservationFilter(user_id="bob")).total == 0
    assert list_observations(engine, "p1", ObservationFilter(user_id="alice")).total == 2
    assert list_observations(engine, "p2", ObservationFilter(user_id="alice")).total == 0

    assert get_observation(engine, "p1", obs_id(3)) is None
    found = get_observation(engine, "p1", obs_id(1), trace_id=trace_id(1))
    assert found is not None and found.trace_id == trace_id(1)
    assert get_observation(engine, "p1", obs_id(1), trace_id="other") is None
