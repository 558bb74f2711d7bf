"""Bursts and the memory bound, over real loopback HTTP: a burst arrives complete with default
settings, the buffer is bounded by bytes rather than spans, a backlog is held encoded and goes out
in bigger requests, and ``flush()`` reports every drop (a 4xx, a full buffer) once."""

from __future__ import annotations

import gc
import os
import time
import tracemalloc
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider

from interactiveai import InteractiveAI, observe
from interactiveai.sdk.export import ExportProcessor
from interactiveai.sdk.export.processor import estimate_span_bytes
from interactiveai.sdk.settings import DEFAULT_MAX_QUEUE_BYTES
from interactiveai.sdk.spans import start_span
from tests.sdk.export.helpers import end_spans, make_pipeline, wait_until
from tests.support.otlp_receiver import OtlpReceiver

pytestmark = pytest.mark.timeout(120)


def _client(receiver: OtlpReceiver, **options: Any) -> InteractiveAI:
    return InteractiveAI(
        public_key="pk-burst",
        secret_key="sk-burst",
        host=receiver.base_url,
        tracer_provider=TracerProvider(shutdown_on_exit=False),
        **options,
    )


def _processor(client: InteractiveAI) -> ExportProcessor:
    processor = client._current_processor()
    assert isinstance(processor, ExportProcessor)
    return processor


def test_a_burst_with_default_settings_arrives_complete() -> None:
    """The issue's case: one thread, a nested @observe function as fast as it can, 20,000
    observations. The former default (a 10,000-span queue) lost ~45 % of them here."""
    with OtlpReceiver(keep_spans=False) as receiver:
        client = _client(receiver)

        @observe
        def inner(i: int) -> dict[str, int]:
            return {"r": i}

        @observe
        def outer(i: int) -> dict[str, int]:
            return inner(i)

        for i in range(10_000):
            outer(i)
        assert client.flush(timeout=60) is True
        assert receiver.span_count() == 20_000
        assert receiver.total_span_count() == 20_000  # each once: nothing retried
        stats = _processor(client).stats
        assert (stats.exported, stats.dropped_queue_full, stats.dropped_export_failed) == (20_000, 0, 0)
        assert (stats.queued, stats.queued_bytes) == (0, 0)


def test_the_bound_is_memory_not_a_span_count() -> None:
    bound = 4 * 1024 * 1024
    with OtlpReceiver() as receiver:
        receiver.set_mode("down")
        provider, processor, tracer = make_pipeline(
            receiver.endpoint, max_queue_bytes=bound, schedule_delay=0.01, export_timeout=0.2
        )
        # 80 KB spans (random hex: gzip halves a request of them, no more): fifty to eighty fit in
        # 4 MiB, as span objects, encoded, or in the compressed request kept for retries.
        for i in range(200):
            with tracer.start_as_current_span(f"big-{i}", attributes={"payload": os.urandom(40_000).hex()}):
                pass
            assert processor.stats.queued_bytes <= bound
        big = processor.stats
        assert 0 < big.dropped_queue_full < 200
        assert big.queued < 100
        processor.shutdown(100)

        # The same bound holds 500 small spans (~3 KB each as OTel SDK span objects, ~0.4 KB encoded):
        # a span count sized for one kind would be wrong for the other.
        provider, processor, tracer = make_pipeline(
            receiver.endpoint, max_queue_bytes=bound, schedule_delay=0.01, export_timeout=0.2
        )
        end_spans(tracer, 500)
        assert processor.stats.dropped_queue_full == 0
        assert processor.stats.queued == 500
        receiver.set_mode("ok")
        assert processor.force_flush(10_000) is True
        assert receiver.span_count() == 500
        provider.shutdown()


def test_a_backlog_is_held_encoded_and_bounded_while_the_receiver_is_down() -> None:
    with OtlpReceiver() as receiver:
        receiver.set_mode("down")
        provider, processor, tracer = make_pipeline(receiver.endpoint, schedule_delay=0.01, export_timeout=0.2)
        end_spans(tracer, 2000)
        assert processor.stats.queued == 2000
        # The encoding thread does not wait for the receiver: the span objects (~3 KB each, by the
        # estimate) are let go and the backlog is kept as OTLP/JSON (~0.3 KB a span here).
        assert wait_until(lambda: len(processor._queue) == 0, timeout=10)
        assert processor.stats.queued == 2000
        assert 0 < processor.stats.queued_bytes < 2000 * 1000
        receiver.set_mode("ok")
        assert processor.force_flush(10_000) is True
        assert receiver.span_count() == 2000
        assert processor.stats.queued_bytes == 0
        provider.shutdown()


