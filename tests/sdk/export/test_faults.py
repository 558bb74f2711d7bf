"""Receiver faults: the caller never sees an exception or a stall, memory stays bounded, and spans
are delivered once the receiver recovers. Real sockets throughout (see ``OtlpReceiver`` modes)."""

from __future__ import annotations

import logging
import os
import time

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import Tracer

from interactiveai.sdk.export import ExportProcessor
from tests.sdk.export.helpers import end_spans, make_pipeline, wait_until
from tests.support.otlp_receiver import OtlpReceiver

pytestmark = pytest.mark.timeout(60)


def _timed_span_ends(tracer: Tracer, n: int, prefix: str = "span") -> tuple[float, float]:
    """End ``n`` spans; return (total seconds, slowest single span end)."""
    slowest = 0.0
    started = time.perf_counter()
    for i in range(n):
        t0 = time.perf_counter()
        with tracer.start_as_current_span(f"{prefix}-{i}", attributes={"i": i}):
            pass
        slowest = max(slowest, time.perf_counter() - t0)
    return time.perf_counter() - started, slowest


# A span end costs ~25 µs here, so 2,000 take ~0.05 s. The bounds sit just below the export timeout
# (1.5 s) and the "slow" delay (2 s): a caller that waited on the network even once would exceed them,
# while scheduling noise on a loaded 2-core CI box (seen: 100+ ms stalls) would not.
EXPORT_TIMEOUT = 1.5
MAX_LOOP_SECONDS = 1.2
MAX_SINGLE_END_SECONDS = 1.2


@pytest.mark.parametrize("mode", ["down", "slow", "500", "503", "429", "malformed"])
def test_faulty_receiver_costs_the_caller_nothing_and_spans_arrive_after_recovery(mode: str) -> None:
    with OtlpReceiver() as receiver:
        receiver.set_mode(mode, delay=2.0, retry_after=0.2)
        provider, processor, tracer = make_pipeline(
            receiver.endpoint,
            max_queue_size=5000,
            max_export_batch_size=100,
            schedule_delay=0.02,
            export_timeout=EXPORT_TIMEOUT,
        )
        total, slowest = _timed_span_ends(tracer, 2000)
        assert total < MAX_LOOP_SECONDS, f"2000 span ends took {total:.2f}s with the receiver {mode}"
        assert slowest < MAX_SINGLE_END_SECONDS
        if mode != "down":
            # The exporter really was failing and retrying ("slow" records a request after its delay).
            assert wait_until(lambda: len(receiver.requests) >= 2, timeout=10)
        assert processor.stats.dropped_queue_full == 0
        assert processor.stats.dropped_export_failed == 0
        receiver.set_mode("ok")
        assert processor.force_flush(10_000) is True
        assert receiver.span_count() == 2000
        assert {span["name"] for span in receiver.spans()} == {f"span-{i}" for i in range(2000)}
        provider.shutdown()


def test_queue_never_exceeds_its_bound_and_keeps_the_oldest_spans() -> None:
    with OtlpReceiver() as receiver:
        receiver.set_mode("down")
        provider, processor, tracer = make_pipeline(
            receiver.endpoint, max_queue_size=100, max_export_batch_size=20, schedule_delay=0.01, export_timeout=0.2
        )
        for i in range(1000):
            with tracer.start_as_current_span(f"span-{i}"):
                pass
            assert processor.stats.queued <= 100
            if i % 100 == 0:
                time.sleep(0.01)  # let the export thread take batches out and fail them
        stats = processor.stats
        assert stats.queued == 100
        assert stats.dropped_queue_full == 900
        receiver.set_mode("ok")
        assert processor.force_flush(10_000) is False  # all kept spans delivered, but 900 were dropped
        assert processor.stats.queued == 0
        assert processor.force_flush(1000) is True  # nothing dropped since
        # Drop-newest: the spans kept through the outage are the first 100, in order of ending.
        assert sorted(span["name"] for span in receiver.spans()) == sorted(f"span-{i}" for i in range(100))
        provider.shutdown()


