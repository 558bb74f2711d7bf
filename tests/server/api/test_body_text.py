"""Every string of every REST write body, NUL, lone surrogate or oversized: a 400, on both engines.

The bodies are walked leaf by leaf (list elements included), so a field that reaches SQL
without the write layer's checks (``writes/errors.py``) answers 500 on PostgreSQL here. Every
JSON write route of the OpenAPI document must have a sample below, so a new one is not missed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from tests.server.api.routes_table import API
from tests.server.api.test_request_bodies import body_routes

NUL = "a\x00b"
HUGE = "x" * 100_000
SURROGATE = "<<surrogate>>"  # replaced by the JSON escape \ud800 in the body's text

SAMPLES: dict[tuple[str, str], Any] = {
    ("POST", "/scores"): {"traceId": "t1", "name": "n", "value": "good", "comment": "c", "environment": "e"},
    ("POST", "/score-configs"): {"name": "c", "dataType": "CATEGORICAL", "categories": [{"label": "a", "value": 1}]},
    ("PATCH", "/score-configs/x"): {"description": "d", "categories": [{"label": "b", "value": 1}]},
    ("POST", "/datasets"): {"name": "ds", "description": "d", "metadata": {"k": "v"}},
    ("POST", "/v2/datasets"): {"name": "ds", "description": "d", "metadata": {"k": "v"}},
    ("POST", "/dataset-items"): {
        "datasetName": "ds",
        "id": "item",
        "input": "i",
        "expectedOutput": "o",
        "sourceTraceId": "t1",
    },
    ("POST", "/dataset-run-items"): {
        "runName": "run",
        "datasetItemId": "item",
        "traceId": "t1",
        "observationId": "o1",
        "runDescription": "d",
    },
    ("DELETE", "/traces"): {"traceIds": ["t1", "t2"]},
    # "@name" stands for the id of a stored row (``rows``), put in when the body is sent
    ("POST", "/comments"): {"objectType": "TRACE", "objectId": "@trace", "content": "c", "authorUserId": "u"},
    ("POST", "/annotation-queues"): {"name": "@fresh", "description": "d", "scoreConfigIds": ["@config"]},
    ("PATCH", "/annotation-queues/x"): {"name": "@fresh", "description": "d", "scoreConfigIds": ["@config"]},
    ("POST", "/annotation-queues/x/items"): {"objectType": "TRACE", "objectId": "@trace", "status": "PENDING"},
    ("PATCH", "/annotation-queues/x/items/x"): {"status": "COMPLETED"},
    ("POST", "/annotation-queues/x/assignments"): {"userId": "@member"},
    ("DELETE", "/annotation-queues/x/assignments"): {"userId": "@member"},
    ("POST", "/llm-connections"): {"name": "@fresh", "baseUrl": "http://127.0.0.1:9/v1", "model": "m", "apiKey": "k"},
    ("PATCH", "/llm-connections/x"): {"name": "@fresh", "model": "m2", "apiKey": "k2"},
    ("POST", "/evaluators"): {
        "name": "@fresh",
        "connectionId": "@connection",
        "prompt": "{{output}}",
        "score": {"name": "s", "dataType": "CATEGORICAL", "categories": ["good", "bad"]},
    },
    ("PATCH", "/evaluators/x"): {"name": "@fresh", "prompt": "Rate: {{output}}"},
}
# which stored row each "x" of a path names, in order
PATH_IDS = {
    "/score-configs/x": ["config"],
    "/annotation-queues/x": ["queue"],
    "/annotation-queues/x/items": ["queue"],
    "/annotation-queues/x/items/x": ["queue", "queue_item"],
    "/annotation-queues/x/assignments": ["queue"],
    "/llm-connections/x": ["connection"],
    "/evaluators/x": ["evaluator"],
}
JSON_VALUES = {"metadata", "input", "expectedOutput"}  # stored as JSON text, where NUL is "\u0000"
# /models: costs/routes.py, tested in tests/server/costs; /ingestion answers each event in its 207
# (NUL dropped from text or the event refused alone: tests/server/api/test_ingestion_batch.py)
SKIPPED = {("POST", "/models"), ("POST", "/ingestion")}


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, member in value.items():
            yield from _leaves(member, (*path, key))
    elif isinstance(value, list):
        for index, member in enumerate(value):
            yield from _leaves(member, (*path, index))
    elif isinstance(value, str):
        yield path


def _replaced(value: Any, path: tuple[Any, ...], new: str) -> Any:
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = _replaced(value[path[0]], path[1:], new)
    return copy


def _resolved(value: Any, rows: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _resolved(v, rows) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolved(v, rows) for v in value]
    if value == "@fresh":  # a name no other queue, connection or evaluator has
        rows["fresh"] = str(int(rows.get("fresh", "0")) + 1)
        return f"name {rows['fresh']}"
    return rows[value[1:]] if isinstance(value, str) and value.startswith("@") else value


def _send(client: Any, project: Any, method: str, path: str, body: Any, rows: dict[str, str] | None = None) -> Any:
    rows = rows if rows is not None else {}
    text = orjson.dumps(_resolved(body, rows)).replace(SURROGATE.encode(), b"\\ud800")
    headers = {**project.headers, "Content-Type": "application/json"}
    for kind in PATH_IDS.get(path, []):
        path = path.replace("/x", "/" + rows[kind], 1)
    return client.request(method, API + path, content=text, headers=headers)


@pytest.fixture
def rows(client: Any, engine: Any, project: Any) -> dict[str, str]:
    """What the samples refer to: a trace, a dataset, an item, a config, a queue with an item, a
    member, a model connection and an evaluator (their ids stand for ``x`` and ``@name``)."""
    from interactiveai.server.tenancy import add_membership, create_user
    from tests.server.query.seed import add_trace

    add_trace(engine, project.id, "t1")
    member = create_user(engine, "member@example.com", "correct horse battery")
    add_membership(engine, member, project.id, role="MEMBER")
    found: dict[str, str] = {"trace": "t1", "member": member}
    for method, path in (("POST", "/datasets"), ("POST", "/dataset-items")):
        assert _send(client, project, method, path, SAMPLES[(method, path)]).status_code == 200
    for kind, path, body in (
        ("config", "/score-configs", SAMPLES[("POST", "/score-configs")]),
        ("queue", "/annotation-queues", {"name": "rows"}),
        ("queue_item", "/annotation-queues/x/items", {"objectType": "TRACE", "objectId": "t1"}),
        ("connection", "/llm-connections", SAMPLES[("POST", "/llm-connections")]),
        ("evaluator", "/evaluators", SAMPLES[("POST", "/evaluators")]),
    ):
        response = _send(client, project, "POST", path, body, found)
        assert response.status_code == 200, response.text
        found[kind] = str(response.json()["id"])
    return found


def test_every_json_write_has_a_sample(client: Any) -> None:
    writes = {(m, p.removeprefix(API)) for m, p in body_routes(client) if p.startswith(API) and "/otel/" not in p}
    assert writes - SKIPPED == set(SAMPLES)


@pytest.mark.parametrize("route", list(SAMPLES), ids=[f"{m} {p}" for m, p in SAMPLES])
def test_every_string_refuses_bad_text(client: Any, project: Any, rows: dict[str, str], route: tuple[str, str]) -> None:
    method, path = route
    sample = SAMPLES[route]
    sent = _send(client, project, method, path, sample, rows)
    assert sent.status_code == 200, sent.text
    problems = []
    for leaf in _leaves(sample):
        for bad in (NUL, SURROGATE, "\x00", HUGE):
            body = _replaced(sample, leaf, bad)
            response = _send(client, project, method, path, body, rows)
            must_refuse = bad != HUGE and not (bad != SURROGATE and leaf[0] in JSON_VALUES)
            if response.status_code >= 500 or (must_refuse and response.status_code == 200):
                problems.append(f"{'.'.join(map(str, leaf))}={bad[:8]!r}: {response.status_code} {response.text[:200]}")
    assert not problems, "\n".join(problems)
