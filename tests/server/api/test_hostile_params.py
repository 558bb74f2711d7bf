"""Hostile query and path parameters on every operation of the REST API: a clear 400, never a 5xx.

The operations and their parameters come from the app's OpenAPI document (routes_table.py):
integers beyond 64 bits, NUL characters (PostgreSQL refuses them in text), times outside the
years 1-9999, non-finite numbers. Every case runs on both engines.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import orjson
import pytest

from interactiveai.server.query.pagination import MAX_PAGE
from tests.server.api.routes_table import API, Operation, Param, operations
from tests.server.query.seed import add_observation, add_score, add_trace, obs_id, trace_id

MODELS = f"{API}/models"  # the costs module's router: see test_models_routes_refuse_them_too
HUGE_INTEGERS = [str(2**64), str(2**63), str(10**30), str(-(2**64)), "9" * 5000]
OUT_OF_RANGE_TIMES = ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+00:01", "10000-01-01T00:00:00Z"]
NON_FINITE = ["nan", "NaN", "inf", "-inf", "Infinity", "1e400"]


@pytest.fixture
def seeded(client: Any, engine: Any, project: Any) -> dict[str, str]:
    """One of everything, so that every path parameter names something real."""
    add_trace(engine, project.id, trace_id(1), session_id="sess-1", user_id="user-1")
    add_observation(engine, project.id, trace_id(1), obs_id(1))
    add_score(engine, project.id, "score-1", trace_id=trace_id(1))
    h = project.headers
    config = client.post(f"{API}/score-configs", json={"name": "q", "dataType": "NUMERIC"}, headers=h).json()
    dataset = client.post(f"{API}/datasets", json={"name": "ds"}, headers=h).json()
    item = client.post(f"{API}/dataset-items", json={"datasetName": "ds", "input": 1}, headers=h).json()
    run_item = {"runName": "run", "datasetItemId": item["id"], "traceId": trace_id(1)}
    assert client.post(f"{API}/dataset-run-items", json=run_item, headers=h).status_code == 200
    queue = client.post(f"{API}/annotation-queues", json={"name": "review"}, headers=h).json()
    target = {"objectType": "TRACE", "objectId": trace_id(1)}
    queue_item = client.post(f"{API}/annotation-queues/{queue['id']}/items", json=target, headers=h).json()
    comment = client.post(f"{API}/comments", json={**target, "content": "look"}, headers=h).json()
    judge = {"name": "judge", "baseUrl": "http://127.0.0.1:9/v1", "model": "m"}
    connection = client.post(f"{API}/llm-connections", json=judge, headers=h).json()
    rated = {
        "name": "rated",
        "connectionId": connection["id"],
        "prompt": "{{output}}",
        "score": {"name": "s", "dataType": "BOOLEAN"},
        "enabled": False,
    }
    evaluator = client.post(f"{API}/evaluators", json=rated, headers=h).json()
    return {
        "connectionId": connection["id"],
        "evaluatorId": evaluator["id"],
        "traceId": trace_id(1),
        "observationId": obs_id(1),
        "sessionId": "sess-1",
        "scoreId": "score-1",
        "configId": config["id"],
        "datasetName": "ds",
        "runName": "run",
        "itemId": item["id"],
        "model_id": "no-such-model",
        "datasetId": dataset["id"],
        "queueId": queue["id"],
        "queueItemId": queue_item["id"],
        "commentId": comment["id"],
        "fromStartTime": "2026-01-01T00:00:00Z",  # GET /experiments and /experiment-items require it
        # GET /metrics: its required JSON query
        "query": orjson.dumps(
            {"view": "traces", "fromTimestamp": "2026-01-01T00:00:00Z", "toTimestamp": "2026-01-02T00:00:00Z"}
        ).decode(),
    }


def _ops(client: Any, methods: tuple[str, ...] = ("get",)) -> list[Operation]:
    return [op for op in operations(client) if op.method in methods and not op.path.startswith(MODELS)]


def _base_query(op: Operation, seeded: dict[str, str]) -> dict[str, str]:
    """The operation's required query parameters, with values that exist."""
    return {p.name: seeded[p.name] for p in op.query if p.required}


