"""The ``filter`` conditions of the trace and observation lists, on both engines."""

from __future__ import annotations

import json
from typing import Any

import pytest

from interactiveai.server.query.filter_conditions import parse_filter
from interactiveai.server.query.filters import ObservationFilter, TraceFilter
from interactiveai.server.query.observations import list_observations
from interactiveai.server.query.traces import count_traces, list_traces
from tests.server.query.seed import SECOND, T0, add_observation, add_score, add_trace, obs_id, trace_id

T1, T2, T3 = trace_id(1), trace_id(2), trace_id(3)


@pytest.fixture
def seeded(engine: Any, project: Any, other_project: Any) -> Any:
    add_trace(
        engine,
        project.id,
        T1,
        name="Chat Completion",
        user_id="alice",
        session_id="s1",
        environment="production",
        release="r1",
        version="v1",
        tags=["a", "b"],
        metadata={"tier": "gold", "n": 5, "flag": True, "s": "12.5", "nested": {"x": 1}, "big": 1e300},
        latency_us=2 * SECOND,
        total_cost=0.5,
        input_tokens=10,
        output_tokens=20,
        total_tokens=30,
        level="ERROR",
        error_count=1,
        bookmarked=True,
    )
    add_trace(
        engine,
        project.id,
        T2,
        name="embed",
        user_id="bob",
        tags=["b"],
        metadata={"tier": "silver", "n": 50, "flag": "false"},
        latency_us=SECOND // 2,
        timestamp_us=T0 + SECOND,
    )
    add_trace(
        engine, project.id, T3, name="100%_done", metadata="{not json", total_cost=0.01, timestamp_us=T0 + 2 * SECOND
    )
    add_trace(engine, other_project.id, trace_id(9), name="Chat Completion", user_id="alice", tags=["a"])
    for n, (tid, name, value, data_type, label) in enumerate(
        [
            (T1, "quality", 0.9, "NUMERIC", None),
            (T1, "quality", 0.7, "NUMERIC", None),
            (T1, "tone", None, "CATEGORICAL", "polite"),
            (T1, "ok", 1.0, "BOOLEAN", "True"),
            (T2, "ok", 0.0, "BOOLEAN", "False"),
            (T2, "quality", 0.2, "NUMERIC", None),
        ]
    ):
        add_score(
            engine, project.id, f"s{n}", trace_id=tid, name=name, value=value, data_type=data_type, string_value=label
        )
    add_observation(
        engine,
        project.id,
        T1,
        obs_id(1),
        type="GENERATION",
        name="llm",
        model="gpt-4o",
        end_time_us=T0 + 2 * SECOND,
        completion_start_time_us=T0 + SECOND // 2,
        output_tokens=100,
        metadata={"k": "v"},
    )
    add_observation(
        engine,
        project.id,
        T2,
        obs_id(2),
        name="retrieve",
        level="WARNING",
        start_time_us=T0 + SECOND,
        end_time_us=T0 + SECOND + SECOND // 10,
    )
    add_observation(engine, project.id, T1, obs_id(3), type="EVENT", name="note", end_time_us=None)
    return engine


def traces_matching(engine: Any, project_id: str, *conditions: dict[str, Any]) -> list[str]:
    parsed = parse_filter(json.dumps(list(conditions)), "traces")
    page = list_traces(engine, project_id, TraceFilter(conditions=parsed), limit=100)
    assert count_traces(engine, project_id, TraceFilter(conditions=parsed)) == len(page.items)
    return sorted(t.id for t in page.items)


def observations_matching(engine: Any, project_id: str, *conditions: dict[str, Any]) -> list[str]:
    parsed = parse_filter(json.dumps(list(conditions)), "observations")
    return sorted(o.id for o in list_observations(engine, project_id, ObservationFilter(conditions=parsed)).items)