def test_a_backlog_goes_out_in_bigger_requests() -> None:
    with OtlpReceiver() as receiver:
        receiver.set_mode("slow", delay=0.3)  # every request takes 0.3 s: batches pile up meanwhile
        provider, processor, tracer = make_pipeline(
            receiver.endpoint, max_export_batch_size=50, schedule_delay=0.05, export_timeout=5
        )
        end_spans(tracer, 2000)
        assert processor.force_flush(30_000) is True
        assert receiver.span_count() == 2000
        sizes = [len(request.spans) for request in receiver.requests]
        assert sum(sizes) == 2000  # once each
        assert max(sizes) > 50  # what waited went out together
        assert len(sizes) < 2000 // 50
        provider.shutdown()


def test_flush_is_false_after_a_401_and_true_once_nothing_more_is_dropped() -> None:
    with OtlpReceiver() as receiver:
        receiver.set_mode("401")
        client = _client(receiver)

        @observe
        def work(i: int) -> int:
            return i

        work(1)
        assert client.flush(timeout=5) is False  # documented: True only when everything was delivered
        assert _processor(client).stats.dropped_export_failed == 1
        assert client.flush(timeout=5) is True  # nothing new dropped since the previous flush
        receiver.set_mode("ok")
        work(2)
        assert client.flush(timeout=5) is True
        assert receiver.span_count() == 1


def test_flush_is_false_after_a_full_buffer_dropped_a_span() -> None:
    with OtlpReceiver() as receiver:
        client = _client(receiver, max_queue_bytes=64 * 1024)

        @observe
        def work(text: str) -> str:
            return text

        work("x" * 100_000)  # alone over the bound: dropped in on_end, counted, logged at the flush
        work("small")
        assert client.flush(timeout=5) is False
        assert _processor(client).stats.dropped_queue_full == 1
        assert receiver.span_count() == 1
        work("small again")
        assert client.flush(timeout=5) is True
        assert receiver.span_count() == 2


def test_max_queue_size_still_caps_the_number_of_spans() -> None:
    with OtlpReceiver() as receiver:
        receiver.set_mode("down")
        provider, processor, tracer = make_pipeline(
            receiver.endpoint, max_queue_size=30, schedule_delay=0.01, export_timeout=0.2
        )
        end_spans(tracer, 100)
        assert (processor.stats.queued, processor.stats.dropped_queue_full) == (30, 70)
        receiver.set_mode("ok")
        assert processor.force_flush(10_000) is False  # delivered, but 70 were dropped
        assert receiver.span_count() == 30
        provider.shutdown()


def test_default_bound_holds_100_000_small_observations_even_unencoded() -> None:
    """DESIGN §7's burst must fit the default bound by the processor's own estimate."""
    held: list[ReadableSpan] = []

    class Hold(SpanProcessor):
        def on_end(self, span: ReadableSpan) -> None:
            held.append(span)

    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(Hold())
    tracer = provider.get_tracer("interactiveai-sdk", "0.1.0")
    for i in range(100):
        span = start_span(
            tracer,
            "work",
            attributes={
                "interactiveai.observation.type": "span",
                "interactiveai.observation.input": f'{{"args": [{i + 50_000}], "kwargs": {{}}}}',
                "interactiveai.observation.output": f'{{"r": {i + 50_002}}}',
            },
        )
        span.end()
    largest = max(estimate_span_bytes(span) for span in held)
    assert largest * 100_000 < DEFAULT_MAX_QUEUE_BYTES


@pytest.mark.parametrize("kind", ["observation", "otel"])
@pytest.mark.parametrize("payload", [20, 5000])
def test_the_estimate_follows_the_memory_a_queued_span_holds(kind: str, payload: int) -> None:
    held: list[ReadableSpan] = []

    class Hold(SpanProcessor):
        def on_end(self, span: ReadableSpan) -> None:
            held.append(span)

    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(Hold())
    tracer = provider.get_tracer("interactiveai-sdk", "0.1.0")

    def one(i: int) -> None:
        attributes = {f"key.{j}": f"{i:08d}{j}" + "v" * payload for j in range(4)} | {"count": i + 1000}
        if kind == "observation":
            start_span(tracer, "work", attributes=attributes).end()
        else:
            with tracer.start_as_current_span("work", attributes=attributes):
                pass

    for i in range(100):
        one(i)
    held.clear()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(2000):
            one(i)
        gc.collect()
        real = (tracemalloc.get_traced_memory()[0] - before) / len(held)
    finally:
        tracemalloc.stop()
    estimated = sum(map(estimate_span_bytes, held)) / len(held)
    assert 0.6 < estimated / real < 1.5, (estimated, real)


def test_on_end_never_blocks_on_a_hung_receiver_even_when_the_buffer_is_full() -> None:
    with OtlpReceiver() as receiver:
        receiver.set_mode("slow", delay=5)
        provider, processor, tracer = make_pipeline(
            receiver.endpoint, max_queue_bytes=64 * 1024, schedule_delay=0.001, export_timeout=10
        )
        started = time.perf_counter()
        end_spans(tracer, 3000)
        assert time.perf_counter() - started < 3  # ~25 µs a span; only a wait on the network could exceed
        assert processor.stats.dropped_queue_full > 0
        assert processor.shutdown(200) is False
