"""The lean span path (``interactiveai.sdk.spans``): same spans as ``Tracer.start_span``, cheaper."""

from __future__ import annotations

import random
import threading
from typing import Any

import pytest
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.propagate import inject
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, TracerProvider, _TracerConfig, sampling
from opentelemetry.sdk.trace import Span as SdkSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, NonRecordingSpan, SpanContext, TraceFlags, TraceState
from opentelemetry.trace.status import Status, StatusCode

from interactiveai import InteractiveAI, observe
from interactiveai.sdk import spans
from interactiveai.sdk.spans import ObservationSpan, start_span
from tests.sdk.conftest import Memory

pytestmark = pytest.mark.skipif(not spans.fast_path_supported(), reason="OTel SDK layout without the fast path")


def _provider(**kwargs: Any) -> tuple[TracerProvider, InMemorySpanExporter]:
    provider = TracerProvider(shutdown_on_exit=False, **kwargs)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def _fields(span: ReadableSpan) -> dict[str, Any]:
    """Everything a ReadableSpan consumer can read (times excluded)."""
    return {
        "name": span.name,
        "context": span.context,
        "parent": span.parent,
        "kind": span.kind,
        "attributes": dict(span.attributes or {}),
        "events": [(e.name, dict(e.attributes or {})) for e in span.events],
        "links": [(link.context, dict(link.attributes or {})) for link in span.links],
        "status": (span.status.status_code, span.status.description),
        "resource": span.resource,
        "scope": span.instrumentation_scope,
        "dropped": (span.dropped_attributes, span.dropped_events, span.dropped_links),
    }


ATTRS = {"interactiveai.observation.type": "span", "n": 3, "f": 1.5, "b": True, "tags": ["a", "b"]}


@pytest.mark.parametrize("attributes", [None, {}, ATTRS, {"s": "x" * 10}])
def test_lean_span_equals_stock_span(attributes: Any) -> None:
    provider, exporter = _provider()
    tracer = provider.get_tracer("interactiveai-sdk", "1", attributes={"public_key": "pk"})
    state = random.getstate()
    stock = tracer.start_span("s", attributes=attributes)
    random.setstate(state)
    ours = start_span(tracer, "s", None, attributes)
    assert type(ours) is ObservationSpan and isinstance(ours, SdkSpan) and isinstance(ours, ReadableSpan)
    for span in (stock, ours):
        span.set_attribute("out", "o")
        span.set_attribute("list", [1, 2])
        span.set_attributes({"more": 1, "tuple": ("x",)})
        span.add_event("e", {"k": "v"})
        span.add_link(SpanContext(1, 2, False), {"l": 1})
        span.update_name("renamed")
        span.set_status(Status(StatusCode.ERROR, "bad"))
        span.end()
    stock_done, ours_done = exporter.get_finished_spans()
    assert _fields(ours_done) == _fields(stock_done)
    assert ours_done.context.span_id == stock_done.context.span_id  # same ids from the same random state


def test_limits_are_applied_as_by_the_sdk() -> None:
    provider, exporter = _provider(
        span_limits=SpanLimits(max_span_attributes=2, max_span_attribute_length=3, max_events=1, max_links=1)
    )
    tracer = provider.get_tracer("t")
    for start in (lambda a: tracer.start_span("s", attributes=a), lambda a: start_span(tracer, "s", None, a)):
        span = start({"a": "abcdef", "b": 1, "c": True})
        span.set_attribute("d", "long value")
        span.set_attributes({"e": 2.5})
        span.add_event("one")
        span.add_event("two")
        span.add_link(SpanContext(1, 2, False))
        span.add_link(SpanContext(1, 3, False))
        span.end()
    stock, ours = exporter.get_finished_spans()
    assert {**_fields(ours), "context": None} == {**_fields(stock), "context": None}
    assert ours.dropped_attributes == 3 and ours.dropped_events == 1 and ours.dropped_links == 1


