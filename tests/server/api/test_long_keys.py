"""Identifiers and names longer than ingestion stores (``json_values.KEY_BYTES``, bounded with a
marker) are still found by every filter and lookup given the original value: the API's filter
parameters, the session and user pages and lookups, and the UI's list filters.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from interactiveai.server.json_values import KEY_BYTES, TAG_CHARS, bound_key
from tests.server.api.routes_table import API
from tests.server.ingest.conftest import Ingest
from tests.server.ingest.otlp_builders import SpanSpec, span_id, trace_id
from tests.server.ui.conftest import member, ui  # noqa: F401  (fixtures)

LONG = {key: f"{key}-" + "é" * 3000 for key in ("user", "session", "trace", "span", "release", "version", "model")}
TAG = "t" * (TAG_CHARS + 50)


@pytest.fixture
def ingest(client: Any, engine: Any, project: Any) -> Ingest:
    return Ingest(client, engine, project)


@pytest.fixture
def long_trace(client: Any, project: Any, ingest: Ingest) -> str:
    tid = trace_id()
    attributes = {
        "user.id": LONG["user"],
        "session.id": LONG["session"],
        "interactiveai.trace.name": LONG["trace"],
        "interactiveai.release": LONG["release"],
        "interactiveai.version": LONG["version"],
        "interactiveai.observation.model.name": LONG["model"],
        "interactiveai.trace.tags": [TAG],
    }
    ingest.ok([SpanSpec(tid, span_id(), LONG["span"], attributes=attributes)])
    trace = ingest.trace(tid)
    assert trace is not None and trace["user_id"] == bound_key(LONG["user"]) != LONG["user"]
    assert len(trace["user_id"].encode()) <= KEY_BYTES
    body = {"traceId": tid, "name": "quality", "value": 1, "sessionId": bound_key(LONG["session"])}
    assert client.post(f"{API}/scores", json=body, headers=project.headers).status_code == 200
    return tid


def _q(value: str) -> str:
    return quote(value, safe="")


def test_api_filters_take_the_original_value(client: Any, project: Any, long_trace: str) -> None:
    lists = {
        "/traces": [
            ("userId", LONG["user"]),
            ("sessionId", LONG["session"]),
            ("name", LONG["trace"]),
            ("release", LONG["release"]),
            ("version", LONG["version"]),
            ("tags", TAG),
        ],
        "/observations": [("name", LONG["span"]), ("userId", LONG["user"]), ("version", LONG["version"])],
        "/scores": [("userId", LONG["user"]), ("sessionId", LONG["session"])],
        "/v2/scores": [("userId", LONG["user"]), ("sessionId", LONG["session"])],
    }
    problems = []
    for path, params in lists.items():
        for name, value in params:
            response = client.get(f"{API}{path}?{name}={_q(value)}", headers=project.headers)
            if response.status_code != 200 or len(response.json()["data"]) != 1:
                problems.append(f"{path}?{name}: {response.status_code} {response.text[:120]}")
    daily = f"{API}/metrics/daily?fromTimestamp=2025-06-01T00:00:00Z&toTimestamp=2025-07-01T00:00:00Z"
    daily += f"&userId={_q(LONG['user'])}&traceName={_q(LONG['trace'])}&tags={_q(TAG)}"
    days = client.get(daily, headers=project.headers).json()["data"]
    if sum(day["countTraces"] for day in days) != 1:
        problems.append(f"/metrics/daily: {days}")
    assert not problems, "\n".join(problems)


def test_api_session_lookup_takes_the_original_id(client: Any, project: Any, long_trace: str) -> None:
    response = client.get(f"{API}/sessions/{_q(LONG['session'])}", headers=project.headers)
    assert response.status_code == 200, response.text[:200]
    assert response.json()["id"] == bound_key(LONG["session"])
    assert [t["id"] for t in response.json()["traces"]] == [long_trace]


def test_ui_pages_and_filters_take_the_original_value(ui: Any, project: Any, long_trace: str) -> None:  # noqa: F811
    base = f"/project/{project.id}"
    problems = []
    for kind in ("sessions", "users"):
        original = LONG["session" if kind == "sessions" else "user"]
        for suffix in ("", ".json"):
            response = ui.get(f"{base}/{kind}/{_q(original)}{suffix}")
            if response.status_code != 200:
                problems.append(f"{kind}{suffix}: {response.status_code}")
    for name, value in (("user", LONG["user"]), ("session", LONG["session"]), ("name", LONG["trace"]), ("tag", TAG)):
        body = ui.get(f"{base}/traces.json?range=all&{name}={_q(value)}").json()
        if [row["id"] for row in body["data"]] != [long_trace]:
            problems.append(f"traces.json?{name}: {body['data'][:1]} {body.get('errors')}")
    for name in ("user", "session", "name"):  # several values of one filter: any of them
        value = LONG["trace" if name == "name" else name]
        body = ui.get(f"{base}/traces.json?range=all&{name}=other&{name}={_q(value)}").json()
        if [row["id"] for row in body["data"]] != [long_trace]:
            problems.append(f"traces.json?{name}=other&{name}=…: {body['data'][:1]}")
    sessions = ui.get(f"{base}/sessions?q={_q(LONG['session'])}", follow_redirects=True)
    if sessions.status_code != 200 or "Session" not in sessions.text:
        problems.append(f"sessions?q: {sessions.status_code}")
    users = ui.get(f"{base}/users.json?range=all&q={_q(LONG['user'])}").json()["data"]
    if len(users) != 1:
        problems.append(f"users.json?q: {users}")
    scores = ui.get(f"{base}/scores.json?range=all&session={_q(LONG['session'])}").json()["data"]
    if len(scores) != 1:
        problems.append(f"scores.json?session: {scores}")
    assert not problems, "\n".join(problems)