def c(kind: str, column: str, operator: str, value: Any = None, key: str | None = None) -> dict[str, Any]:
    condition = {"type": kind, "column": column, "operator": operator, "value": value}
    if key is not None:
        condition["key"] = key
    return condition


TRACE_CASES = [
    (c("string", "name", "=", "embed"), [T2]),
    (c("string", "name", "contains", "COMPLETION"), [T1]),  # ignoring case
    (c("string", "name", "contains", "%_"), [T3]),  # LIKE's wildcards are plain characters
    (c("string", "name", "contains", "_"), [T3]),
    (c("string", "name", "does not contain", "o"), [T2]),
    (c("string", "name", "starts with", "chat"), [T1]),
    (c("string", "name", "ends with", "DONE"), [T3]),
    (c("string", "userId", "=", "alice"), [T1]),
    (c("string", "userId", "does not contain", "ali"), [T2, T3]),  # no user: does not contain it
    (c("stringOptions", "environment", "any of", ["production", "staging"]), [T1]),
    (c("stringOptions", "environment", "none of", ["production"]), [T2, T3]),
    (c("categoryOptions", "level", "any of", ["ERROR", "WARNING"]), [T1]),
    (c("stringOptions", "userId", "any of", []), []),
    (c("null", "sessionId", "is null"), [T2, T3]),
    (c("null", "sessionId", "is not null"), [T1]),
    (c("datetime", "timestamp", ">=", "2026-01-01T00:00:01Z"), [T2, T3]),
    (c("datetime", "timestamp", "<", "2026-01-01T01:00:01+01:00"), [T1]),
    (c("number", "latency", ">", 1), [T1]),
    (c("number", "latency", "<=", 1), [T2, T3]),
    (c("number", "totalCost", "=", 0), [T2]),  # no priced call costs 0
    (c("number", "totalCost", ">=", 0.01), [T1, T3]),
    (c("number", "totalTokens", ">", 0), [T1]),
    (c("number", "tokens", "=", 30), [T1]),
    (c("number", "errorCount", ">=", 1), [T1]),
    (c("arrayOptions", "tags", "any of", ["a", "z"]), [T1]),
    (c("arrayOptions", "tags", "all of", ["a", "b"]), [T1]),
    (c("arrayOptions", "tags", "all of", ["b"]), [T1, T2]),
    (c("arrayOptions", "tags", "none of", ["a"]), [T2, T3]),
    (c("boolean", "bookmarked", "=", True), [T1]),
    (c("boolean", "bookmarked", "<>", True), [T2, T3]),
    (c("stringObject", "metadata", "=", "gold", "tier"), [T1]),
    (c("stringObject", "metadata", "contains", "IL", "tier"), [T2]),
    (c("stringObject", "metadata", "does not contain", "gold", "tier"), [T2, T3]),  # T3's metadata is no JSON
    (c("stringObject", "metadata", "is set", None, "tier"), [T1, T2]),
    (c("stringObject", "metadata", "is not set", None, "nested"), [T2, T3]),
    (c("stringObject", "metadata", "=", "5", "n"), [T1]),  # a number reads as its digits
    (c("stringObject", "metadata", "contains", '"x"', "nested"), [T1]),  # an object as its JSON
    (c("numberObject", "metadata", ">", 10, "n"), [T2]),
    (c("numberObject", "metadata", "<=", 5, "n"), [T1]),
    (c("numberObject", "metadata", "=", 12.5, "s"), [T1]),  # a string holding a number
    (c("numberObject", "metadata", ">", 1e299, "big"), [T1]),
    (c("numberObject", "metadata", ">", 0, "tier"), []),  # text is no number
    (c("booleanObject", "metadata", "=", True, "flag"), [T1]),
    (c("booleanObject", "metadata", "=", False, "flag"), [T2]),  # the string "false" too
    (c("booleanObject", "metadata", "<>", True, "flag"), [T2, T3]),
    (c("categoryOptions", "metadata", "any of", ["gold", "bronze"], "tier"), [T1]),
    (c("categoryOptions", "metadata", "none of", ["gold"], "tier"), [T2, T3]),
    (c("numberObject", "scores_avg", ">", 0.75, "quality"), [T1]),  # (0.9 + 0.7) / 2
    (c("numberObject", "scores", "<", 0.5, "quality"), [T2]),
    (c("categoryOptions", "score_categories", "any of", ["polite"], "tone"), [T1]),
    (c("categoryOptions", "score_categories", "none of", ["polite"], "tone"), [T2, T3]),
    (c("booleanObject", "score_booleans", "=", True, "ok"), [T1]),
    (c("booleanObject", "score_booleans", "<>", True, "ok"), [T2, T3]),  # also without a score of that name
    (c("string", "name", "=", "'; DROP TABLE traces; --"), []),
]