def _get(client: Any, project: Any, op: Operation, seeded: dict[str, str], params: dict[str, str]) -> Any:
    url = op.url({k: quote(v, safe="") for k, v in seeded.items()})
    pairs = {**_base_query(op, seeded), **params}.items()
    query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)
    return client.request(op.method.upper(), url + ("?" + query if query else ""), headers=project.headers)


def _failures(cases: list[tuple[str, Any]], expected: int = 400) -> list[str]:
    return [f"{what} -> {r.status_code}: {r.text[:200]}" for what, r in cases if r.status_code != expected]


def _params(client: Any, kinds: tuple[str, ...]) -> list[tuple[Operation, Param]]:
    return [(op, p) for op in _ops(client) for p in op.query if p.kind in kinds]


def test_the_table_is_not_empty(client: Any, seeded: dict[str, str]) -> None:
    ops = _ops(client)
    assert len(ops) >= 20
    assert len([p for op in ops for p in op.query if p.name == "page"]) >= 11
    assert len(_params(client, ("string", "array"))) >= 40


def test_integers_beyond_64_bits_are_400(client: Any, project: Any, seeded: dict[str, str]) -> None:
    cases = [
        (f"{op} {p.name}={value[:30]}", _get(client, project, op, seeded, {p.name: value}))
        for op, p in _params(client, ("integer",))
        for value in HUGE_INTEGERS
    ]
    assert len(cases) >= 2 * 11 * len(HUGE_INTEGERS)
    assert not _failures(cases), "\n".join(_failures(cases))


def test_the_last_page_allowed_answers_200(client: Any, project: Any, seeded: dict[str, str]) -> None:
    cases = [
        (f"{op} page={MAX_PAGE}", _get(client, project, op, seeded, {"page": str(MAX_PAGE)}))
        for op, p in _params(client, ("integer",))
        if p.name == "page"
    ]
    assert not _failures(cases, 200), "\n".join(_failures(cases, 200))
    page = _get(client, project, next(op for op, _ in _params(client, ("integer",))), seeded, {"page": "2147483648"})
    assert page.status_code == 400 and str(MAX_PAGE) in page.json()["message"]


def test_a_nul_in_any_text_parameter_is_400(client: Any, project: Any, seeded: dict[str, str]) -> None:
    cases = []
    for op, p in _params(client, ("string", "array")):
        base = seeded.get(p.name, "x")
        for value in ("\x00", f"{base}\x00", f"a\x00{base}"):
            cases.append((f"{op} {p.name}={value!r}", _get(client, project, op, seeded, {p.name: value})))
    assert not _failures(cases), "\n".join(_failures(cases))
    response = cases[0][1]
    assert "NUL" in response.json()["message"]


def test_a_nul_in_a_parameter_name_is_400(client: Any, project: Any, seeded: dict[str, str]) -> None:
    cases = [(str(op), _get(client, project, op, seeded, {"na\x00me": "x"})) for op in _ops(client)]
    assert not _failures(cases), "\n".join(_failures(cases))


def test_a_nul_in_any_path_parameter_is_400(client: Any, project: Any, seeded: dict[str, str]) -> None:
    cases = []
    for op in _ops(client, ("get", "post", "patch", "delete")):
        for name in op.path_params:
            for value in ("\x00", seeded[name] + "\x00"):
                values = {k: quote(v, safe="") for k, v in {**seeded, name: value}.items()}
                response = client.request(op.method.upper(), op.url(values), headers=project.headers)
                cases.append((f"{op} {name}={value!r}", response))
    assert len(cases) >= 20
    assert not _failures(cases), "\n".join(_failures(cases))


