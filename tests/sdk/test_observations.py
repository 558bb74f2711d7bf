"""Client span API: the ten types, context managers, partial updates, trace updates, ids."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from opentelemetry.trace import StatusCode

from interactiveai import (
    InteractiveAI,
    InteractiveAIAgent,
    InteractiveAIEvent,
    InteractiveAIGeneration,
    InteractiveAISpan,
    InteractiveAITool,
)
from interactiveai.sdk.attributes import Attr

from .conftest import Memory

ALL_TYPES = [
    "span",
    "generation",
    "agent",
    "tool",
    "chain",
    "retriever",
    "embedding",
    "evaluator",
    "guardrail",
    "event",
]


@pytest.mark.parametrize("as_type", ALL_TYPES)
def test_start_observation_every_type(client: InteractiveAI, memory: Memory, as_type: Any) -> None:
    obs = client.start_observation(name="o", as_type=as_type, input={"q": 1})
    assert obs.type == as_type
    obs.end()
    attrs = memory.attrs("o")
    assert attrs[Attr.OBSERVATION_TYPE] == as_type
    assert json.loads(attrs[Attr.OBSERVATION_INPUT]) == {"q": 1}
    assert len(obs.id) == 16 and len(obs.trace_id) == 32
    assert obs.id == format(memory.span("o").context.span_id, "016x")


@pytest.mark.parametrize("as_type", ALL_TYPES)
def test_start_as_current_observation_every_type(client: InteractiveAI, memory: Memory, as_type: Any) -> None:
    with client.start_as_current_observation(name="outer", as_type=as_type) as obs:
        assert client.get_current_observation_id() == obs.id or as_type == "event"
        client.create_event(name="inside")
    assert memory.attrs("outer")[Attr.OBSERVATION_TYPE] == as_type


def test_class_per_type(client: InteractiveAI) -> None:
    assert isinstance(client.start_span(name="a"), InteractiveAISpan)
    assert isinstance(client.start_generation(name="b"), InteractiveAIGeneration)
    assert isinstance(client.start_observation(name="c", as_type="agent"), InteractiveAIAgent)
    assert isinstance(client.start_observation(name="d", as_type="tool"), InteractiveAITool)
    assert isinstance(client.create_event(name="e"), InteractiveAIEvent)


def test_event_has_zero_duration(client: InteractiveAI, memory: Memory) -> None:
    client.create_event(name="ev", input="x", metadata={"k": "v"})
    span = memory.span("ev")
    assert span.start_time == span.end_time
    assert dict(span.attributes or {})[Attr.OBSERVATION_TYPE] == "event"


def test_generation_fields(client: InteractiveAI, memory: Memory) -> None:
    started = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    with client.start_as_current_generation(
        name="llm",
        model="gpt-4o",
        model_parameters={"temperature": 0.2, "stop": ["\n"]},
        input=[{"role": "user", "content": "hi"}],
    ) as gen:
        gen.update(
            output="hello",
            usage_details={"input": 10, "output": 5},
            cost_details={"input": 0.001, "output": 0.002},
            completion_start_time=started,
        )
    attrs = memory.attrs("llm")
    assert attrs[Attr.OBSERVATION_MODEL] == "gpt-4o"
    assert json.loads(attrs[Attr.OBSERVATION_MODEL_PARAMETERS]) == {"temperature": 0.2, "stop": ["\n"]}
    assert json.loads(attrs[Attr.OBSERVATION_USAGE_DETAILS]) == {"input": 10, "output": 5}
    assert json.loads(attrs[Attr.OBSERVATION_COST_DETAILS]) == {"input": 0.001, "output": 0.002}
    assert attrs[Attr.OBSERVATION_COMPLETION_START_TIME] == "2025-01-02T03:04:05Z"
    assert json.loads(attrs[Attr.OBSERVATION_INPUT]) == [{"role": "user", "content": "hi"}]
    assert attrs[Attr.OBSERVATION_OUTPUT] == '"hello"'


def test_model_fields_accepted_on_any_type(client: InteractiveAI, memory: Memory) -> None:
    client.start_observation(name="t", as_type="tool", model="m", usage_details={"total": 3}).end()
    attrs = memory.attrs("t")
    assert attrs[Attr.OBSERVATION_MODEL] == "m" and attrs[Attr.OBSERVATION_TYPE] == "tool"


def test_naive_completion_start_time_is_utc(client: InteractiveAI, memory: Memory) -> None:
    client.start_generation(name="g", completion_start_time=dt.datetime(2025, 1, 1, 12, 0)).end()
    assert memory.attrs("g")[Attr.OBSERVATION_COMPLETION_START_TIME] == "2025-01-01T12:00:00Z"


def test_metadata_values_are_json_encoded(client: InteractiveAI, memory: Memory) -> None:
    client.start_span(name="m", metadata={"s": "v", "n": 1, "d": {"x": [1]}, "none": None}).end()
    attrs = memory.attrs("m")
    prefix = Attr.OBSERVATION_METADATA_PREFIX
    assert attrs[prefix + "s"] == '"v"'
    assert attrs[prefix + "n"] == "1"
    assert attrs[prefix + "d"] == '{"x":[1]}'
    assert prefix + "none" not in attrs


def test_partial_update_never_clears(client: InteractiveAI, memory: Memory) -> None:
    obs = client.start_observation(name="p", as_type="generation", input="in", model="m1", metadata={"a": 1})
    obs.update(output="out")
    obs.update(metadata={"b": 2}, version="v2")
    obs.update(name="renamed")
    obs.end()
    attrs = memory.attrs("renamed")
    assert attrs[Attr.OBSERVATION_INPUT] == '"in"'
    assert attrs[Attr.OBSERVATION_OUTPUT] == '"out"'
    assert attrs[Attr.OBSERVATION_MODEL] == "m1"
    assert attrs[Attr.OBSERVATION_METADATA_PREFIX + "a"] == "1"
    assert attrs[Attr.OBSERVATION_METADATA_PREFIX + "b"] == "2"
    assert attrs[Attr.VERSION] == "v2"
    assert attrs[Attr.OBSERVATION_TYPE] == "generation"


def test_update_level_error_sets_status(client: InteractiveAI, memory: Memory) -> None:
    obs = client.start_span(name="x")
    obs.update(level="ERROR", status_message="broke")
    obs.end()
    span = memory.span("x")
    assert span.status.status_code is StatusCode.ERROR and span.status.description == "broke"
    assert dict(span.attributes or {})[Attr.OBSERVATION_LEVEL] == "ERROR"


def test_invalid_level_is_ignored(client: InteractiveAI, memory: Memory) -> None:
    client.start_span(name="x", level="LOUD").end()
    assert Attr.OBSERVATION_LEVEL not in memory.attrs("x")


def test_exception_in_with_block_sets_error_level(client: InteractiveAI, memory: Memory) -> None:
    with pytest.raises(ZeroDivisionError):
        with client.start_as_current_span(name="calc"):
            1 / 0  # noqa: B018
    span = memory.span("calc")
    attrs = dict(span.attributes or {})
    assert attrs[Attr.OBSERVATION_LEVEL] == "ERROR"
    assert attrs[Attr.OBSERVATION_STATUS_MESSAGE] == "division by zero"
    assert span.status.status_code is StatusCode.ERROR


def test_end_on_exit_false(client: InteractiveAI, memory: Memory) -> None:
    with client.start_as_current_observation(name="open", end_on_exit=False) as obs:
        pass
    assert memory.spans() == []
    obs.end(end_time=dt.datetime.now(dt.UTC))
    assert memory.span("open").end_time is not None


def test_start_time_records_work_that_began_earlier(client: InteractiveAI, memory: Memory) -> None:
    began = dt.datetime(2026, 11, 30, 9, 15, tzinfo=dt.UTC)
    root = client.start_observation(name="import", as_type="agent", start_time=began)
    child = root.start_observation(name="step", start_time=began.timestamp() + 0.25)  # float: seconds
    child.end(end_time=began + dt.timedelta(seconds=1))
    root.create_event(name="mark", start_time=int(began.timestamp() * 1e9) + 500_000_000)  # int: ns
    root.end(end_time=dt.datetime(2026, 11, 30, 9, 15, 2))  # naive: UTC
    base = int(began.timestamp()) * 10**9
    assert (memory.span("import").start_time, memory.span("import").end_time) == (base, base + 2 * 10**9)
    assert abs(memory.span("step").start_time - (base + 250_000_000)) < 1000  # a float keeps ~0.25 µs
    assert memory.span("step").end_time == base + 10**9
    assert memory.span("mark").start_time == memory.span("mark").end_time == base + 500_000_000
    assert memory.span("step").parent is not None
    assert memory.span("step").parent.span_id == memory.span("import").context.span_id


def test_children_parent_on_the_observation(client: InteractiveAI, memory: Memory) -> None:
    root = client.start_span(name="root")
    with client.start_as_current_span(name="elsewhere"):
        child = root.start_observation(name="child", as_type="tool")
        with root.start_as_current_observation(name="current-child", as_type="chain") as cc:
            assert client.get_current_observation_id() == cc.id
        root.create_event(name="child-event")
        root.start_generation("child-gen").end()
    child.end()
    root.end()
    root_id = memory.span("root").context.span_id
    for name in ("child", "current-child", "child-event", "child-gen"):
        parent = memory.span(name).parent
        assert parent is not None and parent.span_id == root_id, name
    assert memory.attrs("current-child")[Attr.OBSERVATION_TYPE] == "chain"


def test_update_trace_on_observation(client: InteractiveAI, memory: Memory) -> None:
    with client.start_as_current_span(name="root") as root:
        root.update_trace(
            name="my-trace",
            user_id="u-1",
            session_id="s-1",
            version="1.0",
            input={"question": "q"},
            output="answer",
            metadata={"run": "r1"},
            tags=["a", "b"],
            public=True,
        )
    attrs = memory.attrs("root")
    assert attrs[Attr.TRACE_NAME] == "my-trace"
    assert attrs[Attr.TRACE_USER_ID] == "u-1"
    assert attrs[Attr.TRACE_SESSION_ID] == "s-1"
    assert attrs[Attr.VERSION] == "1.0"
    assert json.loads(attrs[Attr.TRACE_INPUT]) == {"question": "q"}
    assert attrs[Attr.TRACE_OUTPUT] == '"answer"'
    assert attrs[Attr.TRACE_METADATA_PREFIX + "run"] == '"r1"'
    assert attrs[Attr.TRACE_TAGS] == ("a", "b")
    assert attrs[Attr.TRACE_PUBLIC] is True


def test_update_current_span_and_generation_keep_type(client: InteractiveAI, memory: Memory) -> None:
    with client.start_as_current_observation(name="tool", as_type="tool"):
        client.update_current_span(output="o", metadata={"k": "v"})
        client.update_current_generation(model="m", usage_details={"input": 1})
    with client.start_as_current_observation(name="agent", as_type="agent"):
        client.update_current_generation(output="x")
    tool = memory.attrs("tool")
    assert tool[Attr.OBSERVATION_TYPE] == "tool"
    assert tool[Attr.OBSERVATION_OUTPUT] == '"o"' and tool[Attr.OBSERVATION_MODEL] == "m"
    assert memory.attrs("agent")[Attr.OBSERVATION_TYPE] == "agent"


def test_update_current_trace_from_nested_span(client: InteractiveAI, memory: Memory) -> None:
    with client.start_as_current_span(name="root"):
        with client.start_as_current_span(name="leaf"):
            client.update_current_trace(user_id="u", tags=["t"])
    assert memory.attrs("leaf")[Attr.TRACE_USER_ID] == "u"


def test_current_helpers_outside_span(client: InteractiveAI, caplog: pytest.LogCaptureFixture) -> None:
    assert client.get_current_trace_id() is None
    assert client.get_current_observation_id() is None
    assert client.get_current_observation() is None
    client.update_current_span(output="x")  # warns, never raises
    client.update_current_trace(user_id="u")
    assert "outside an active observation" in caplog.text


def test_current_ids_inside_span(client: InteractiveAI) -> None:
    with client.start_as_current_span(name="s") as span:
        assert client.get_current_trace_id() == span.trace_id
        assert client.get_current_observation_id() == span.id
        current = client.get_current_observation()
        assert current is not None and current.id == span.id


def test_trace_context_makes_remote_child(client: InteractiveAI, memory: Memory) -> None:
    tid = InteractiveAI.create_trace_id(seed="order-7")
    with client.start_as_current_span(name="a", trace_context={"trace_id": tid, "parent_span_id": "00f067aa0ba902b7"}):
        pass
    client.start_span(name="b", trace_context={"trace_id": tid.upper()}).end()
    a, b = memory.span("a"), memory.span("b")
    assert format(a.context.trace_id, "032x") == tid == format(b.context.trace_id, "032x")
    assert a.parent is not None and format(a.parent.span_id, "016x") == "00f067aa0ba902b7"
    assert dict(a.attributes or {})[Attr.AS_ROOT] is True and dict(b.attributes or {})[Attr.AS_ROOT] is True
    # b's remote parent id was made up: the span says so, a's real upstream parent is kept as is
    assert dict(b.attributes or {})[Attr.SYNTHETIC_PARENT] is True
    assert Attr.SYNTHETIC_PARENT not in (a.attributes or {})


@pytest.mark.parametrize(
    "ctx",
    [
        {"trace_id": "xyz"},
        {"trace_id": "g" * 32},
        {"trace_id": "0" * 32},
        {"trace_id": "ab" * 15},
        {"trace_id": None},
        {},
        "not-a-dict",
    ],
)
def test_invalid_trace_context_is_ignored(
    client: InteractiveAI, memory: Memory, ctx: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with client.start_as_current_span(name="s", trace_context=ctx) as span:
        assert len(span.trace_id) == 32
    s = memory.span("s")
    assert s.parent is None
    assert Attr.AS_ROOT not in (s.attributes or {})
    assert "ignor" in caplog.text


def test_invalid_parent_id_keeps_trace_id(client: InteractiveAI, memory: Memory) -> None:
    tid = "ab" * 16
    client.start_span(name="s", trace_context={"trace_id": tid, "parent_span_id": "nope"}).end()
    assert format(memory.span("s").context.trace_id, "032x") == tid


def test_environment_and_release_on_every_span(make_client: Any, memory: Memory) -> None:
    client = make_client(environment="staging", release="abc123")
    client.start_span(name="a").end()
    client.create_event(name="b")
    for name in ("a", "b"):
        attrs = memory.attrs(name)
        assert attrs[Attr.ENVIRONMENT] == "staging" and attrs[Attr.RELEASE] == "abc123"


def test_release_falls_back_to_ci_commit(make_client: Any, memory: Memory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_SHA", "deadbeef")
    make_client().start_span(name="a").end()
    assert memory.attrs("a")[Attr.RELEASE] == "deadbeef"


def test_unknown_update_kwargs_do_not_raise(client: InteractiveAI, memory: Memory) -> None:
    obs = client.start_span(name="x")
    obs.update(output="ok", bogus=1)  # type: ignore[call-arg]
    obs.end()
    assert memory.span("x").end_time is not None


def test_disabled_client_observations_are_noops() -> None:
    client = InteractiveAI(tracing_enabled=False, public_key="pk", secret_key="sk")
    assert client.enabled is False
    with client.start_as_current_observation(name="x", as_type="generation") as obs:
        obs.update(output="y").update_trace(user_id="u")
        obs.score(name="s", value=1)
        child = obs.start_observation(name="c")
        child.end()
    assert client.get_current_trace_id() is None
    assert client.flush(timeout=0.1) is True
    assert client.shutdown(timeout=0.1) is True


async def test_async_with_scope(client: InteractiveAI, memory: Memory) -> None:
    async with client.start_as_current_observation(name="async-root", as_type="agent") as root:
        assert client.get_current_observation_id() == root.id
        with pytest.raises(RuntimeError):
            async with client.start_as_current_span(name="async-fail"):
                raise RuntimeError("x")
    assert memory.attrs("async-fail")[Attr.OBSERVATION_LEVEL] == "ERROR"
    assert memory.span("async-fail").parent.span_id == memory.span("async-root").context.span_id  # type: ignore[union-attr]


def test_mask_covers_metadata_and_trace_fields(make_client: Any, memory: Memory) -> None:
    def mask(*, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: "[redacted]" if k == "ssn" else v for k, v in data.items()}
        return data

    client = make_client(mask=mask)
    with client.start_as_current_span(name="m", metadata={"ssn": "123", "ok": 1}) as span:
        span.update_trace(metadata={"ssn": "456"}, input={"ssn": "789", "q": "x"})
    attrs = memory.attrs("m")
    assert attrs[Attr.OBSERVATION_METADATA_PREFIX + "ssn"] == '"[redacted]"'
    assert attrs[Attr.OBSERVATION_METADATA_PREFIX + "ok"] == "1"
    assert attrs[Attr.TRACE_METADATA_PREFIX + "ssn"] == '"[redacted]"'
    assert json.loads(attrs[Attr.TRACE_INPUT]) == {"ssn": "[redacted]", "q": "x"}


def test_client_as_context_manager_shuts_down(make_client: Any) -> None:
    with make_client() as client:
        assert client.enabled
    assert client.enabled is False


def test_level_is_case_insensitive(client: InteractiveAI, memory: Memory) -> None:
    client.start_span(name="x", level="error", status_message="lower").end()
    span = memory.span("x")
    assert dict(span.attributes or {})[Attr.OBSERVATION_LEVEL] == "ERROR"
    assert span.status.status_code is StatusCode.ERROR