@pytest.mark.parametrize(
    ("condition", "expected"), TRACE_CASES, ids=[f"{c['column']} {c['operator']}" for c, _ in TRACE_CASES]
)
def test_each_trace_condition(seeded: Any, project: Any, condition: dict[str, Any], expected: list[str]) -> None:
    assert traces_matching(seeded, project.id, condition) == expected


def test_conditions_combine_and_stay_in_the_project(seeded: Any, project: Any, other_project: Any) -> None:
    both = (c("string", "userId", "=", "alice"), c("arrayOptions", "tags", "any of", ["a"]))
    assert traces_matching(seeded, project.id, *both) == [T1]
    assert traces_matching(seeded, other_project.id, *both) == [trace_id(9)]
    assert traces_matching(seeded, project.id, *both, c("number", "latency", "<", 1)) == []
    assert traces_matching(seeded, project.id) == [T1, T2, T3]


OBSERVATION_CASES = [
    (c("string", "type", "=", "GENERATION"), [obs_id(1)]),
    (c("stringOptions", "type", "any of", ["SPAN", "EVENT"]), [obs_id(2), obs_id(3)]),
    (c("string", "name", "starts with", "RE"), [obs_id(2)]),
    (c("string", "traceId", "=", T1), [obs_id(1), obs_id(3)]),
    (c("stringOptions", "traceId", "any of", [T2]), [obs_id(2)]),
    (c("string", "level", "=", "WARNING"), [obs_id(2)]),
    (c("string", "model", "contains", "4O"), [obs_id(1)]),
    (c("number", "latency", ">", 1), [obs_id(1)]),
    (c("number", "latency", "<", 1), [obs_id(2)]),  # without an end there is no latency
    (c("number", "timeToFirstToken", "<=", 0.5), [obs_id(1)]),
    (c("number", "tokensPerSecond", ">=", 50), [obs_id(1)]),
    (c("datetime", "startTime", ">", "2026-01-01T00:00:00Z"), [obs_id(2)]),
    (c("null", "endTime", "is null"), [obs_id(3)]),
    (c("stringObject", "metadata", "=", "v", "k"), [obs_id(1)]),
    (c("string", "userId", "=", "alice"), [obs_id(1), obs_id(3)]),
    (c("string", "traceName", "starts with", "chat"), [obs_id(1), obs_id(3)]),
    (c("arrayOptions", "traceTags", "none of", ["a"]), [obs_id(2)]),
    (c("stringOptions", "traceEnvironment", "any of", ["default"]), [obs_id(2)]),
    (c("null", "promptName", "is null"), [obs_id(1), obs_id(2), obs_id(3)]),  # prompts are not stored
    (c("string", "promptName", "=", "p"), []),
]