def test_attribute_writes_keep_the_sdks_order_and_eviction_under_a_count_limit() -> None:
    """``set_attributes`` writes a batch at once when nothing has to be evicted: a key written again
    still moves to the end, and past the limit the oldest keys go first, as in the SDK."""
    provider, exporter = _provider(span_limits=SpanLimits(max_span_attributes=4))
    tracer = provider.get_tracer("t")
    for start in (lambda a: tracer.start_span("s", attributes=a), lambda a: start_span(tracer, "s", None, a)):
        span = start({"a": "1", "b": 2})
        span.set_attributes({"a": "again", "c": 3.0})  # fits: "a" moves to the end
        span.set_attributes({"d": True, "b": 5})  # at the limit: "b" written again moves too
        span.set_attributes({"e": "x", "f": "y"})  # full: the two oldest go
        span.end()
    stock, ours = exporter.get_finished_spans()
    assert list((ours.attributes or {}).items()) == list((stock.attributes or {}).items())
    assert list((ours.attributes or {}).items()) == [("d", True), ("b", 5), ("e", "x"), ("f", "y")]
    assert ours.dropped_attributes == stock.dropped_attributes == 2


@pytest.mark.parametrize(
    "sampler",
    [
        sampling.DEFAULT_ON,
        sampling.DEFAULT_OFF,
        sampling.ALWAYS_ON,
        sampling.ALWAYS_OFF,
        sampling.TraceIdRatioBased(0.5),
        sampling.ParentBased(sampling.TraceIdRatioBased(0.5)),
    ],
)
@pytest.mark.parametrize(
    "parent",
    [
        None,
        SpanContext(5, 6, True, TraceFlags(TraceFlags.SAMPLED), TraceState([("k", "v")])),
        SpanContext(5, 6, True, TraceFlags(TraceFlags.DEFAULT)),
        SpanContext(7, 8, False, TraceFlags(TraceFlags.SAMPLED | TraceFlags.RANDOM_TRACE_ID)),
        SpanContext(7, 8, False, TraceFlags(TraceFlags.DEFAULT)),
    ],
)
def test_sampling_decisions_equal_the_sdk(sampler: sampling.Sampler, parent: SpanContext | None) -> None:
    provider, exporter = _provider(sampler=sampler)
    tracer = provider.get_tracer("t")
    ctx = trace.set_span_in_context(NonRecordingSpan(parent)) if parent is not None else None
    for seed in range(8):
        random.seed(seed)
        stock = tracer.start_span("s", context=ctx, attributes={"a": 1})
        random.seed(seed)
        ours = start_span(tracer, "s", ctx, {"a": 1})
        assert type(ours) is (ObservationSpan if stock.is_recording() else NonRecordingSpan)
        assert ours.get_span_context() == stock.get_span_context()
        assert ours.get_span_context().trace_flags == stock.get_span_context().trace_flags
        assert ours.get_span_context().trace_state == stock.get_span_context().trace_state
        stock.end()
        ours.end()
    finished = exporter.get_finished_spans()
    for stock_done, ours_done in zip(finished[::2], finished[1::2], strict=True):
        assert _fields(ours_done) == _fields(stock_done)


def test_disabled_tracer_gives_a_non_recording_span() -> None:
    provider, exporter = _provider()
    tracer = provider.get_tracer("t")
    tracer._set_tracer_config(_TracerConfig(is_enabled=False))
    span = start_span(tracer, "s")
    assert isinstance(span, NonRecordingSpan) and not span.is_recording()
    span.end()
    assert exporter.get_finished_spans() == ()


def test_other_tracers_take_their_own_start_span() -> None:
    calls: list[tuple[str, Any]] = []

    class Proxy(trace.NoOpTracer):
        def start_span(self, name: str, context: Any = None, **kwargs: Any) -> trace.Span:
            calls.append((name, kwargs["attributes"]))
            return trace.INVALID_SPAN

    assert start_span(Proxy(), "s", None, {"a": 1}) is trace.INVALID_SPAN
    assert calls == [("s", {"a": 1})]


