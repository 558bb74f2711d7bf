"""A small hand-checkable data set for the metrics tests (query, API and dashboard).

Window ``[T0, T0 + 3 h)`` holds four traces of project A; one more sits at T0 + 3 h (outside,
same day) and one the day before. Expected figures are worked out in the tests' comments.
"""

from __future__ import annotations

from typing import Any

from tests.server.query.seed import T0, add_observation, add_score, add_trace, obs_id, trace_id

__test__ = False

MINUTE = 60_000_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
MS = 1000


def seed_metrics(engine: Any, project_id: str, other_project_id: str) -> None:
    t = trace_id
    add_trace(
        engine,
        project_id,
        t(1),
        timestamp_us=T0 + 10 * MINUTE,
        latency_us=1_000_000,
        environment="prod",
        name="chat",
        user_id="alice",
        tags=["vip"],
        total_cost=0.5,
        input_tokens=60,
        output_tokens=40,
        total_tokens=100,
        observation_count=3,
        error_count=1,
        level="ERROR",
    )
    add_trace(
        engine,
        project_id,
        t(2),
        timestamp_us=T0 + 30 * MINUTE,
        latency_us=2_000_000,
        environment="prod",
        name="chat",
        user_id="bob",
        total_cost=1.0,
        input_tokens=120,
        output_tokens=80,
        total_tokens=200,
        observation_count=2,
    )
    add_trace(
        engine,
        project_id,
        t(3),
        timestamp_us=T0 + 65 * MINUTE,
        latency_us=4_000_000,
        environment="dev",
        name="search",
        user_id="alice",
        total_cost=0.25,
        input_tokens=30,
        output_tokens=20,
        total_tokens=50,
        observation_count=1,
        warning_count=1,
        level="WARNING",
    )
    add_trace(
        engine, project_id, t(4), timestamp_us=T0 + 2 * HOUR, latency_us=10_000_000, environment="prod", name="chat"
    )
    # Outside the window: at its exclusive end, and the day before.
    add_trace(engine, project_id, t(5), timestamp_us=T0 + 3 * HOUR, total_cost=0.1, observation_count=1)
    add_trace(engine, project_id, t(7), timestamp_us=T0 - 12 * HOUR, total_cost=2.0, observation_count=1)
    # Another project, inside the window: must never show.
    add_trace(engine, other_project_id, t(1), timestamp_us=T0 + 10 * MINUTE, total_cost=99.0, user_id="mallory")

    def gen(
        n: int, trace: int, start: int, duration: int, model: str | None, tokens: tuple[int, int], cost: float
    ) -> None:
        add_observation(
            engine,
            project_id,
            t(trace),
            obs_id(n),
            type="GENERATION",
            model=model,
            start_time_us=start,
            end_time_us=start + duration,
            completion_start_time_us=start + 100 * MS,
            input_tokens=tokens[0],
            output_tokens=tokens[1],
            total_tokens=sum(tokens),
            total_cost=cost,
            environment="dev" if trace == 3 else "prod",
        )

    gen(1, 1, T0 + 10 * MINUTE, 500 * MS, "gpt-4o", (60, 40), 0.5)
    gen(2, 2, T0 + 30 * MINUTE, 1500 * MS, "gpt-4o", (120, 80), 1.0)
    gen(3, 3, T0 + 65 * MINUTE, 800 * MS, "claude", (30, 20), 0.25)
    add_observation(engine, project_id, t(1), obs_id(4), start_time_us=T0 + 10 * MINUTE, environment="prod")
    gen(5, 2, T0 + 3 * HOUR, 100 * MS, "gpt-4o", (10, 10), 0.05)
    add_observation(
        engine, other_project_id, t(1), obs_id(1), type="GENERATION", model="gpt-4o", start_time_us=T0, total_cost=99.0
    )

    add_score(engine, project_id, "s1", name="quality", value=0.8, trace_id=t(1), timestamp_us=T0 + 10 * MINUTE)
    add_score(engine, project_id, "s2", name="quality", value=0.4, trace_id=t(2), timestamp_us=T0 + 30 * MINUTE)
    add_score(
        engine,
        project_id,
        "s3",
        name="sentiment",
        value=None,
        string_value="good",
        data_type="CATEGORICAL",
        trace_id=t(3),
        timestamp_us=T0 + 65 * MINUTE,
    )
    add_score(engine, project_id, "s4", name="quality", value=0.0, trace_id=t(5), timestamp_us=T0 + 3 * HOUR)
    add_score(engine, other_project_id, "s1", name="quality", value=0.0, timestamp_us=T0 + MINUTE)
