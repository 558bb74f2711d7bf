"""Fuzzing fixtures: the budget, the app served over real HTTP, a UI member, seeded projects.

The budget is ``INTERACTIVEAI_FUZZ_EXAMPLES`` (default ``DEFAULT_EXAMPLES``, sized for CI): the
Schemathesis examples per API operation, and the base of the OTLP example counts. Raise it for a
deep local run, e.g. ``INTERACTIVEAI_FUZZ_EXAMPLES=500 pytest -m fuzz``; the per-test timeouts
grow with it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.conftest import Project
from tests.server.ingest.otlp_builders import BASE_NS, ResourceSpec, SpanSpec, encode_protobuf, realistic_trace
from tests.support.postgres import free_port

DEFAULT_EXAMPLES = 25
UI_PASSWORD = "fuzz password 123"


def fuzz_examples() -> int:
    raw = os.environ.get("INTERACTIVEAI_FUZZ_EXAMPLES", "")
    return max(int(raw), 1) if raw.strip() else DEFAULT_EXAMPLES


def fuzz_timeout(base_seconds: int) -> int:
    """A per-test timeout that grows with the budget: ``base_seconds`` at the CI default."""
    return int(base_seconds * max(1.0, fuzz_examples() / DEFAULT_EXAMPLES))


class _ServerErrors(logging.Handler):
    """Keeps the tracebacks the server logs for unhandled exceptions (what a 500 hides)."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + "".join(logging.Formatter().formatException(record.exc_info))
        self.records.append(text)


def summarize_tracebacks(records: list[str], limit: int = 30) -> str:
    """Distinct server exceptions: the exception line and the deepest frame in our code, with counts."""
    found: dict[tuple[str, str], int] = {}
    for text in records:
        lines = text.strip().splitlines()
        # the exception line: the last unindented "Name: message" line (SQLAlchemy appends a link after it)
        raised = [line for line in lines if re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Warning|Violation)\b", line)]
        last = raised[-1] if raised else (lines[-1] if lines else "?")
        frames = [line.strip() for line in lines if line.strip().startswith("File ") and "/interactiveai/" in line]
        where = frames[-1] if frames else "(no frame in interactiveai)"
        found[(last[:300], where)] = found.get((last[:300], where), 0) + 1
    out = [f"server exceptions logged: {len(records)}, {len(found)} distinct"]
    for (last, where), count in sorted(found.items(), key=lambda kv: -kv[1])[:limit]:
        out.append(f"  x{count} {last}\n      at {where}")
    return "\n".join(out)


@dataclass
class Served:
    """The ``app`` fixture behind a real uvicorn on 127.0.0.1, as ``interactiveai server`` runs it."""

    url: str
    errors: list[str] = field(default_factory=list)

    def tracebacks(self) -> str:
        return summarize_tracebacks(self.errors)


@pytest.fixture
def served(app: Any) -> Iterator[Served]:
    """Serves ``app`` (its lifespan included) in a thread; stops it and its ingest writer afterwards.

    Server exceptions are collected (``Served.errors``) rather than logged: a fuzz run may log
    thousands. Do not use together with the ``client`` fixture: each would run the app's lifespan.
    """
    import uvicorn

    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", access_log=False)
    server = uvicorn.Server(config)
    handler = _ServerErrors()
    logger = logging.getLogger("uvicorn.error")
    propagate = logger.propagate
    thread = threading.Thread(target=server.run, name="fuzz-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the fuzz server did not start")
        time.sleep(0.02)
    # after start-up: uvicorn configures its loggers when it starts
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield Served(f"http://127.0.0.1:{port}", handler.records)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        logger.removeHandler(handler)
        logger.propagate = propagate


@pytest.fixture
def ui_member(engine: Any, project: Project) -> tuple[str, str]:
    """A user who is a member of ``project``: (email, password) for the UI sweep."""
    from interactiveai.server.tenancy import add_membership, create_user

    user_id = create_user(engine, "fuzz@example.com", UI_PASSWORD, name="Fuzz Member")
    add_membership(engine, user_id, project.id)
    return "fuzz@example.com", UI_PASSWORD


@dataclass
class Seeded:
    """Ids of the rows ``seed_project`` created, one of each kind."""

    trace_id: str
    observation_id: str
    session_id: str
    score_id: str
    config_id: str
    dataset_name: str
    item_id: str
    run_name: str
    model_id: str
    comment_id: str
    queue_id: str
    queue_item_id: str
    spare_queue_id: str
    spare_queue_item_id: str
    spare_score_id: str
    connection_id: str
    evaluator_id: str