def test_ended_span_is_a_frozen_snapshot() -> None:
    provider, exporter = _provider()
    span = start_span(provider.get_tracer("t"), "s", None, {"a": 1})
    span.end()
    (done,) = exporter.get_finished_spans()
    before = _fields(done), done.end_time
    span.set_attribute("a", 2)
    span.set_attributes({"b": 1})
    span.add_event("late")
    span.add_link(SpanContext(1, 2, False))
    span.update_name("late")
    span.set_status(Status(StatusCode.ERROR, "late"))
    span.end()
    assert (_fields(done), done.end_time) == before
    with pytest.raises(TypeError):
        done._attributes["x"] = 1  # type: ignore[index]
    assert not done.is_recording() if isinstance(done, SdkSpan) else True


def test_concurrent_set_attribute_on_one_span() -> None:
    provider, exporter = _provider(span_limits=SpanLimits(max_span_attributes=1000))
    span = start_span(provider.get_tracer("t"), "s")
    barrier = threading.Barrier(8)

    def writer(k: int) -> None:
        barrier.wait()
        for i in range(200):
            span.set_attribute(f"k{k}-{i}", i)
            span.set_attributes({f"m{k}-{i}": "v"})

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    span.end()
    (done,) = exporter.get_finished_spans()
    attributes = dict(done.attributes or {})
    assert len(attributes) == 1000 and done.dropped_attributes == 8 * 400 - 1000
    # Without a limit: every write kept.
    provider, exporter = _provider(span_limits=SpanLimits(max_span_attributes=10_000))
    span = start_span(provider.get_tracer("t"), "s")
    barrier = threading.Barrier(8)
    threads = [threading.Thread(target=writer, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    span.end()
    (done,) = exporter.get_finished_spans()
    assert len(done.attributes or {}) == 3200 and done.dropped_attributes == 0


def test_third_party_span_inside_observe_is_its_child_and_reaches_the_apps_processor(
    client: InteractiveAI, memory: Memory
) -> None:
    third_party = memory.provider.get_tracer("opentelemetry.instrumentation.requests")
    headers: dict[str, str] = {}

    @observe
    def outer() -> None:
        with third_party.start_as_current_span("HTTP GET") as http:
            http.set_attribute("http.method", "GET")
            inject(headers)
        assert trace.get_current_span() is not None

    outer()
    ours, http = memory.span("outer"), memory.span("HTTP GET")
    assert type(ours) is ObservationSpan
    assert http.parent is not None and http.parent.span_id == ours.context.span_id
    assert http.context.trace_id == ours.context.trace_id
    assert headers["traceparent"].split("-")[1:3] == [
        format(ours.context.trace_id, "032x"),
        format(http.context.span_id, "016x"),
    ]
    assert dict(memory.attrs("outer"))["interactiveai.observation.type"] == "span"


def test_observe_span_is_current_and_injectable(client: InteractiveAI) -> None:
    seen: dict[str, Any] = {}

    @observe
    def work() -> None:
        carrier: dict[str, str] = {}
        inject(carrier)
        seen["current"] = trace.get_current_span()
        seen["carrier"] = carrier

    token = otel_context.attach(otel_context.Context())
    try:
        work()
    finally:
        otel_context.detach(token)
    span = seen["current"]
    assert type(span) is ObservationSpan
    ctx = span.get_span_context()
    assert seen["carrier"]["traceparent"] == f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-03"


def test_exception_events_are_recorded(client: InteractiveAI, memory: Memory) -> None:
    @observe
    def boom() -> None:
        raise ValueError("no")

    with pytest.raises(ValueError):
        boom()
    span = memory.span("boom")
    assert [e.name for e in span.events] == ["exception"]
    assert span.events[0].attributes is not None and span.events[0].attributes["exception.type"] == "ValueError"
    assert span.dropped_events == 0 and span.links == ()


def test_span_links_added_later_are_kept() -> None:
    provider, exporter = _provider()
    span = start_span(provider.get_tracer("t"), "s")
    span.add_link(SpanContext(1, 2, False), {"why": "retry"})
    span.end()
    (done,) = exporter.get_finished_spans()
    assert [(link.context.span_id, dict(link.attributes or {})) for link in done.links] == [(2, {"why": "retry"})]


def test_links_argument_is_not_needed_by_observations() -> None:
    # The lean path starts internal spans without links, exactly as the SDK does for links=().
    provider, _ = _provider()
    tracer = provider.get_tracer("t")
    assert start_span(tracer, "s").links == tracer.start_span("s", links=[Link(SpanContext(0, 0, False))]).links


def test_tracer_subclasses_and_unusual_tracers_keep_their_own_start_span() -> None:
    provider, exporter = _provider()
    stock_tracer = provider.get_tracer("t")

    class Custom(type(stock_tracer)):  # type: ignore[misc]
        pass

    custom = Custom(
        stock_tracer.sampler,
        stock_tracer.resource,
        stock_tracer.span_processor,
        stock_tracer.id_generator,
        stock_tracer.instrumentation_info,
        stock_tracer._span_limits,
        stock_tracer._instrumentation_scope,
    )
    span = start_span(custom, "custom")
    assert isinstance(span, SdkSpan) and type(span) is not ObservationSpan
    span.end()
    assert type(start_span(stock_tracer, "lean")) is ObservationSpan
    assert [s.name for s in exporter.get_finished_spans()] == ["custom"]


def test_invalid_and_non_plain_writes_take_the_sdk_validation() -> None:
    from types import MappingProxyType

    provider, exporter = _provider()
    tracer = provider.get_tracer("t")
    initial = {"": 1, "n": None, "b": b"x"}
    for start in (lambda: tracer.start_span("s", attributes=initial), lambda: start_span(tracer, "s", None, initial)):
        span = start()
        span.set_attributes(MappingProxyType({"m": "x", "l": [1, 2]}))
        span.set_attributes({"": "empty key", "none": None, "ok": 1})
        span.set_attribute("", "empty")
        span.set_attribute("obj", object())  # type: ignore[arg-type]
        span.set_attribute("seq", ("a", "b"))
        span.end()
    stock, ours = exporter.get_finished_spans()
    assert dict(ours.attributes or {}) == dict(stock.attributes or {})
    assert ours.dropped_attributes == stock.dropped_attributes
    assert dict(ours.attributes or {})["l"] == (1, 2) and "" not in (ours.attributes or {})


def test_concurrent_multi_span_processor_provider() -> None:
    from opentelemetry.sdk.trace import ConcurrentMultiSpanProcessor

    processors = ConcurrentMultiSpanProcessor(2)
    provider = TracerProvider(shutdown_on_exit=False, active_span_processor=processors)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    span = start_span(provider.get_tracer("t"), "s", None, {"a": "b"})
    assert type(span) is ObservationSpan
    span.end()
    (done,) = exporter.get_finished_spans()
    assert done.name == "s" and dict(done.attributes or {}) == {"a": "b"}
    provider.shutdown()


def test_custom_id_generator_and_sdk_metrics_are_called() -> None:
    from opentelemetry.sdk.trace.id_generator import IdGenerator

    class Sequential(IdGenerator):
        def __init__(self) -> None:
            self.n = 0

        def generate_span_id(self) -> int:
            self.n += 1
            return self.n

        def generate_trace_id(self) -> int:
            return 0xABC

        def is_trace_id_random(self) -> bool:
            return False

    provider, exporter = _provider(id_generator=Sequential())
    tracer = provider.get_tracer("t")
    calls: list[Any] = []

    class Metrics:
        def start_span(self, parent: Any, decision: Any) -> Any:
            calls.append(("start", parent, decision))
            return lambda: calls.append(("end",))

    tracer._tracer_metrics = Metrics()  # type: ignore[assignment]
    span = start_span(tracer, "s")
    ctx = span.get_span_context()
    assert (ctx.trace_id, ctx.span_id, ctx.trace_flags) == (0xABC, 1, TraceFlags(TraceFlags.SAMPLED))
    assert calls == [("start", None, sampling.Decision.RECORD_AND_SAMPLE)]
    span.end()
    assert calls[-1] == ("end",) and len(exporter.get_finished_spans()) == 1
