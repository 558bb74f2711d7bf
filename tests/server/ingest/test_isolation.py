"""One project's hostile values never fail another project's requests, and are stored bounded (DESIGN §8).

Both engines. Values are random base64, which no index compression shrinks: 12 kB of it in an
indexed column is what made PostgreSQL refuse whole group commits before values were bounded.
"""

from __future__ import annotations

import base64
import os
import threading
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from interactiveai.server.ingest.bounds import KEY_BYTES, TAG_CHARS, bound_key
from interactiveai.server.storage.schema import observations
from interactiveai.server.tenancy import add_membership, create_user
from tests.server.ingest.conftest import Ingest
from tests.server.ingest.otlp_builders import SpanSpec, realistic_trace, span_id, trace_id
from tests.server.ui.conftest import PASSWORD, login


def _noise(size: int = 12_000) -> str:
    return base64.b64encode(os.urandom(size)).decode()[:size]


def _distinct_words(total_bytes: int) -> str:
    """Text whose words are all different: its tsvector is about as large as the text."""
    words = base64.b32encode(os.urandom(total_bytes * 10 // 17)).decode().lower()
    return " ".join(words[i : i + 16] for i in range(0, len(words), 16))


def _utf8(value: str) -> int:
    return len(value.encode())


def _get(client: Any, project: Any, path: str) -> Any:
    response = client.get(path, headers=project.headers)
    assert response.status_code == 200, response.text
    return response.json()


def _listed(client: Any, project: Any, query: str) -> list[str]:
    return [t["id"] for t in _get(client, project, f"/api/public/traces?{query}")["data"]]


# attribute → (trace field in the API, list filter) for each indexed value a client controls
FIELDS: dict[str, tuple[str, str | None]] = {
    "user.id": ("userId", "userId"),
    "session.id": ("sessionId", "sessionId"),
    "interactiveai.trace.name": ("name", "name"),
    "interactiveai.release": ("release", "release"),
    "interactiveai.version": ("version", "version"),
    "interactiveai.observation.model.name": ("model", None),
    "span name": ("name", "name"),
}


@pytest.mark.parametrize("attribute", FIELDS)
def test_a_huge_identifier_is_stored_bounded_and_read_back(
    ingest: Ingest, client: Any, project: Any, attribute: str
) -> None:
    huge = _noise()
    tid, sid = trace_id(), span_id()
    if attribute == "span name":
        spec = SpanSpec(tid, sid, huge)
    else:
        spec = SpanSpec(tid, sid, "root", attributes={attribute: huge})
    ingest.ok([spec])
    expected = bound_key(huge)
    assert _utf8(expected) <= KEY_BYTES and expected.startswith(huge[:900])

    trace = _get(client, project, f"/api/public/traces/{tid}")
    field, list_filter = FIELDS[attribute]
    if field == "model":
        assert trace["observations"][0]["model"] == expected
        observation = _get(client, project, f"/api/public/observations/{sid}")
        assert observation["model"] == expected
    else:
        assert trace[field] == expected
    if list_filter:
        assert _listed(client, project, f"{list_filter}={quote(expected)}") == [tid]
    # re-sent: stored once, same value
    ingest.ok([spec])
    assert ingest.trace(tid)["observation_count"] == 1  # type: ignore[index]


def test_huge_tags_and_environment(ingest: Ingest, client: Any, project: Any) -> None:
    huge = _noise()
    tid = trace_id()
    tags = [huge, *(f"t{i:03d}-{_noise(300)}" for i in range(300))]
    ingest.ok(
        [
            SpanSpec(
                tid, span_id(), "root", attributes={"interactiveai.trace.tags": tags, "interactiveai.environment": huge}
            )
        ]
    )
    trace = _get(client, project, f"/api/public/traces/{tid}")
    assert trace["environment"] == "default"
    assert 0 < len(trace["tags"]) <= 100 and all(len(tag) <= TAG_CHARS for tag in trace["tags"])
    assert sorted(trace["tags"]) == ingest.tags(tid)
    assert _listed(client, project, f"tags={quote(trace['tags'][0])}") == [tid]


@pytest.fixture
def ui(client: Any, engine: Any, project: Any) -> Any:
    user_id = create_user(engine, "member@example.com", PASSWORD, name="Mia Member")
    add_membership(engine, user_id, project.id)
    assert login(client, "member@example.com").status_code == 303
    return client


def test_search_finds_a_trace_with_huge_values(ingest: Ingest, ui: Any, project: Any) -> None:
    huge = _noise()
    tid = trace_id()
    attributes = {attribute: huge for attribute in FIELDS if attribute != "span name"}
    attributes["interactiveai.observation.input"] = '{"question": "where is the zanzibarite?"}'
    ingest.ok([SpanSpec(tid, span_id(), huge, attributes=attributes)])

    def found(query: str) -> list[str]:
        body = ui.get(f"/project/{project.id}/traces.json?range=all&{query}").json()
        return [t["id"] for t in body["data"]]

    assert found("q=zanzibarite") == [tid]
    assert found(f"q={tid}") == [tid]
    for param in ("user", "session", "name"):  # the list's filters, on the stored (bounded) value
        assert found(f"{param}={quote(bound_key(huge))}") == [tid]
    assert ui.get(f"/project/{project.id}/traces/{tid}").status_code == 200


def _hostile_spans() -> list[SpanSpec]:
    """A trace with a 12 kB random value in every indexed field, new values each time."""
    tid = trace_id()
    attributes: dict[str, Any] = {attribute: _noise() for attribute in FIELDS if attribute != "span name"}
    attributes["interactiveai.trace.tags"] = [_noise(), _noise()]
    attributes["interactiveai.environment"] = _noise()
    root = SpanSpec(tid, span_id(), _noise(), attributes=attributes)
    child = SpanSpec(tid, span_id(), _noise(), parent_id=root.span_id, attributes={"model": _noise()})
    return [root, child]


def _post_concurrently(
    a_requests: list[list[SpanSpec]], b_requests: list[list[SpanSpec]], a: Ingest, b: Ingest
) -> tuple[list[Any], list[Any]]:
    """Post both projects' requests from several threads at once; the responses of each."""
    a_responses: list[Any] = []
    b_responses: list[Any] = []

    def run(ingest: Ingest, requests: list[list[SpanSpec]], into: list[Any]) -> None:
        for spans in requests:
            into.append(ingest.post(spans))

    threads = [threading.Thread(target=run, args=(a, a_requests[i::2], a_responses)) for i in range(2)] + [
        threading.Thread(target=run, args=(b, b_requests[i::3], b_responses)) for i in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return a_responses, b_responses


def _stored_spans(engine: Any, project_id: str) -> set[tuple[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(observations.c.trace_id, observations.c.id).where(observations.c.project_id == project_id)
        )
        return {(r[0], r[1]) for r in rows}


def test_another_project_is_not_failed_by_huge_values(
    client: Any, engine: Any, project: Any, other_project: Any
) -> None:
    a, b = Ingest(client, engine, project), Ingest(client, engine, other_project)
    a_requests = [_hostile_spans() for _ in range(16)]
    b_requests = [[s for _ in range(4) for s in realistic_trace()] for _ in range(30)]
    a_responses, b_responses = _post_concurrently(a_requests, b_requests, a, b)
    assert [r.status_code for r in b_responses] == [200] * len(b_requests), [r.text for r in b_responses][:3]
    assert [r.status_code for r in a_responses] == [200] * len(a_requests), [r.text for r in a_responses][:3]

    b_spans = {(s.trace_id, s.span_id) for spans in b_requests for s in spans}
    assert _stored_spans(engine, other_project.id) == b_spans
    assert _stored_spans(engine, project.id) == {(s.trace_id, s.span_id) for spans in a_requests for s in spans}
    for spans in a_requests:
        trace = a.trace(spans[0].trace_id)
        assert trace is not None and trace["observation_count"] == 2
        for column in ("name", "user_id", "session_id", "release", "version"):
            assert _utf8(trace[column]) <= KEY_BYTES
    # re-sent after the 200: stored once
    b.ok(b_requests[0])
    with engine.connect() as conn:
        count = conn.execute(
            select(func.count()).select_from(observations).where(observations.c.project_id == other_project.id)
        ).scalar()
    assert count == len(b_spans)


def test_a_huge_distinct_word_input_is_stored_and_found_on_both_engines(
    client: Any, engine: Any, project: Any, other_project: Any, ui: Any
) -> None:
    """A trace input whose full-text vector would exceed PostgreSQL's 1 MB limit (migration 0007
    indexes a bounded prefix): stored and found by a word near its start on both engines, and the
    other project's concurrent requests all commit."""
    a, b = Ingest(client, engine, project), Ingest(client, engine, other_project)
    big_input = '"zanzibarite ' + _distinct_words(1_300_000) + '"'
    a_requests = [
        [SpanSpec(trace_id(), span_id(), "huge-input", attributes={"interactiveai.observation.input": big_input})]
        for _ in range(4)
    ]
    b_requests = [[s for _ in range(4) for s in realistic_trace()] for _ in range(24)]
    a_responses, b_responses = _post_concurrently(a_requests, b_requests, a, b)
    assert [r.status_code for r in b_responses] == [200] * len(b_requests), [r.text for r in b_responses][:3]
    assert _stored_spans(engine, other_project.id) == {(s.trace_id, s.span_id) for spans in b_requests for s in spans}
    a_ids = sorted(spans[0].trace_id for spans in a_requests)
    assert [r.status_code for r in a_responses] == [200] * len(a_requests), [r.text for r in a_responses][:1]
    body = ui.get(f"/project/{project.id}/traces.json?range=all&q=zanzibarite").json()
    assert sorted(t["id"] for t in body["data"]) == a_ids
