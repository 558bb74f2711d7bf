"""An app whose evaluation worker runs fast (short poll, no scan lag, quick retries), a fake judge,
and helpers to send traces and wait for evaluations."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import orjson
import pytest
from cryptography.fernet import Fernet

from tests.conftest import Project
from tests.server.evals.fake_judge import FakeJudge, fake_judge

T = TypeVar("T")
FAST = {
    "eval_poll_ms": 50,
    "eval_scan_lag_ms": 300,  # > any commit of these tests: a trace is never passed over
    "eval_retry_ms": 50,
    "eval_timeout_ms": 500,
    "eval_max_attempts": 2,
    "rollup_refresh_ms": 0,
}
KEY = Fernet.generate_key().decode()


def make_app(engine: Any, data_dir: Path, **overrides: Any) -> Any:
    from interactiveai.server.app import create_app
    from interactiveai.server.settings import load_settings

    url = str(engine.url.render_as_string(hide_password=False))
    settings = load_settings(data_dir=data_dir, database_url=url, **{"encryption_key": KEY, **FAST, **overrides})
    return create_app(settings, engine=engine, first_start=False)


@pytest.fixture
def judge() -> Iterator[FakeJudge]:
    with fake_judge() as running:
        yield running


@pytest.fixture
def fast_client(engine: Any, tmp_path: Path) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    with TestClient(make_app(engine, tmp_path)) as client:
        yield client


def wait_for(check: Callable[[], T | None], timeout: float = 20.0, what: str = "condition") -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def send_span(
    client: Any,
    project: Project,
    trace_id: str,
    span_id: str,
    *,
    name: str = "qa",
    input: Any = "What is 2+2?",
    output: Any = "4",
    parent: str | None = None,
    tags: list[str] | None = None,
    span_type: str = "span",
) -> None:
    """One span of a trace through OTLP/JSON ingestion (a root span names the trace)."""

    def attr(key: str, value: Any) -> dict[str, Any]:
        return {"key": key, "value": {"stringValue": value if isinstance(value, str) else orjson.dumps(value).decode()}}

    now = time.time_ns()
    attributes = [
        attr("interactiveai.observation.type", span_type),
        attr("interactiveai.observation.input", input),
        attr("interactiveai.observation.output", output),
    ]
    if tags:
        attributes.append(
            {"key": "interactiveai.trace.tags", "value": {"arrayValue": {"values": [{"stringValue": t} for t in tags]}}}
        )
    span: dict[str, Any] = {
        "traceId": trace_id,
        "spanId": span_id,
        "name": name,
        "startTimeUnixNano": str(now - 1_000_000),
        "endTimeUnixNano": str(now),
        "attributes": attributes,
    }
    if parent:
        span["parentSpanId"] = parent
    export = {"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}
    response = client.post(
        "/api/public/otel/v1/traces",
        content=orjson.dumps(export),
        headers={**project.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text


def create_evaluator(client: Any, project: Project, judge: FakeJudge, **overrides: Any) -> dict[str, Any]:
    connection = client.post(
        "/api/public/llm-connections",
        json={
            "name": f"judge-{time.monotonic_ns()}",
            "baseUrl": judge.base_url,
            "model": "gpt-4o-mini",
            "apiKey": "sk-judge-secret-1234",
        },
        headers=project.headers,
    )
    assert connection.status_code == 200, connection.text
    body = {
        "name": f"helpfulness-{time.monotonic_ns()}",
        "connectionId": connection.json()["id"],
        "prompt": "Question: {{input}}\nAnswer: {{output}}\nRate the answer.",
        "score": {"name": "helpfulness", "dataType": "NUMERIC", "minValue": 0, "maxValue": 1},
        "filter": [{"type": "stringOptions", "column": "name", "operator": "any of", "value": ["qa"]}],
        "delaySeconds": 0.2,
        **overrides,
    }
    created = client.post("/api/public/evaluators", json=body, headers=project.headers)
    assert created.status_code == 200, created.text
    result: dict[str, Any] = created.json()
    return result


def jobs_of(client: Any, project: Project, evaluator_id: str, status: str | None = None) -> list[dict[str, Any]]:
    params = {"evaluatorId": evaluator_id, "limit": "100", **({"status": status} if status else {})}
    response = client.get("/api/public/evaluator-jobs", params=params, headers=project.headers)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def eval_scores(client: Any, project: Project, trace_id: str) -> list[dict[str, Any]]:
    response = client.get("/api/public/scores", params={"traceId": trace_id}, headers=project.headers)
    assert response.status_code == 200, response.text
    return [s for s in response.json()["data"] if s["source"] == "EVAL"]
