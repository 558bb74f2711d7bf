"""ExportProcessor with a real provider and the real exporter over loopback HTTP."""

from __future__ import annotations

import time

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from interactiveai.sdk.export import ExportProcessor, is_trace_sampled, make_export_filter
from tests.sdk.export.helpers import PUBLIC_KEY, end_spans, make_pipeline, wait_until
from tests.support.otlp_receiver import OtlpReceiver


def test_full_batches_go_out_without_waiting_for_the_timer() -> None:
    with OtlpReceiver() as receiver:
        provider, processor, tracer = make_pipeline(receiver.endpoint, max_export_batch_size=10, schedule_delay=30)
        end_spans(tracer, 30)
        receiver.wait_for_spans(30, timeout=5)  # schedule_delay is 30 s: only "batch full" can explain this
        # However the three batches were taken, every span went out once.
        assert sum(len(request.spans) for request in receiver.requests) == 30
        provider.shutdown()


def test_partial_batch_goes_out_on_the_timer() -> None:
    with OtlpReceiver() as receiver:
        provider, processor, tracer = make_pipeline(receiver.endpoint, max_export_batch_size=100, schedule_delay=0.1)
        end_spans(tracer, 3)
        started = time.monotonic()
        receiver.wait_for_spans(3, timeout=5)
        assert time.monotonic() - started < 2
        assert wait_until(lambda: processor.stats.exported == 3)
        provider.shutdown()


def test_force_flush_delivers_everything_queued() -> None:
    with OtlpReceiver() as receiver:
        provider, processor, tracer = make_pipeline(receiver.endpoint, max_export_batch_size=64, schedule_delay=60)
        end_spans(tracer, 150)
        assert processor.force_flush(5000) is True
        assert receiver.span_count() == 150
        assert processor.stats.queued == 0
        assert processor.force_flush(5000) is True  # nothing queued: immediate
        provider.shutdown()


def test_shutdown_drains_and_later_spans_are_ignored() -> None:
    with OtlpReceiver() as receiver:
        provider, processor, tracer = make_pipeline(receiver.endpoint, schedule_delay=60)
        end_spans(tracer, 5, "before")
        assert processor.shutdown(5000) is True
        assert receiver.span_count() == 5
        assert processor.shutdown(5000) is True  # idempotent
        end_spans(tracer, 5, "after")
        assert processor.stats.queued == 0
        assert processor.force_flush(100) is True
        assert receiver.span_count() == 5


def test_provider_shutdown_calls_our_shutdown() -> None:
    with OtlpReceiver() as receiver:
        provider, processor, tracer = make_pipeline(receiver.endpoint, schedule_delay=60)
        end_spans(tracer, 4)
        provider.shutdown()
        assert receiver.span_count() == 4