def test_drops_are_logged_not_silent(caplog: pytest.LogCaptureFixture) -> None:
    with OtlpReceiver() as receiver:
        receiver.set_mode("down")
        provider, processor, tracer = make_pipeline(
            receiver.endpoint, max_queue_size=10, max_export_batch_size=5, export_timeout=0.2
        )
        with caplog.at_level(logging.WARNING, logger="interactiveai.sdk.export"):
            end_spans(tracer, 50)
            processor.shutdown(500)
    warnings = [record.getMessage() for record in caplog.records if "dropped" in record.getMessage()]
    assert warnings and "queue full" in warnings[-1]
    assert processor.stats.dropped_queue_full == 40


@pytest.mark.parametrize("status", ["400", "401", "403", "413"])
def test_rejected_batches_are_not_retried_logged_once_and_fail_the_flush(
    status: str, caplog: pytest.LogCaptureFixture
) -> None:
    with OtlpReceiver() as receiver:
        receiver.set_mode(status)
        provider, processor, tracer = make_pipeline(
            receiver.endpoint, max_export_batch_size=10, schedule_delay=60, export_timeout=2
        )
        with caplog.at_level(logging.ERROR, logger="interactiveai.sdk.export"):
            end_spans(tracer, 30, "first")
            assert processor.force_flush(5000) is False  # nothing left to try, but nothing delivered
            first = len(receiver.requests)
            assert 1 <= first <= 3  # at most one request per batch of 10: a 4xx is final, not retried
            end_spans(tracer, 5, "second")
            assert processor.force_flush(5000) is False  # dropped again since the previous flush
            assert len(receiver.requests) == first + 1
        assert processor.stats.dropped_export_failed == 35
        assert processor.stats.queued == 0
        assert len([r for r in caplog.records if f"HTTP {status}" in r.getMessage()]) == 1
        receiver.set_mode("ok")
        end_spans(tracer, 5, "third")
        assert processor.force_flush(5000) is True  # delivered, and nothing dropped since the last flush
        assert receiver.span_count() == 5
        provider.shutdown()


def test_garbage_200_body_counts_as_accepted() -> None:
    with OtlpReceiver() as receiver:
        receiver.set_mode("garbage")
        provider, processor, tracer = make_pipeline(receiver.endpoint)
        end_spans(tracer, 10)
        assert processor.force_flush(5000) is True
        assert receiver.span_count() == 10
        assert processor.stats.exported == 10
        provider.shutdown()


def test_retry_after_is_honoured() -> None:
    with OtlpReceiver() as receiver:
        receiver.set_mode("429", retry_after=0.4)
        provider, processor, tracer = make_pipeline(receiver.endpoint, export_timeout=3)
        end_spans(tracer, 5)
        assert wait_until(lambda: len(receiver.requests) >= 3, timeout=5)
        times = [request.received_at for request in receiver.requests[:3]]
        assert min(b - a for a, b in zip(times, times[1:], strict=False)) >= 0.35
        receiver.set_mode("ok")
        assert processor.force_flush(5000)
        assert receiver.span_count() == 5
        provider.shutdown()


def test_flush_and_shutdown_are_bounded_with_a_dead_receiver() -> None:
    with OtlpReceiver() as receiver:
        receiver.set_mode("down")
        # A long export timeout: only the flush/shutdown timeouts may bound these calls.
        provider, processor, tracer = make_pipeline(receiver.endpoint, export_timeout=30)
        end_spans(tracer, 10)
        started = time.monotonic()
        assert processor.force_flush(300) is False
        assert time.monotonic() - started < 1.0
        started = time.monotonic()
        assert processor.shutdown(300) is False
        assert time.monotonic() - started < 1.0
        assert processor.stats.dropped_export_failed + processor.stats.queued >= 10


def test_shutdown_is_bounded_when_the_receiver_hangs() -> None:
    with OtlpReceiver() as receiver:
        receiver.set_mode("slow", delay=5)
        provider, processor, tracer = make_pipeline(receiver.endpoint, export_timeout=30)
        end_spans(tracer, 10)
        assert wait_until(lambda: processor.stats.queued == 10 and processor._request is not None)
        started = time.monotonic()
        assert processor.shutdown(300) is False
        assert time.monotonic() - started < 1.0