def test_times_outside_years_1_to_9999_are_400(client: Any, project: Any, seeded: dict[str, str]) -> None:
    times = [(op, p) for op, p in _params(client, ("string",)) if p.is_time]
    assert len(times) >= 10
    cases = [
        (f"{op} {p.name}={value}", _get(client, project, op, seeded, {p.name: value}))
        for op, p in times
        for value in OUT_OF_RANGE_TIMES
    ]
    assert not _failures(cases), "\n".join(_failures(cases))
    assert "9999-12-31T23:59:59Z" in cases[0][1].json()["message"]


def test_times_at_the_ends_of_the_range_are_accepted(client: Any, project: Any, seeded: dict[str, str]) -> None:
    cases = []
    for op, p in _params(client, ("string",)):
        if not p.is_time:
            continue
        for value in ("9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59+23:59", "0001-01-01T00:00:00Z"):
            params = {p.name: value}
            if op.path.endswith("/metrics/daily"):  # a window of at most a year, ending after it starts
                params = {"fromTimestamp": "9999-01-01T00:00:00Z", "toTimestamp": "9999-12-31T23:59:59Z"}
                if value.startswith("0001"):
                    params = {"fromTimestamp": "0001-01-01T00:00:00Z", "toTimestamp": "0001-06-01T00:00:00Z"}
            cases.append((f"{op} {params}", _get(client, project, op, seeded, params)))
    assert not _failures(cases, 200), "\n".join(_failures(cases, 200))


def test_non_finite_numbers_are_400(client: Any, project: Any, seeded: dict[str, str]) -> None:
    numbers = _params(client, ("number",))
    assert numbers, "the scores list filters by a numeric value"
    cases = [
        (f"{op} {p.name}={value}", _get(client, project, op, seeded, {p.name: value}))
        for op, p in numbers
        for value in NON_FINITE
    ]
    assert not _failures(cases), "\n".join(_failures(cases))


@pytest.mark.parametrize(
    "value",
    [2**63, 2**64 - 1, "a\x00b", ["ok", "a\x00b"], [1, 2**64 - 1]],
    ids=["2^63", "2^64-1", "nul", "nul-in-list", "huge-in-list"],
)
def test_metrics_query_filter_values_are_checked(client: Any, project: Any, value: Any) -> None:
    """(Wider integers are read as floats by the JSON parser, and compare as floats.)"""
    operator = "any of" if isinstance(value, list) else "="
    column = "latency" if isinstance(value, int) else "name"
    if isinstance(value, list):
        column = "name" if isinstance(value[0], str) else "latency"
    query = {
        "view": "traces",
        "fromTimestamp": "2026-01-01T00:00:00Z",
        "toTimestamp": "2026-01-02T00:00:00Z",
        "filters": [{"column": column, "operator": operator, "value": value}],
    }
    response = client.get(f"{API}/metrics", params={"query": orjson.dumps(query).decode()}, headers=project.headers)
    assert response.status_code == 400, response.text
    assert "filter" in response.json()["message"]


def test_an_ordinary_query_still_answers(client: Any, project: Any, seeded: dict[str, str]) -> None:
    """The guards refuse only what they name: every GET with its required parameters answers 200 or 404."""
    for op in _ops(client):
        if op.path.endswith("/metrics"):
            continue
        response = _get(client, project, op, seeded, {})
        assert response.status_code in (200, 404), f"{op}: {response.status_code} {response.text[:200]}"
    at = _get(client, project, next(o for o in _ops(client) if o.path == f"{API}/scores"), seeded, {"value": "1.5"})
    assert at.status_code == 200


def test_models_routes_refuse_them_too(client: Any, project: Any) -> None:
    for url in (f"{MODELS}?page={2**64}", f"{MODELS}/%00", f"{MODELS}?page=1&x=%00"):
        response = client.get(url, headers=project.headers)
        assert response.status_code == 400, f"{url}: {response.status_code}"