def test_spans_from_every_thread_arrive_once() -> None:
    import threading

    with OtlpReceiver() as receiver:
        provider, processor, tracer = make_pipeline(receiver.endpoint, max_export_batch_size=50)
        threads = [threading.Thread(target=end_spans, args=(tracer, 200, f"t{n}")) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert processor.force_flush(5000)
        assert receiver.span_count() == 800
        assert len(receiver.all_spans()) == 800
        provider.shutdown()


def test_sample_rate_keeps_whole_traces_by_trace_id() -> None:
    with OtlpReceiver() as receiver:
        provider, processor, tracer = make_pipeline(receiver.endpoint, sample_rate=0.3)
        kept_expected = set()
        for i in range(300):
            with tracer.start_as_current_span(f"root-{i}") as root:
                with tracer.start_as_current_span("child"):
                    pass
            trace_id = root.get_span_context().trace_id
            if is_trace_sampled(trace_id, 0.3):
                kept_expected.add(format(trace_id, "032x"))
        assert processor.force_flush(5000)
        spans = receiver.spans()
        assert {span["trace_id"] for span in spans} == kept_expected
        assert len(spans) == 2 * len(kept_expected)  # no trace is cut in half
        assert 50 < len(kept_expected) < 130
        provider.shutdown()


def test_sample_rate_zero_exports_nothing() -> None:
    with OtlpReceiver() as receiver:
        provider, processor, tracer = make_pipeline(receiver.endpoint, sample_rate=0.0)
        end_spans(tracer, 20)
        assert processor.force_flush(1000)
        assert receiver.requests == []
        provider.shutdown()


def test_should_export_filters_in_on_end() -> None:
    with OtlpReceiver() as receiver:
        provider, processor, tracer = make_pipeline(receiver.endpoint, should_export=make_export_filter(PUBLIC_KEY))
        end_spans(tracer, 3, "ours")
        other_key = provider.get_tracer("interactiveai-sdk", attributes={"public_key": "someone-else"})
        end_spans(other_key, 3, "theirs")
        end_spans(provider.get_tracer("opentelemetry.instrumentation.requests"), 3, "http")
        end_spans(provider.get_tracer("openinference.instrumentation.openai"), 2, "llm")
        assert processor.force_flush(5000)
        names = sorted(span["name"] for span in receiver.spans())
        assert names == ["llm-0", "llm-1", "ours-0", "ours-1", "ours-2"]
        assert processor.stats.queued == 0
        provider.shutdown()


def test_a_raising_filter_drops_the_span_not_the_app() -> None:
    def broken(span: ReadableSpan) -> bool:
        raise RuntimeError("bug in user filter")

    with OtlpReceiver() as receiver:
        provider, processor, tracer = make_pipeline(receiver.endpoint, should_export=broken)
        end_spans(tracer, 3)  # must not raise
        assert processor.force_flush(1000)
        assert receiver.requests == []
        provider.shutdown()


def test_works_with_any_span_exporter() -> None:
    memory = InMemorySpanExporter()
    processor = ExportProcessor(
        memory, max_queue_size=100, max_export_batch_size=10, schedule_delay=60, export_timeout=1
    )
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(processor)
    end_spans(provider.get_tracer("t"), 25)
    assert processor.force_flush(2000)
    assert len(memory.get_finished_spans()) == 25
    assert processor.stats.exported == 25
    provider.shutdown()


def test_without_an_export_thread_spans_queue_and_shutdown_exports_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """Thread creation can fail (limits, interpreter shutdown): never into the caller."""
    import threading

    from interactiveai.sdk.export import processor as processor_module

    class Unstartable(threading.Thread):
        def start(self) -> None:
            raise RuntimeError("can't start new thread")

    with OtlpReceiver() as receiver:
        provider, processor, tracer = make_pipeline(receiver.endpoint, max_queue_size=10)
        monkeypatch.setattr(processor_module.threading, "Thread", Unstartable)
        end_spans(tracer, 15)  # no exception
        assert processor.stats.queued == 10
        assert processor.stats.dropped_queue_full == 5
        assert processor.force_flush(500) is False
        monkeypatch.undo()  # the receiver's own threads must be able to start
        assert processor.shutdown(5000) is True  # exported from the calling thread
        assert receiver.span_count() == 10


def test_flush_under_a_steady_stream_returns_once_its_spans_are_out() -> None:
    """A flush exports what was queued when it was called; spans ended meanwhile do not delay it."""
    import threading

    with OtlpReceiver() as receiver:
        provider, processor, tracer = make_pipeline(receiver.endpoint, max_export_batch_size=50, schedule_delay=60)
        end_spans(tracer, 120, "before")
        stop = threading.Event()

        def stream() -> None:
            while not stop.is_set():
                end_spans(tracer, 10, "during")

        producer = threading.Thread(target=stream)
        producer.start()
        try:
            assert processor.force_flush(10_000) is True
        finally:
            stop.set()
            producer.join()
        names = {span["name"] for span in receiver.spans()}
        assert {f"before-{i}" for i in range(120)} <= names
        provider.shutdown()
