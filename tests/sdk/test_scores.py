"""Scores, auth_check and get_trace_url against a real loopback HTTP server."""

from __future__ import annotations

import base64
import datetime as dt
import time
from typing import Any

import pytest

from interactiveai import InteractiveAI
from interactiveai.sdk.export.sampling import is_trace_sampled

from .conftest import Memory, RecordingServer

SCORES = "/api/public/scores"
PROJECTS = "/api/public/projects"


@pytest.fixture
def scored(make_client: Any, http_server: RecordingServer) -> InteractiveAI:
    client: InteractiveAI = make_client(host=http_server.url, environment="test-env")
    return client


def _sent(server: RecordingServer) -> list[dict[str, Any]]:
    return [score for request in server.to(SCORES) for score in request.json()]


def test_create_score_posts_a_json_list(scored: InteractiveAI, http_server: RecordingServer) -> None:
    tid = "ab" * 16
    when = dt.datetime(2025, 5, 1, 12, 0, tzinfo=dt.UTC)
    scored.create_score(
        name="quality",
        value=0.9,
        trace_id=tid,
        observation_id="cd" * 8,
        score_id="s-1",
        data_type="NUMERIC",
        comment="good",
        config_id="cfg",
        metadata={"by": "judge"},
        timestamp=when,
    )
    scored.create_score(name="session-score", value="great", session_id="sess", data_type="CATEGORICAL")
    scored.create_score(name="run-score", value=True, dataset_run_id="run-1")
    assert scored.flush(timeout=5)
    requests = http_server.to(SCORES)
    assert requests and all(r.method == "POST" for r in requests)
    assert isinstance(requests[0].json(), list)
    token = base64.b64encode(b"pk-test:sk-test").decode()
    assert requests[0].headers["authorization"] == f"Basic {token}"
    assert requests[0].headers["x-interactiveai-public-key"] == "pk-test"
    sent = {s["name"]: s for s in _sent(http_server)}
    assert sent["quality"] == {
        "id": "s-1",
        "name": "quality",
        "value": 0.9,
        "traceId": tid,
        "observationId": "cd" * 8,
        "dataType": "NUMERIC",
        "comment": "good",
        "configId": "cfg",
        "metadata": {"by": "judge"},
        "environment": "test-env",
        "timestamp": "2025-05-01T12:00:00Z",
    }
    assert sent["session-score"]["sessionId"] == "sess" and sent["session-score"]["value"] == "great"
    assert sent["run-score"]["datasetRunId"] == "run-1"
    assert sent["run-score"]["value"] == 1.0 and sent["run-score"]["dataType"] == "BOOLEAN"
    assert len(sent["session-score"]["id"]) == 16


def test_observation_and_current_scores(scored: InteractiveAI, http_server: RecordingServer) -> None:
    with scored.start_as_current_span(name="s") as span:
        span.score(name="obs", value=1)
        span.score_trace(name="trace", value=2)
        scored.score_current_span(name="cur-span", value=3)
        scored.score_current_trace(name="cur-trace", value=4, comment="c")
    scored.score_current_span(name="outside", value=5)  # no active span: warned, dropped
    assert scored.flush(timeout=5)
    sent = {s["name"]: s for s in _sent(http_server)}
    assert set(sent) == {"obs", "trace", "cur-span", "cur-trace"}
    assert sent["obs"]["observationId"] == span.id and sent["obs"]["traceId"] == span.trace_id
    assert "observationId" not in sent["trace"] and sent["trace"]["traceId"] == span.trace_id
    assert sent["cur-span"]["observationId"] == span.id
    assert "observationId" not in sent["cur-trace"] and sent["cur-trace"]["comment"] == "c"


def test_retries_on_5xx_and_429(scored: InteractiveAI, http_server: RecordingServer) -> None:
    http_server.responses[SCORES] = [(503, {}), (429, {})]
    scored.create_score(name="retry-me", value=1, session_id="s")
    assert scored.flush(timeout=10)
    assert len(http_server.to(SCORES)) == 3
    assert [s["name"] for s in _sent(http_server)] == ["retry-me"] * 3


def test_4xx_is_not_retried_and_fails_the_flush(
    scored: InteractiveAI, http_server: RecordingServer, caplog: pytest.LogCaptureFixture
) -> None:
    http_server.responses[SCORES] = [(400, {"message": "bad score"})]
    scored.create_score(name="bad", value=1, session_id="s")
    assert scored.flush(timeout=5) is False  # nothing left to send, but the score was refused
    assert len(http_server.to(SCORES)) == 1
    assert "bad score" in caplog.text
    assert scored.flush(timeout=5) is True  # nothing dropped since the previous flush


