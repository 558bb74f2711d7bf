"""Trace merge and roll-ups across batches: re-sends, out-of-order arrival, several services, concurrency."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tests.server.ingest.conftest import Ingest
from tests.server.ingest.otlp_builders import BASE_NS, ResourceSpec, SpanSpec, realistic_trace, span_id, trace_id

MS = 1_000_000  # nanoseconds


def _rollups(trace: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "timestamp_us",
        "end_time_us",
        "latency_us",
        "observation_count",
        "level",
        "debug_count",
        "default_count",
        "warning_count",
        "error_count",
        "input_tokens",
        "output_tokens",
        "total_tokens",
        "input_cost",
        "output_cost",
        "total_cost",
        "name",
        "tags",
        "metadata",
    )
    return {k: trace[k] for k in keys}


@pytest.mark.parametrize("fmt", ["protobuf", "json"])
def test_same_batch_twice_is_counted_once(ingest: Ingest, fmt: str) -> None:
    spans = realistic_trace(start_ns=BASE_NS)
    tid = spans[0].trace_id
    ingest.ok(spans, fmt=fmt)
    first = ingest.trace(tid)
    assert first is not None and first["observation_count"] == 5
    ingest.ok(spans, fmt=fmt)
    ingest.ok(spans[2:], fmt=fmt)
    again = ingest.trace(tid)
    assert again is not None
    assert _rollups(again) == _rollups(first)
    assert len(ingest.observations(tid)) == 5
    assert ingest.tags(tid) == ["prod", "weather"]


def test_duplicates_inside_one_batch_count_once(ingest: Ingest) -> None:
    spans = realistic_trace(start_ns=BASE_NS)
    ingest.ok(spans + spans)
    trace = ingest.trace(spans[0].trace_id)
    assert trace is not None and trace["observation_count"] == 5 and trace["input_tokens"] == 240


def test_rollups_of_a_realistic_trace(ingest: Ingest) -> None:
    spans = realistic_trace(start_ns=BASE_NS, generations=3, tools=1)
    ingest.ok(spans)
    trace = ingest.trace(spans[0].trace_id)
    assert trace is not None
    assert trace["timestamp_us"] == BASE_NS // 1000
    assert trace["latency_us"] == 2_000_000
    assert (trace["input_tokens"], trace["output_tokens"], trace["total_tokens"]) == (360, 90, 450)
    assert trace["input_cost"] == pytest.approx(3 * 0.00018)
    assert trace["total_cost"] == pytest.approx(6 * 0.00018)
    assert trace["default_count"] == 5 and trace["level"] == "DEFAULT"
    assert trace["root_observation_id"] == spans[0].span_id


def test_trace_without_costs_has_no_cost(ingest: Ingest) -> None:
    tid = trace_id()
    ingest.ok([SpanSpec(tid, span_id(), "plain")])
    trace = ingest.trace(tid)
    assert trace is not None
    assert (trace["input_cost"], trace["output_cost"], trace["total_cost"]) == (None, None, None)


def test_child_before_root_and_trace_attributes_later(ingest: Ingest) -> None:
    tid, root_id, child_id, late_id = trace_id(), span_id(), span_id(), span_id()
    child = SpanSpec(
        tid,
        child_id,
        "child",
        parent_id=root_id,
        start_ns=BASE_NS + 100 * MS,
        end_ns=BASE_NS + 300 * MS,
        attributes={"interactiveai.observation.level": "WARNING", "user.id": "first-user"},
    )
    ingest.ok([child])
    partial = ingest.trace(tid)
    assert partial is not None
    assert partial["observation_count"] == 1 and partial["name"] is None
    assert partial["timestamp_us"] == (BASE_NS + 100 * MS) // 1000

    root = SpanSpec(
        tid,
        root_id,
        "root-span",
        start_ns=BASE_NS,
        end_ns=BASE_NS + 500 * MS,
        attributes={"interactiveai.observation.input": '{"in": 1}', "interactiveai.observation.output": '{"out": 2}'},
    )
    ingest.ok([root])
    merged = ingest.trace(tid)
    assert merged is not None
    assert merged["name"] == "root-span" and merged["input"] == '{"in": 1}' and merged["output"] == '{"out": 2}'
    assert merged["timestamp_us"] == BASE_NS // 1000 and merged["latency_us"] == 500_000
    assert merged["level"] == "WARNING" and merged["observation_count"] == 2

    late = SpanSpec(
        tid,
        late_id,
        "update-trace",
        parent_id=root_id,
        start_ns=BASE_NS + 400 * MS,
        end_ns=BASE_NS + 900 * MS,
        attributes={
            "interactiveai.trace.name": "explicit-name",
            "interactiveai.trace.output": '{"final": true}',
            "interactiveai.trace.tags": ["late"],
            "interactiveai.trace.metadata.stage": '"done"',
            "user.id": "second-user",
            "interactiveai.observation.level": "ERROR",
        },
    )
    ingest.ok([late])
    final = ingest.trace(tid)
    assert final is not None
    assert final["name"] == "explicit-name"
    assert final["input"] == '{"in": 1}' and final["output"] == '{"final": true}'
    assert final["user_id"] == "second-user"
    assert final["tags"] == ["late"] and final["metadata"] == {"stage": "done"}
    assert final["latency_us"] == 900_000 and final["observation_count"] == 3
    assert (final["level"], final["error_count"], final["warning_count"], final["default_count"]) == ("ERROR", 1, 1, 1)

    # a late root does not override the explicit name
    other_root = SpanSpec(tid, span_id(), "another-root", attributes={"interactiveai.internal.as_root": True})
    ingest.ok([other_root])
    assert ingest.trace(tid)["name"] == "explicit-name"  # type: ignore[index]


def test_a_made_up_remote_parent_is_not_an_observation(ingest: Ingest) -> None:
    """A trace id given without a parent id: the SDK's synthetic parent never shows as a parent."""
    tid, root, child, upstream = trace_id(), span_id(), span_id(), span_id()
    made_up = SpanSpec(
        tid,
        root,
        "handler",
        parent_id=upstream,
        attributes={"interactiveai.internal.as_root": True, "interactiveai.internal.synthetic_parent": True},
    )
    continued = SpanSpec(tid, child, "step", parent_id=root)
    ingest.ok([made_up, continued])
    parents = {oid: o["parent_observation_id"] for oid, o in ingest.observations(tid).items()}
    assert parents == {root: None, child: root}
    assert ingest.trace(tid)["name"] == "handler"  # type: ignore[index]