def test_shutdown_is_bounded_even_with_the_stock_exporter_hanging() -> None:
    with OtlpReceiver() as receiver:
        receiver.set_mode("slow", delay=5)
        processor = ExportProcessor(
            OTLPSpanExporter(endpoint=receiver.endpoint, timeout=30),
            max_queue_size=100,
            max_export_batch_size=10,
            schedule_delay=0.01,
            export_timeout=30,
        )
        provider = TracerProvider(shutdown_on_exit=False)
        provider.add_span_processor(processor)
        end_spans(provider.get_tracer("t"), 5)
        assert wait_until(lambda: len(receiver.requests) == 0 and processor._request is not None)
        started = time.monotonic()
        assert processor.force_flush(200) is False
        assert processor.shutdown(300) is False
        assert time.monotonic() - started < 1.5


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX-only")
def test_fork_child_exports_its_own_spans_only() -> None:
    with OtlpReceiver() as receiver:
        provider, processor, tracer = make_pipeline(receiver.endpoint, schedule_delay=60)
        end_spans(tracer, 3, "parent")  # queued in the parent (and its export thread started)
        pid = os.fork()
        if pid == 0:  # the child: report through the exit code only
            code = 1
            try:
                end_spans(tracer, 2, "child")
                code = 0 if processor.force_flush(5000) and processor.stats.exported == 2 else 2
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert sorted(span["name"] for span in receiver.spans()) == ["child-0", "child-1"]
        assert processor.force_flush(5000)
        names = sorted(span["name"] for span in receiver.all_spans())
        assert names == ["child-0", "child-1", "parent-0", "parent-1", "parent-2"]  # each exactly once
        provider.shutdown()


def test_queue_bound_holds_with_many_threads_ending_spans() -> None:
    import threading

    with OtlpReceiver() as receiver:
        receiver.set_mode("down")
        provider, processor, tracer = make_pipeline(
            receiver.endpoint, max_queue_size=50, max_export_batch_size=10, schedule_delay=0.001, export_timeout=0.05
        )
        peak = 0
        stop = threading.Event()

        def watch() -> None:
            nonlocal peak
            while not stop.is_set():
                peak = max(peak, len(processor._queue))

        watcher = threading.Thread(target=watch)
        watcher.start()
        workers = [threading.Thread(target=end_spans, args=(tracer, 2000, f"w{n}")) for n in range(4)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        stop.set()
        watcher.join()
        stats = processor.stats
        # Racing threads may pass the bound for an instant, by at most one span each (see on_end).
        assert peak <= 50 + len(workers)
        assert stats.queued <= 50
        assert stats.queued + stats.dropped_queue_full + stats.dropped_export_failed + stats.exported <= 8000
        receiver.set_mode("ok")
        assert processor.force_flush(5000) is False  # what was kept is delivered; the rest was dropped
        assert processor.stats.queued == 0
        assert receiver.span_count() == processor.stats.exported
        provider.shutdown()


def test_retry_after_longer_than_the_export_timeout_paces_the_processor(caplog: pytest.LogCaptureFixture) -> None:
    with OtlpReceiver() as receiver:
        receiver.set_mode("429", retry_after=0.8)
        provider, processor, tracer = make_pipeline(receiver.endpoint, schedule_delay=0.01, export_timeout=0.3)
        with caplog.at_level(logging.WARNING, logger="interactiveai.sdk.export"):
            end_spans(tracer, 5)
            assert wait_until(lambda: len(receiver.requests) >= 3, timeout=5)
        times = [request.received_at for request in receiver.requests[:3]]
        # Without the hint the processor would retry every schedule_delay (10 ms).
        assert min(b - a for a, b in zip(times, times[1:], strict=False)) >= 0.7
        assert len([r for r in caplog.records if "unreachable or refusing" in r.getMessage()]) == 1
        receiver.set_mode("ok")
        assert processor.force_flush(5000)
        assert receiver.span_count() == 5
        provider.shutdown()