@pytest.mark.parametrize(
    ("condition", "expected"), OBSERVATION_CASES, ids=[f"{c['column']} {c['operator']}" for c, _ in OBSERVATION_CASES]
)
def test_each_observation_condition(seeded: Any, project: Any, condition: dict[str, Any], expected: list[str]) -> None:
    assert observations_matching(seeded, project.id, condition) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "filter must be a JSON list of conditions"),
        ('{"type": "string"}', "filter must be a JSON list"),
        ("[1]", "filter condition 1 must be an object"),
        ('[{"type": "text", "column": "name", "operator": "="}]', "filter condition 1: type must be one of datetime"),
        ('[{"type": ["null"], "column": "id", "operator": "="}]', "filter condition 1: type must be one of datetime"),
        ('[{"type": "null", "column": {"a": 1}, "operator": "is null"}]', "column must be one of"),
        ('[{"type": "null", "column": "id", "operator": ["is null"]}]', "operator must be one of is null"),
        ('[{"type": "string", "column": "id", "operator": "=", "value": "' + "x" * 1001 + '"}]', "at most 1000"),
        ('[{"type": "string", "column": "nme", "operator": "="}]', "column must be one of id, name"),
        ('[{"type": "number", "column": "name", "operator": "=", "value": 1}]', "column name takes type string or"),
        (
            '[{"type": "string", "column": "name", "operator": ">", "value": "a"}]',
            "operator must be one of =, contains",
        ),
        ('[{"type": "string", "column": "name", "operator": "=", "value": 3}]', "value must be a string"),
        ('[{"type": "number", "column": "latency", "operator": ">", "value": "1"}]', "value must be a finite number"),
        ('[{"type": "number", "column": "latency", "operator": ">", "value": true}]', "value must be a finite number"),
        ('[{"type": "datetime", "column": "timestamp", "operator": ">", "value": "soon"}]', "ISO 8601"),
        ('[{"type": "stringObject", "column": "metadata", "operator": "=", "value": "x"}]', "needs a key"),
        ('[{"type": "boolean", "column": "bookmarked", "operator": "=", "value": "yes"}]', "true or false"),
        ('[{"type": "arrayOptions", "column": "tags", "operator": "all of", "value": [1]}]', "each value must be"),
        ('[{"type": "string", "column": "name", "operator": "=", "value": "a\\u0000b"}]', "without NUL"),
        ('[{"type": "string", "column": "name", "operator": "=", "value": "\\ud800"}]', "filter must be a JSON list"),
        ("[" + ",".join(['{"type": "null", "column": "name", "operator": "is null"}'] * 51) + "]", "at most 50"),
    ],
)
def test_a_broken_filter_names_the_condition_and_the_rule(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        parse_filter(text, "traces")


def test_operators_and_blank_filters() -> None:
    assert (
        parse_filter(None, "traces") == [] and parse_filter("  ", "traces") == [] and parse_filter("[]", "traces") == []
    )
    (condition,) = parse_filter(
        '[{"type": "stringOptions", "column": "name", "operator": "ANY OF", "value": "x"}]', "traces"
    )
    assert condition.operator == "any of" and condition.value == ["x"]
    with pytest.raises(ValueError, match="column must be one of"):
        parse_filter('[{"type": "string", "column": "traceName", "operator": "=", "value": "x"}]', "traces")


def test_trace_based_conditions_on_observations_use_the_keys(dialect: str, seeded: Any, project: Any) -> None:
    """Observations are keyed by their trace: a condition naming traces must not walk the project.
    (Conditions on other trace columns, like the userId parameter, read the project's newest first.)"""
    if dialect != "sqlite":
        pytest.skip("PostgreSQL plans tables of a few rows with sequential scans whatever the indexes")
    from tests.server.storage.test_query_plans import captured, unindexed

    def unkeyed(statements: list[Any]) -> list[str]:
        # a row-value IN over several traces reaches their creation times in the key: keyed enough
        return [line for line in unindexed(seeded, statements) if "trace_created_at_us=?" not in line]

    for condition in (
        c("string", "traceId", "=", T1),
        c("stringOptions", "traceId", "any of", [T1, T2]),
    ):
        with captured(seeded) as statements:
            observations_matching(seeded, project.id, condition)
        assert unkeyed(statements) == [], condition