def _hex(seed: str, length: int) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:length]


def seed_spans(tag: str) -> list[SpanSpec]:
    """The SDK's realistic trace (agent, generations, tools), with ids derived from ``tag``: deterministic."""
    spans = realistic_trace(_hex(f"trace-{tag}", 32), start_ns=BASE_NS)
    ids = {span.span_id: _hex(f"span-{tag}-{i}", 16) for i, span in enumerate(spans)}
    for span in spans:
        span.span_id = ids[span.span_id]
        span.parent_id = ids.get(span.parent_id or "", None)
        if "session.id" in span.attributes:  # each project its own: isolation probes read the other's
            span.attributes["session.id"] = f"session-{tag}"
    return spans


def seed_project(http: Any, project: Project, tag: str) -> Seeded:
    """One row of every kind, created through the public API (ingestion included) as a client would."""
    api = "/api/public"
    spans = seed_spans(tag)
    root = spans[0]
    body = encode_protobuf([ResourceSpec(spans, {"service.name": "fuzz-seed"})])
    response = http.post(
        f"{api}/otel/v1/traces", content=body, headers={**project.headers, "Content-Type": "application/x-protobuf"}
    )
    assert response.status_code == 200, response.text

    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = http.post(f"{api}{path}", json=body, headers=project.headers)
        assert answer.status_code == 200, f"seeding {path}: {answer.status_code} {answer.text}"
        result: dict[str, Any] = answer.json()
        return result

    config = post("/score-configs", {"name": f"quality-{tag}", "dataType": "NUMERIC", "minValue": 0, "maxValue": 1})
    score = post(
        "/scores",
        {"traceId": root.trace_id, "name": f"quality-{tag}", "value": 0.5, "configId": config["id"], "comment": tag},
    )
    dataset = f"fuzz/{tag}"
    post("/datasets", {"name": dataset, "description": tag, "metadata": {"tag": tag}})
    item = post(
        "/dataset-items",
        {"datasetName": dataset, "input": {"q": tag}, "expectedOutput": "a", "sourceTraceId": root.trace_id},
    )
    post("/dataset-run-items", {"runName": f"run-{tag}", "datasetItemId": item["id"], "traceId": root.trace_id})
    model = post(
        "/models",
        {"modelName": f"model-{tag}", "matchPattern": f"(?i)^model-{tag}$", "unit": "TOKENS", "inputPrice": 1e-6},
    )
    target = {"objectType": "TRACE", "objectId": root.trace_id}
    comment = post("/comments", {**target, "content": f"seeded {tag}"})
    queue = post("/annotation-queues", {"name": f"queue-{tag}", "scoreConfigIds": [config["id"]]})
    queue_item = post(f"/annotation-queues/{queue['id']}/items", target)
    # a session's score, which deleting the seeded trace does not take: DELETE /scores/{scoreId} names it
    spare_score = post("/scores", {"sessionId": f"session-{tag}", "name": f"session-quality-{tag}", "value": 1})
    # a second queue whose item only DELETE .../items/{queueItemId} names: deleting the queue
    # above (DELETE /annotation-queues/{queueId}) takes its items with it
    spare = post("/annotation-queues", {"name": f"queue-{tag}-spare"})
    spare_item = post(f"/annotation-queues/{spare['id']}/items", target)
    # a judge that never answers (port 9), disabled so no worker writes on its own during the fuzz
    connection = post("/llm-connections", {"name": f"judge-{tag}", "baseUrl": "http://127.0.0.1:9/v1", "model": "m"})
    evaluator = post(
        "/evaluators",
        {
            "name": f"evaluator-{tag}",
            "connectionId": connection["id"],
            "prompt": "{{output}}",
            "score": {"name": f"judged-{tag}", "dataType": "BOOLEAN"},
            "enabled": False,
        },
    )
    return Seeded(
        comment_id=comment["id"],
        queue_id=queue["id"],
        queue_item_id=queue_item["id"],
        spare_queue_id=spare["id"],
        spare_queue_item_id=spare_item["id"],
        spare_score_id=spare_score["id"],
        connection_id=connection["id"],
        evaluator_id=evaluator["id"],
        trace_id=root.trace_id,
        observation_id=spans[1].span_id,
        session_id=f"session-{tag}",
        score_id=score["id"],
        config_id=config["id"],
        dataset_name=dataset,
        item_id=item["id"],
        run_name=f"run-{tag}",
        model_id=model["id"],
    )
