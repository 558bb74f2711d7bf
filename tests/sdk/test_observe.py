"""@observe: every function kind, nesting, I/O capture, errors, special kwargs, methods."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from opentelemetry.trace import StatusCode

from interactiveai import InteractiveAI, get_client, observe
from interactiveai.sdk.attributes import Attr

from .conftest import Memory


def _input(attrs: dict[str, Any]) -> Any:
    return json.loads(attrs[Attr.OBSERVATION_INPUT])


def _parent(memory: Memory, name: str) -> int | None:
    parent = memory.span(name).parent
    return parent.span_id if parent else None


def test_bare_decorator_records_input_output_and_type(client: InteractiveAI, memory: Memory) -> None:
    @observe
    def add(a: int, b: int = 0) -> int:
        return a + b

    assert add(1, b=2) == 3
    attrs = memory.attrs("add")
    assert attrs[Attr.OBSERVATION_TYPE] == "span"
    assert _input(attrs) == {"args": [1], "kwargs": {"b": 2}}
    assert attrs[Attr.OBSERVATION_OUTPUT] == "3"


def test_string_output_is_sent_as_a_json_string(client: InteractiveAI, memory: Memory) -> None:
    @observe(name="greet", as_type="generation")
    def hello(who: str) -> str:
        return f"hi {who}"

    hello("bob")
    attrs = memory.attrs("greet")
    assert attrs[Attr.OBSERVATION_OUTPUT] == '"hi bob"'
    assert attrs[Attr.OBSERVATION_TYPE] == "generation"


@pytest.mark.parametrize(
    "as_type", ["span", "generation", "agent", "tool", "chain", "retriever", "embedding", "evaluator", "guardrail"]
)
def test_every_decorator_type(client: InteractiveAI, memory: Memory, as_type: Any) -> None:
    @observe(as_type=as_type)
    def f() -> None:
        return None

    f()
    assert memory.attrs("f")[Attr.OBSERVATION_TYPE] == as_type


def test_invalid_type_warns_and_falls_back_to_span(
    client: InteractiveAI, memory: Memory, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="interactiveai"):

        @observe(as_type="event")  # type: ignore[call-overload]
        def f() -> int:
            return 1

    assert f() == 1
    assert memory.attrs("f")[Attr.OBSERVATION_TYPE] == "span"
    assert "not valid" in caplog.text


def test_nesting_builds_one_trace(client: InteractiveAI, memory: Memory) -> None:
    @observe
    def child() -> str:
        return "c"

    @observe
    def parent() -> str:
        return child() + child()

    parent()
    spans = memory.spans()
    assert {s.context.trace_id for s in spans} == {memory.span("parent").context.trace_id}
    children = [s for s in spans if s.name == "child"]
    assert len(children) == 2
    assert all(c.parent is not None and c.parent.span_id == memory.span("parent").context.span_id for c in children)


async def test_async_function(client: InteractiveAI, memory: Memory) -> None:
    @observe
    async def inner(x: int) -> int:
        await asyncio.sleep(0)
        return x + 1

    @observe
    async def outer() -> list[int]:
        return list(await asyncio.gather(inner(1), inner(2)))

    assert await outer() == [2, 3]
    outer_id = memory.span("outer").context.span_id
    inners = [s for s in memory.spans() if s.name == "inner"]
    assert len(inners) == 2 and all(s.parent and s.parent.span_id == outer_id for s in inners)
    assert memory.attrs("outer")[Attr.OBSERVATION_OUTPUT] == "[2,3]"


def test_exception_sets_error_and_reraises(client: InteractiveAI, memory: Memory) -> None:
    class Boom(ValueError):
        pass

    err = Boom("bad input")

    @observe
    def fail() -> None:
        raise err

    with pytest.raises(Boom) as info:
        fail()
    assert info.value is err
    span = memory.span("fail")
    attrs = dict(span.attributes or {})
    assert attrs[Attr.OBSERVATION_LEVEL] == "ERROR"
    assert attrs[Attr.OBSERVATION_STATUS_MESSAGE] == "bad input"
    assert span.status.status_code is StatusCode.ERROR
    assert span.end_time is not None


def test_exception_without_message_uses_type_name(client: InteractiveAI, memory: Memory) -> None:
    @observe
    def fail() -> None:
        raise KeyError()

    with pytest.raises(KeyError):
        fail()
    assert memory.attrs("fail")[Attr.OBSERVATION_STATUS_MESSAGE] == "KeyError"


async def test_cancelled_error_is_recorded(client: InteractiveAI, memory: Memory) -> None:
    started = asyncio.Event()

    @observe
    async def slow() -> None:
        started.set()
        await asyncio.sleep(10)

    task = asyncio.create_task(slow())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    attrs = memory.attrs("slow")
    assert attrs[Attr.OBSERVATION_LEVEL] == "ERROR"
    assert attrs[Attr.OBSERVATION_STATUS_MESSAGE] == "CancelledError"


def test_generator_span_covers_iteration_and_children_nest(client: InteractiveAI, memory: Memory) -> None:
    @observe
    def step(i: int) -> int:
        return i

    @observe
    def stream(n: int) -> Iterator[str]:
        for i in range(n):
            step(i)
            yield f"t{i}"

    gen = stream(3)
    assert memory.spans() == []  # nothing ended yet
    assert list(gen) == ["t0", "t1", "t2"]
    stream_span = memory.span("stream")
    steps = [s for s in memory.spans() if s.name == "step"]
    assert len(steps) == 3
    assert all(s.parent and s.parent.span_id == stream_span.context.span_id for s in steps)
    assert stream_span.attributes and stream_span.attributes[Attr.OBSERVATION_OUTPUT] == '"t0t1t2"'
    assert stream_span.end_time is not None and stream_span.end_time >= max(s.end_time or 0 for s in steps)


def test_generator_is_wrapped_even_without_output_capture(client: InteractiveAI, memory: Memory) -> None:
    @observe
    def step() -> None:
        return None

    @observe(capture_output=False)
    def stream() -> Iterator[int]:
        step()
        yield 1
        step()
        yield 2

    assert list(stream()) == [1, 2]
    stream_span = memory.span("stream")
    assert Attr.OBSERVATION_OUTPUT not in (stream_span.attributes or {})
    assert all(s.parent and s.parent.span_id == stream_span.context.span_id for s in memory.spans() if s.name == "step")


def test_generator_non_string_items_and_transform(client: InteractiveAI, memory: Memory) -> None:
    @observe
    def numbers() -> Iterator[int]:
        yield from (1, 2)

    @observe(transform_to_string=lambda items: "|".join(map(str, items)))
    def joined() -> Iterator[int]:
        yield from (1, 2)

    list(numbers())
    list(joined())
    assert memory.attrs("numbers")[Attr.OBSERVATION_OUTPUT] == "[1,2]"
    assert memory.attrs("joined")[Attr.OBSERVATION_OUTPUT] == '"1|2"'


def test_generator_error_ends_span_with_error(client: InteractiveAI, memory: Memory) -> None:
    @observe
    def broken() -> Iterator[int]:
        yield 1
        raise RuntimeError("mid-stream")

    gen = broken()
    assert next(gen) == 1
    with pytest.raises(RuntimeError, match="mid-stream"):
        next(gen)
    attrs = memory.attrs("broken")
    assert attrs[Attr.OBSERVATION_LEVEL] == "ERROR"
    assert attrs[Attr.OBSERVATION_STATUS_MESSAGE] == "mid-stream"


def test_closed_and_abandoned_generators_end_their_span(client: InteractiveAI, memory: Memory) -> None:
    @observe
    def endless() -> Iterator[int]:
        i = 0
        while True:
            yield i
            i += 1

    gen = endless()
    next(gen)
    gen.close()
    assert memory.span("endless").end_time is not None

    @observe
    def abandoned() -> Iterator[int]:
        yield from range(10)

    gen2 = abandoned()
    next(gen2)
    del gen2
    gc.collect()
    span = memory.span("abandoned")
    assert span.end_time is not None
    assert Attr.OBSERVATION_LEVEL not in (span.attributes or {})  # abandoning is not an error


def test_generator_send_is_forwarded(client: InteractiveAI, memory: Memory) -> None:
    @observe
    def echo() -> Any:
        received = yield "ready"
        yield f"got {received}"

    gen = echo()
    assert next(gen) == "ready"
    assert gen.send("x") == "got x"
    with pytest.raises(StopIteration):
        next(gen)
    assert memory.span("echo").end_time is not None


async def test_async_generator(client: InteractiveAI, memory: Memory) -> None:
    @observe
    async def step(i: int) -> int:
        return i

    @observe
    async def stream(n: int) -> AsyncIterator[str]:
        for i in range(n):
            await step(i)
            yield str(i)

    assert [x async for x in stream(3)] == ["0", "1", "2"]
    stream_span = memory.span("stream")
    assert stream_span.attributes and stream_span.attributes[Attr.OBSERVATION_OUTPUT] == '"012"'
    steps = [s for s in memory.spans() if s.name == "step"]
    assert len(steps) == 3 and all(s.parent and s.parent.span_id == stream_span.context.span_id for s in steps)


async def test_async_generator_error_and_aclose(client: InteractiveAI, memory: Memory) -> None:
    @observe
    async def broken() -> AsyncIterator[int]:
        yield 1
        raise ValueError("async boom")

    agen = broken()
    assert await agen.__anext__() == 1
    with pytest.raises(ValueError, match="async boom"):
        await agen.__anext__()
    assert memory.attrs("broken")[Attr.OBSERVATION_LEVEL] == "ERROR"

    @observe
    async def endless() -> AsyncIterator[int]:
        while True:
            yield 0

    agen2 = endless()
    await agen2.__anext__()
    await agen2.aclose()
    assert memory.span("endless").end_time is not None


def test_methods_do_not_capture_self_or_cls(client: InteractiveAI, memory: Memory) -> None:
    class Service:
        factor = 10

        @observe
        def method(self, x: int) -> int:
            return x * self.factor

        @classmethod
        @observe
        def build(cls, x: int) -> int:
            return x

        @observe
        @classmethod
        def build_outer(cls, x: int) -> int:
            return x

        @observe
        @staticmethod
        def helper(x: int) -> int:
            return x

    svc = Service()
    assert svc.method(2) == 20
    assert Service.build(3) == 3
    assert Service.build_outer(4) == 4
    assert Service.helper(5) == 5
    assert _input(memory.attrs("method")) == {"args": [2], "kwargs": {}}
    assert _input(memory.attrs("build")) == {"args": [3], "kwargs": {}}
    assert _input(memory.attrs("build_outer")) == {"args": [4], "kwargs": {}}
    assert _input(memory.attrs("helper")) == {"args": [5], "kwargs": {}}


def test_plain_function_named_self_parameter_is_captured(client: InteractiveAI, memory: Memory) -> None:
    @observe
    def odd(self: int) -> int:  # a module-level function: its first argument is data
        return self

    odd(7)
    assert _input(memory.attrs("odd")) == {"args": [7], "kwargs": {}}


def test_special_kwargs_are_popped_and_used(client: InteractiveAI, memory: Memory) -> None:
    seen: dict[str, Any] = {}

    @observe
    def handler(**kwargs: Any) -> None:
        seen.update(kwargs)

    trace_id = InteractiveAI.create_trace_id(seed="ticket-1")
    handler(
        x=1,
        interactiveai_trace_id=trace_id,
        interactiveai_parent_observation_id="0123456789abcdef",
        interactiveai_public_key="pk-test",
    )
    assert seen == {"x": 1}
    span = memory.span("handler")
    assert format(span.context.trace_id, "032x") == trace_id
    assert span.parent is not None and format(span.parent.span_id, "016x") == "0123456789abcdef"
    attrs = dict(span.attributes or {})
    assert attrs[Attr.AS_ROOT] is True and Attr.SYNTHETIC_PARENT not in attrs
    assert _input(attrs) == {"args": [], "kwargs": {"x": 1}}

    handler(x=2, interactiveai_trace_id=trace_id)  # no parent id: the remote parent is made up
    second = [s for s in memory.spans() if s.name == "handler"][-1]
    assert dict(second.attributes or {})[Attr.SYNTHETIC_PARENT] is True


def test_invalid_special_trace_id_is_ignored(
    client: InteractiveAI, memory: Memory, caplog: pytest.LogCaptureFixture
) -> None:
    @observe
    def f() -> int:
        return 1

    assert f(interactiveai_trace_id="not-hex") == 1
    span = memory.span("f")
    assert span.parent is None and Attr.AS_ROOT not in (span.attributes or {})
    assert "ignoring" in caplog.text


def test_capture_flags(client: InteractiveAI, memory: Memory) -> None:
    @observe(capture_input=False, capture_output=False)
    def quiet(secret: str) -> str:
        return secret

    quiet("s3cret")
    attrs = memory.attrs("quiet")
    assert Attr.OBSERVATION_INPUT not in attrs and Attr.OBSERVATION_OUTPUT not in attrs


@pytest.mark.parametrize("value", ["false", "0"])
def test_env_switch_disables_capture_but_explicit_args_win(
    make_client: Any, memory: Memory, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("INTERACTIVEAI_OBSERVE_DECORATOR_IO_CAPTURE_ENABLED", value)
    make_client()

    @observe
    def off(x: int) -> int:
        return x

    @observe(capture_input=True)
    def input_on(x: int) -> int:
        return x

    off(1)
    input_on(2)
    assert Attr.OBSERVATION_INPUT not in memory.attrs("off")
    assert Attr.OBSERVATION_OUTPUT not in memory.attrs("off")
    assert _input(memory.attrs("input_on")) == {"args": [2], "kwargs": {}}
    assert Attr.OBSERVATION_OUTPUT not in memory.attrs("input_on")


def test_unserialisable_values_never_break_the_call(client: InteractiveAI, memory: Memory) -> None:
    class Weird:
        __slots__ = ()

        def __repr__(self) -> str:
            raise RuntimeError("no repr")

    cyclic: list[Any] = []
    cyclic.append(cyclic)

    @observe
    def f(a: Any, b: Any) -> Any:
        return {"big": 2**200, "obj": Weird()}

    f(Weird(), cyclic)
    attrs = memory.attrs("f")
    assert "<Weird>" in attrs[Attr.OBSERVATION_INPUT]
    assert json.loads(attrs[Attr.OBSERVATION_OUTPUT])["big"] == str(2**200)


def test_mask_applies_and_failing_mask_hides_everything(make_client: Any, memory: Memory) -> None:
    make_client(mask=lambda *, data: "***" if isinstance(data, str) else data)

    @observe
    def f(x: str) -> str:
        return "secret"

    f("in")
    assert memory.attrs("f")[Attr.OBSERVATION_OUTPUT] == '"***"'


def test_failing_mask(make_client: Any, memory: Memory) -> None:
    def bad_mask(*, data: Any) -> Any:
        raise RuntimeError("mask bug")

    make_client(mask=bad_mask)

    @observe
    def f(x: str) -> str:
        return "secret"

    assert f("in") == "secret"
    attrs = memory.attrs("f")
    assert attrs[Attr.OBSERVATION_OUTPUT] == '"<fully masked due to failed mask function>"'
    assert attrs[Attr.OBSERVATION_INPUT] == '"<fully masked due to failed mask function>"'


def test_disabled_client_passes_through(memory: Memory, caplog: pytest.LogCaptureFixture) -> None:
    # No keys anywhere: the env client is disabled; the function still runs, specials still popped.
    @observe
    def f(**kwargs: Any) -> dict[str, Any]:
        return kwargs

    assert f(a=1, interactiveai_trace_id="x" * 32) == {"a": 1}
    assert f() == {}
    assert caplog.text.count("no public/secret key") == 1
    assert get_client().enabled is False


def test_public_key_routes_nested_get_client(make_client: Any, memory: Memory) -> None:
    first = make_client(public_key="pk-a")
    second = make_client(public_key="pk-b")
    seen: list[str | None] = []

    @observe
    def inner() -> None:
        seen.append(get_client().public_key)

    @observe
    def outer() -> None:
        seen.append(get_client().public_key)
        inner()

    outer(interactiveai_public_key="pk-b")
    assert seen == ["pk-b", "pk-b"]
    scopes = {s.name: (s.instrumentation_scope.attributes or {}).get("public_key") for s in memory.spans()}
    assert scopes == {"outer": "pk-b", "inner": "pk-b"}
    assert first.enabled and second.enabled


def test_decorated_function_keeps_metadata(client: InteractiveAI) -> None:
    @observe
    def documented(x: int) -> int:
        """Doc."""
        return x

    assert documented.__name__ == "documented"
    assert documented.__doc__ == "Doc."


def test_parent_id_without_trace_id_is_ignored(
    client: InteractiveAI, memory: Memory, caplog: pytest.LogCaptureFixture
) -> None:
    @observe
    def f() -> int:
        return 1

    assert f(interactiveai_parent_observation_id="0123456789abcdef") == 1
    assert memory.span("f").parent is None
    assert "needs interactiveai_trace_id" in caplog.text


async def test_public_key_routing_survives_tasks_and_generators(make_client: Any, memory: Memory) -> None:
    make_client(public_key="pk-a")
    make_client(public_key="pk-b")
    seen: list[str | None] = []

    async def background() -> None:
        seen.append(get_client().public_key)

    @observe
    def produce() -> Iterator[int]:
        seen.append(get_client().public_key)
        yield 1

    @observe
    async def entry() -> None:
        await asyncio.create_task(background())
        list(produce())

    await entry(interactiveai_public_key="pk-b")
    assert seen == ["pk-b", "pk-b"]
    assert {(s.instrumentation_scope.attributes or {}).get("public_key") for s in memory.spans()} == {"pk-b"}


def test_observe_on_a_lambda_and_partial(client: InteractiveAI, memory: Memory) -> None:
    import functools

    double = observe(lambda x: x * 2)
    add = observe(name="add")(functools.partial(lambda a, b: a + b, 1))
    assert double(2) == 4 and add(2) == 3
    assert {s.name for s in memory.spans()} == {"<lambda>", "add"}


def test_abandoned_generator_cleans_up_inner_spans(
    client: InteractiveAI, memory: Memory, caplog: pytest.LogCaptureFixture
) -> None:
    @observe
    def stream() -> Iterator[int]:
        with client.start_as_current_span(name="inner"):
            yield 1
            yield 2

    gen = stream()
    next(gen)
    del gen
    gc.collect()
    inner, outer = memory.span("inner"), memory.span("stream")
    assert inner.end_time is not None and outer.end_time is not None
    assert inner.parent is not None and inner.parent.span_id == outer.context.span_id
    assert "Failed to detach" not in caplog.text


async def test_streaming_response_keeps_the_span_open(client: InteractiveAI, memory: Memory) -> None:
    responses = pytest.importorskip("starlette.responses")  # the [server] extra; installed in CI
    StreamingResponse = responses.StreamingResponse

    @observe
    async def token(i: int) -> str:
        return f"t{i}"

    async def body() -> AsyncIterator[str]:
        for i in range(2):
            yield await token(i)

    @observe
    async def endpoint() -> Any:
        return StreamingResponse(body())

    response = await endpoint()
    assert memory.spans() == []  # still streaming
    chunks = [chunk async for chunk in response.body_iterator]
    assert chunks == ["t0", "t1"]
    span = memory.span("endpoint")
    assert span.attributes and span.attributes[Attr.OBSERVATION_OUTPUT] == '"t0t1"'
    tokens = [s for s in memory.spans() if s.name == "token"]
    assert len(tokens) == 2 and all(t.parent and t.parent.span_id == span.context.span_id for t in tokens)


def test_generator_under_contextmanager(client: InteractiveAI, memory: Memory) -> None:
    import contextlib

    @contextlib.contextmanager
    @observe
    def resource() -> Iterator[str]:
        yield "handle"

    with resource() as handle:
        assert handle == "handle"
    with pytest.raises(KeyError):
        with resource():
            raise KeyError("inside")
    spans = [s for s in memory.spans() if s.name == "resource"]
    assert len(spans) == 2 and all(s.end_time is not None for s in spans)
    assert dict(spans[1].attributes or {})[Attr.OBSERVATION_LEVEL] == "ERROR"


def test_long_generator_output_is_bounded(
    client: InteractiveAI, memory: Memory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from interactiveai.sdk import generators

    monkeypatch.setattr(generators, "MAX_COLLECTED_ITEMS", 3)

    @observe
    def stream() -> Iterator[str]:
        yield from "abcdef"

    assert "".join(stream()) == "abcdef"  # the caller still gets every item
    assert memory.attrs("stream")[Attr.OBSERVATION_OUTPUT] == '"abc"'
