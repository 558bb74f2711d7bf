"""What ingestion accepts, every read of the API can write back (DESIGN §8), and no span is
dropped for its payload.

JSON nested deeper than readers can render (``json_values.MAX_DEPTH``) is kept as its text;
a completion start time outside the years 1-9999 (UTC) is dropped, the span kept. A dataset
item copied from such a trace is stored as readers see the trace, in one transaction with its
answer.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from sqlalchemy import func, select

from interactiveai.server.json_values import MAX_DEPTH
from interactiveai.server.storage import schema
from tests.server.api.routes_table import API
from tests.server.ingest.conftest import Ingest
from tests.server.ingest.otlp_builders import SpanSpec, span_id, trace_id

DEEP = "[" * 300 + "]" * 300
AT_LIMIT = "[" * MAX_DEPTH + "]" * MAX_DEPTH
OVER_LIMIT = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)
JSON_KEYS = [
    "interactiveai.observation.input",
    "interactiveai.observation.output",
    "interactiveai.observation.model.parameters",
    "interactiveai.observation.metadata.k",
    "interactiveai.observation.usage_details",
    "interactiveai.observation.cost_details",
    "interactiveai.trace.input",
    "interactiveai.trace.output",
    "interactiveai.trace.metadata.k",
    "langfuse.observation.metadata",
    "langfuse.trace.metadata",
    "input.value",
    "gen_ai.prompt.0.content",
    "llm.input_messages.0.message.content",
]
READS = ["/traces", "/traces?fields=core,io", "/observations", "/sessions", "/scores", "/metrics/daily"]


@pytest.fixture
def ingest(client: Any, engine: Any, project: Any) -> Ingest:
    return Ingest(client, engine, project)


def _reads_answer(client: Any, project: Any, trace: str) -> None:
    for path in [*READS, f"/traces/{trace}"]:
        response = client.get(API + path, headers=project.headers)
        assert response.status_code == 200, f"{path}: {response.text[:300]}"
    for obs in client.get(f"{API}/traces/{trace}", headers=project.headers).json()["observations"]:
        assert client.get(f"{API}/observations/{obs['id']}", headers=project.headers).status_code == 200


@pytest.mark.parametrize("key", JSON_KEYS)
@pytest.mark.parametrize("value", [DEEP, OVER_LIMIT, '{"a": ' + DEEP + ', "b": 1}', "[" * 2000 + "]" * 2000])
def test_deep_json_on_every_key_is_kept_and_readable(
    client: Any, project: Any, ingest: Ingest, key: str, value: str
) -> None:
    tid = trace_id()
    for scope in ("interactiveai", "third.party"):
        ingest.ok([SpanSpec(tid, span_id(), scope, attributes={key: value})], scope=scope)
    assert len(ingest.observations(tid)) == 2
    _reads_answer(client, project, tid)


def test_the_deep_input_reads_back_as_its_text(client: Any, project: Any, ingest: Ingest) -> None:
    tid, sid = trace_id(), span_id()
    attributes = {
        "interactiveai.observation.input": DEEP,
        "interactiveai.observation.output": AT_LIMIT,
        "interactiveai.observation.metadata.deep": DEEP,
        "interactiveai.observation.metadata.fine": '{"x": 1}',
    }
    ingest.ok([SpanSpec(tid, sid, "deep", attributes=attributes)])
    obs = client.get(f"{API}/observations/{sid}", headers=project.headers).json()
    assert obs["input"] == DEEP  # the text received, as a string
    assert obs["output"] == orjson.loads(AT_LIMIT)  # at the limit: still a tree
    assert obs["metadata"]["deep"] == DEEP and obs["metadata"]["fine"] == {"x": 1}
    stored = ingest.observation(tid, sid)
    assert orjson.loads(stored["input"]) == DEEP


def test_deep_native_values_keep_their_deep_part_as_text(client: Any, project: Any, ingest: Ingest) -> None:
    tid, sid = trace_id(), span_id()
    native: Any = "bottom"
    for _ in range(80):  # each level is three in OTLP/JSON: the test's encoder stays under orjson's limit
        native = [native]
    ingest.ok([SpanSpec(tid, sid, "native", attributes={"interactiveai.observation.input": native})], fmt="json")
    obs = client.get(f"{API}/observations/{sid}", headers=project.headers).json()
    assert isinstance(obs["input"], str) and obs["input"].startswith("[[[") and "bottom" in obs["input"]
    _reads_answer(client, project, tid)


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        ("9999-12-31T23:59:59-23:59", None),
        ("0001-01-01T00:00:00+00:01", None),
        ("10000-01-01T00:00:00Z", None),
        ('"9999-12-31T23:59:59-23:59"', None),
        ("9999-12-31T23:59:59Z", "9999-12-31T23:59:59.000Z"),
        ("2026-01-01T00:00:00.5+01:00", "2025-12-31T23:00:00.500Z"),
    ],
)
def test_completion_start_times_outside_the_range_are_dropped(
    client: Any, project: Any, ingest: Ingest, value: str, kept: str | None
) -> None:
    tid, sid = trace_id(), span_id()
    attributes = {
        "interactiveai.observation.completion_start_time": value,
        "interactiveai.observation.type": "generation",
    }
    ingest.ok([SpanSpec(tid, sid, "gen", attributes=attributes)])
    obs = client.get(f"{API}/observations/{sid}", headers=project.headers).json()
    assert obs["completionStartTime"] == kept
    _reads_answer(client, project, tid)


def test_an_item_copied_from_a_deep_trace_is_readable(client: Any, engine: Any, project: Any, ingest: Ingest) -> None:
    tid, sid = trace_id(), span_id()
    attributes = {"interactiveai.observation.input": DEEP, "interactiveai.observation.output": '{"a": ' + DEEP + "}"}
    ingest.ok([SpanSpec(tid, sid, "root", attributes=attributes)])
    h = project.headers
    assert client.post(f"{API}/datasets", json={"name": "ds"}, headers=h).status_code == 200
    for body in (
        {"datasetName": "ds", "sourceTraceId": tid},
        {"datasetName": "ds", "sourceTraceId": tid, "sourceObservationId": sid},
    ):
        response = client.post(f"{API}/dataset-items", json=body, headers=h)
        assert response.status_code == 200, response.text
        item = response.json()
        assert item["input"] == DEEP and item["expectedOutput"] == {"a": DEEP}
    for path in ("/dataset-items?datasetName=ds", "/datasets/ds", "/datasets", "/v2/datasets/ds"):
        assert client.get(API + path, headers=h).status_code == 200, path


def test_an_item_copied_from_a_row_of_an_older_version_is_stored_bounded(
    client: Any, engine: Any, project: Any, ingest: Ingest
) -> None:
    tid = trace_id()
    ingest.ok([SpanSpec(tid, span_id(), "root", attributes={"interactiveai.observation.input": "1"})])
    with engine.begin() as conn:  # as an older version stored it: the raw text, too deep to write back
        conn.execute(schema.traces.update().where(schema.traces.c.id == tid).values(input=DEEP, output=DEEP))
    h = project.headers
    client.post(f"{API}/datasets", json={"name": "ds"}, headers=h)
    item = client.post(f"{API}/dataset-items", json={"datasetName": "ds", "sourceTraceId": tid}, headers=h).json()
    with engine.connect() as conn:
        stored = conn.execute(select(schema.dataset_items.c.input).where(schema.dataset_items.c.id == item["id"]))
        assert orjson.loads(stored.scalar_one()) == DEEP


def test_a_refused_copy_stores_nothing(client: Any, engine: Any, project: Any, ingest: Ingest) -> None:
    tid = trace_id()
    ingest.ok([SpanSpec(tid, span_id(), "root", attributes={"interactiveai.observation.input": DEEP})])
    h = project.headers
    client.post(f"{API}/datasets", json={"name": "ds"}, headers=h)
    refused = [
        {"datasetName": "ds", "sourceTraceId": tid, "sourceObservationId": "0000000000000000"},
        {"datasetName": "ds", "sourceTraceId": tid, "metadata": _nested(MAX_DEPTH + 1)},
        {"datasetName": "ds", "sourceTraceId": tid, "status": "GONE"},
        {"datasetName": "nope", "sourceTraceId": tid},
    ]
    for body in refused:
        response = client.post(f"{API}/dataset-items", json=body, headers=h)
        assert response.status_code in (400, 404), response.text
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema.dataset_items)).scalar_one() == 0


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


def test_ids_with_slashes_read_back(client: Any, project: Any, ingest: Ingest) -> None:
    """A session id or a score id may hold "/" (sent URL-encoded): its detail route still finds it."""
    tid = trace_id()
    ingest.ok([SpanSpec(tid, span_id(), "root", attributes={"session.id": "user/1/chat"})])
    h = project.headers
    assert client.post(f"{API}/scores", json={"id": "run/7", "traceId": tid, "name": "n", "value": 1}, headers=h)
    for path in ("/sessions/user%2F1%2Fchat", "/scores/run%2F7", "/v2/scores/run%2F7"):
        assert client.get(API + path, headers=h).status_code == 200, path
    assert client.delete(f"{API}/scores/run%2F7", headers=h).status_code == 200
    assert client.get(f"{API}/scores/run%2F7", headers=h).status_code == 404