def test_two_services_in_one_trace(ingest: Ingest) -> None:
    tid, root_id = trace_id(), span_id()
    frontend = ResourceSpec(
        [SpanSpec(tid, root_id, "GET /chat", start_ns=BASE_NS, end_ns=BASE_NS + 800 * MS)],
        {"service.name": "frontend", "deployment.environment.name": "prod"},
        "opentelemetry.instrumentation.fastapi",
    )
    backend_spans = [
        SpanSpec(
            tid,
            span_id(),
            "llm",
            parent_id=root_id,
            start_ns=BASE_NS + 50 * MS,
            end_ns=BASE_NS + 900 * MS,
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.usage.input_tokens": 10,
                "gen_ai.usage.output_tokens": 5,
                "session.id": "sess",
                "tag.tags": ["backend"],
            },
        )
    ]
    backend = ResourceSpec(backend_spans, {"service.name": "backend"}, "openinference.instrumentation.openai")
    ingest.ok([backend])  # the child's service reports first
    ingest.ok([frontend])
    trace = ingest.trace(tid)
    assert trace is not None
    assert trace["name"] == "GET /chat" and trace["environment"] == "prod" and trace["session_id"] == "sess"
    assert trace["tags"] == ["backend"] and trace["observation_count"] == 2
    assert trace["latency_us"] == 900_000 and trace["total_tokens"] == 15
    services = {o["service_name"] for o in ingest.observations(tid).values()}
    assert services == {"frontend", "backend"}


def test_public_is_sticky(ingest: Ingest) -> None:
    tid = trace_id()
    ingest.ok([SpanSpec(tid, span_id(), "a", attributes={"interactiveai.trace.public": True})])
    ingest.ok([SpanSpec(tid, span_id(), "b", attributes={"interactiveai.trace.public": False})])
    trace = ingest.trace(tid)
    assert trace is not None and bool(trace["public"]) is True


def test_concurrent_writers_keep_exact_rollups(ingest: Ingest) -> None:
    """Many threads post different spans (and re-sends) of the same traces at once."""
    trace_ids = [trace_id() for _ in range(3)]
    batches: list[list[SpanSpec]] = []
    for thread_index in range(8):
        batch = []
        for tid in trace_ids:
            for i in range(10):
                batch.append(
                    SpanSpec(
                        tid,
                        f"{thread_index:02x}{i:02x}" + "ab" * 6,
                        f"s{thread_index}-{i}",
                        parent_id="ff" * 8,
                        start_ns=BASE_NS + (thread_index * 10 + i) * MS,
                        end_ns=BASE_NS + (thread_index * 10 + i + 1) * MS,
                        attributes={
                            "interactiveai.observation.usage_details": '{"input": 2, "output": 1}',
                            "interactiveai.observation.cost_details": '{"total": 0.5}',
                            "interactiveai.trace.tags": [f"t{thread_index}"],
                        },
                    )
                )
        batches.append(batch)
    errors: list[str] = []

    def post(batch: list[SpanSpec]) -> None:
        for _ in range(2):  # every batch twice: re-sends race with first sends
            response = ingest.post(batch)
            if response.status_code != 200:
                errors.append(response.text)

    threads = [threading.Thread(target=post, args=(b,)) for b in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for tid in trace_ids:
        trace = ingest.trace(tid)
        assert trace is not None
        assert trace["observation_count"] == 80
        assert (trace["input_tokens"], trace["output_tokens"], trace["total_tokens"]) == (160, 80, 240)
        assert trace["total_cost"] == pytest.approx(40.0)
        assert trace["tags"] == [f"t{i}" for i in range(8)]
        assert trace["latency_us"] == 80_000
        assert len(ingest.tags(tid)) == 8