def test_a_partly_refused_batch_fails_the_flush_and_says_why(
    scored: InteractiveAI, http_server: RecordingServer, caplog: pytest.LogCaptureFixture
) -> None:
    """207: the server wrote some scores of the list and refused others; those are lost, so the
    flush says so, and the log names the reason (not retried: each refusal is a 4xx)."""
    errors = [{"index": 1, "status": 400, "message": "value is not one of the config's categories"}]
    http_server.responses[SCORES] = [(207, {"accepted": 1, "rejected": 1, "errors": errors, "data": []})]
    scored.create_score(name="good", value=1, session_id="s")
    scored.create_score(name="bad", value="nope", session_id="s")
    assert scored.flush(timeout=5) is False
    assert len(http_server.to(SCORES)) == 1
    assert "1 of 2 score(s) not accepted" in caplog.text and "categories" in caplog.text
    assert scored.flush(timeout=5) is True


def test_sampled_out_traces_drop_their_scores(make_client: Any, http_server: RecordingServer) -> None:
    client = make_client(host=http_server.url, sample_rate=0.5)
    ids = [InteractiveAI.create_trace_id(seed=f"t{i}") for i in range(40)]
    for tid in ids:
        client.create_score(name=tid, value=1, trace_id=tid)
    client.create_score(name="session", value=1, session_id="s")  # no trace: always kept
    assert client.flush(timeout=5)
    names = {s["name"] for s in _sent(http_server)}
    assert names == {tid for tid in ids if is_trace_sampled(int(tid, 16), 0.5)} | {"session"}


def test_sample_rate_zero_drops_trace_scores(make_client: Any, http_server: RecordingServer) -> None:
    client = make_client(host=http_server.url, sample_rate=0.0)
    client.create_score(name="x", value=1, trace_id="ab" * 16)
    assert client.flush(timeout=2)
    assert http_server.to(SCORES) == []


def test_bounded_queue_drops_overflow(make_client: Any, dead_host: str) -> None:
    client = make_client(host=dead_host, max_queue_size=5)
    for i in range(50):
        client.create_score(name=f"s{i}", value=i, session_id="s")  # never blocks, never raises
    started = time.monotonic()
    assert client.shutdown(timeout=0.5) is False  # 45 were dropped (and the rest never delivered)
    assert time.monotonic() - started < 2.0


def test_bad_values_never_raise(scored: InteractiveAI, http_server: RecordingServer) -> None:
    scored.create_score(name="odd", value=1, data_type="WEIRD", metadata={"obj": object()}, session_id="s")
    assert scored.flush(timeout=5)
    sent = _sent(http_server)
    assert sent[0]["name"] == "odd" and "dataType" not in sent[0]


def test_auth_check(scored: InteractiveAI, http_server: RecordingServer, dead_host: str, make_client: Any) -> None:
    http_server.default[PROJECTS] = (200, {"data": [{"id": "p1", "name": "P"}]})
    assert scored.auth_check() is True
    http_server.default[PROJECTS] = (401, {"message": "no"})
    assert scored.auth_check() is False
    assert make_client(public_key="pk-other", host=dead_host).auth_check() is False
    assert InteractiveAI().auth_check() is False


def test_get_trace_url(scored: InteractiveAI, http_server: RecordingServer) -> None:
    http_server.default[PROJECTS] = (200, {"data": [{"id": "proj-1", "name": "P"}, {"id": "proj-2", "name": "Q"}]})
    tid = "ab" * 16
    assert scored.get_trace_url(trace_id=tid) == f"{http_server.url}/project/proj-1/traces/{tid}"
    with scored.start_as_current_span(name="s") as span:
        assert scored.get_trace_url() == f"{http_server.url}/project/proj-1/traces/{span.trace_id}"
    assert len(http_server.to(PROJECTS)) == 1  # cached
    assert scored.get_trace_url() is None  # no active trace


def test_get_trace_url_failure_is_none(make_client: Any, http_server: RecordingServer, memory: Memory) -> None:
    http_server.default[PROJECTS] = (500, {})
    client = make_client(host=http_server.url)
    assert client.get_trace_url(trace_id="ab" * 16) is None
    assert client.get_trace_url(trace_id="ab" * 16) is None
    assert len(http_server.to(PROJECTS)) == 1  # failures are not retried on every call


def test_score_options_never_raise(scored: InteractiveAI, http_server: RecordingServer) -> None:
    with scored.start_as_current_span(name="s") as span:
        span.score(name="dup", value=1, trace_id="ff" * 16)  # type: ignore[call-arg]
        span.score(name="unknown", value=1, bogus=True)  # type: ignore[call-arg]
        scored.score_current_trace(name="ok", value=1, comment="fine")
    assert scored.flush(timeout=5)
    sent = {s["name"]: s for s in _sent(http_server)}
    assert sent["dup"]["traceId"] == span.trace_id  # the observation's ids win
    assert "unknown" not in sent and sent["ok"]["comment"] == "fine"
