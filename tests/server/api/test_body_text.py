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


def _send(client: Any, project: Any, method: str, path: str, body: Any, config_id: str = "x") -> Any:
    text = orjson.dumps(body).replace(SURROGATE.encode(), b"\\ud800")
    headers = {**project.headers, "Content-Type": "application/json"}
    return client.request(method, API + path.replace("/x", f"/{config_id}"), content=text, headers=headers)


@pytest.fixture
def config_id(client: Any, project: Any) -> str:
    """What the samples refer to: a dataset, an item, a config (its id stands for ``x``)."""
    for method, path in (("POST", "/datasets"), ("POST", "/dataset-items")):
        assert _send(client, project, method, path, SAMPLES[(method, path)]).status_code == 200
    response = _send(client, project, "POST", "/score-configs", SAMPLES[("POST", "/score-configs")])
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def test_every_json_write_has_a_sample(client: Any) -> None:
    writes = {(m, p.removeprefix(API)) for m, p in body_routes(client) if p.startswith(API) and "/otel/" not in p}
    assert writes - SKIPPED == set(SAMPLES)


@pytest.mark.parametrize("route", list(SAMPLES), ids=[f"{m} {p}" for m, p in SAMPLES])
def test_every_string_refuses_bad_text(client: Any, project: Any, config_id: str, route: tuple[str, str]) -> None:
    method, path = route
    sample = SAMPLES[route]
    assert _send(client, project, method, path, sample, config_id).status_code == 200
    problems = []
    for leaf in _leaves(sample):
        for bad in (NUL, SURROGATE, "\x00", HUGE):
            body = _replaced(sample, leaf, bad)
            response = _send(client, project, method, path, body, config_id)
            must_refuse = bad != HUGE and not (bad != SURROGATE and leaf[0] in JSON_VALUES)
            if response.status_code >= 500 or (must_refuse and response.status_code == 200):
                problems.append(f"{'.'.join(map(str, leaf))}={bad[:8]!r}: {response.status_code} {response.text[:200]}")
    assert not problems, "\n".join(problems)
