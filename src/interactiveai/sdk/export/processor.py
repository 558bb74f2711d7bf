"""The span processor: a bounded queue drained by one background thread.

``on_end`` runs on the caller's thread at the end of every observation, so it does the least
possible: the sampling and filter checks, a deque append, and a wake-up only when a batch is full.
Encoding and I/O happen on the export thread. Nothing here blocks the caller or raises into it:
when the queue is full the *new* span is dropped and counted, and the count is logged at most once
per interval (the closest existing SDK dropped silently; its users could not tell why traces had holes).

The queue bound covers the batch being exported too, so a failed batch can always be put back at
the front: spans survive a receiver outage of any length, up to ``max_queue_size`` of them.
"""

from __future__ import annotations

import collections
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from interactiveai.sdk.export.exporter import BatchResult, ExportOutcome, OtlpHttpExporter
from interactiveai.sdk.export.sampling import TRACE_ID_LIMIT, sampling_bound

__all__ = ["DROP_WARNING_INTERVAL", "ExportProcessor", "ExportStats"]

logger = logging.getLogger("interactiveai.sdk.export")

DROP_WARNING_INTERVAL = 30.0
"""Seconds between two warnings about dropped spans (the counts are cumulative, nothing is lost)."""


@dataclass(frozen=True)
class ExportStats:
    """Counters of one processor since it started (or since the fork that created this process)."""

    queued: int
    """Spans waiting in the queue or being exported right now."""
    exported: int
    """Spans the receiver accepted."""
    dropped_queue_full: int
    """Spans dropped in ``on_end`` because the queue was full."""
    dropped_export_failed: int
    """Spans dropped after the receiver rejected them, or still undelivered at shutdown."""


class _FlushRequest:
    __slots__ = ("done", "ok")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.ok = True


class ExportProcessor(SpanProcessor):
    """Batches ended spans and exports them from a background daemon thread.

    Args:
        exporter: Any ``SpanExporter``. With :class:`OtlpHttpExporter` failed batches are kept and
            retried; other exporters' failures are dropped and counted (they retry on their own).
        max_queue_size: Most spans held in memory (queued plus in flight).
        max_export_batch_size: Most spans per export request; a full batch is exported at once.
        schedule_delay: Seconds between exports of a partial batch.
        export_timeout: Seconds one export (retries included) may take.
        should_export: Cheap predicate run in ``on_end``; spans it rejects are never queued.
        sample_rate: Fraction of traces kept, decided on the trace id (see ``is_trace_sampled``).
    """

    def __init__(
        self,
        exporter: SpanExporter,
        *,
        max_queue_size: int,
        max_export_batch_size: int,
        schedule_delay: float,
        export_timeout: float,
        should_export: Callable[[ReadableSpan], bool] | None = None,
        sample_rate: float = 1.0,
    ) -> None:
        if max_queue_size < 1 or max_export_batch_size < 1:
            raise ValueError("max_queue_size and max_export_batch_size must be positive")
        if schedule_delay < 0 or export_timeout <= 0:
            raise ValueError("schedule_delay must be >= 0 and export_timeout > 0")
        self._exporter = exporter
        self._batch_export = exporter.export_batch if isinstance(exporter, OtlpHttpExporter) else None
        self._max_queue_size = max_queue_size
        self._batch_size = min(max_export_batch_size, max_queue_size)
        self._schedule_delay = schedule_delay
        self._export_timeout = export_timeout
        self._should_export = should_export
        # None means "keep every trace": the common case pays one `is None` test.
        self._sample_bound = None if sample_rate >= 1.0 else sampling_bound(sample_rate)
        self._is_shutdown = False
        self._dropped_filter_errors = 0
        self._init_state()
        ref = weakref.WeakMethod(self._init_state)
        os.register_at_fork(after_in_child=lambda: (method := ref()) is not None and method())

    def _init_state(self) -> None:
        """Fresh queue, lock and counters; the worker thread starts lazily on the first span.

        Also the fork hook: the child must not export (or even see) the parent's queued spans, and
        the parent's thread and lock do not exist in it.
        """
        self._queue: collections.deque[ReadableSpan] = collections.deque()
        self._in_flight = 0
        self._cond = threading.Condition(threading.Lock())
        self._batch_ready = False
        self._flush_requests: list[_FlushRequest] = []
        self._stopping = False
        self._stop_deadline = 0.0
        self._retry_at = 0.0
        self._next_tick = time.monotonic() + self._schedule_delay
        self._thread: threading.Thread | None = None
        self._thread_failed = False
        self._exported = 0
        self._dropped_full = 0
        self._dropped_failed = 0
        self._dropped_reported = 0
        self._last_drop_warning = float("-inf")
        self._last_failure_warning = float("-inf")

    # -- hot path --------------------------------------------------------------------------------

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        """Nothing to do when a span starts."""

    def on_end(self, span: ReadableSpan) -> None:
        """Queue an ended span for export, or drop it; never blocks, never raises."""
        if self._is_shutdown:
            return
        bound = self._sample_bound
        if bound is not None and (span.context.trace_id & TRACE_ID_LIMIT) >= bound:
            return
        should_export = self._should_export
        if should_export is not None:
            try:
                if not should_export(span):
                    return
            except Exception:  # a user-supplied filter must not break the application
                self._filter_failed()
                return
        queue = self._queue
        if len(queue) + self._in_flight >= self._max_queue_size:  # full: the common case in an outage
            self._dropped_full += 1
            return
        # Check again after appending: check-then-append is not atomic across threads, so a thread
        # that lost a race takes a span back out. The bound can be passed only for an instant, by at
        # most one span per thread ending a span at that very moment.
        queue.append(span)
        size = len(queue)
        if size + self._in_flight > self._max_queue_size:
            try:
                queue.pop()  # the newest span (ours or a racing thread's): drop-newest either way
            except IndexError:
                pass
            self._dropped_full += 1
            return
        if self._thread is None:
            self._start_worker()
        if size >= self._batch_size and not self._batch_ready:
            with self._cond:
                self._batch_ready = True
                self._cond.notify()

    def _filter_failed(self) -> None:
        # Logged once with the traceback; after that only counted, or a broken filter would log
        # on every span of the application.
        self._dropped_filter_errors += 1
        if self._dropped_filter_errors == 1:
            logger.exception("interactiveai: should_export raised; such spans are not exported (logged once)")

    def _start_worker(self) -> bool:
        """Start the export thread if it is not running; False when no thread can be started."""
        with self._cond:
            if self._thread is not None:
                return self._thread.is_alive() or not self._thread_failed
            thread = threading.Thread(target=self._run, name="interactiveai-export", daemon=True)
            self._thread = thread
        try:
            thread.start()
        except RuntimeError:
            # "can't start new thread" (resource limits, or interpreter shutdown). Not retried per
            # span: spans queue up to the bound, then are dropped and counted; shutdown() still
            # exports what it can from its own thread.
            self._thread_failed = True
            logger.exception("interactiveai: cannot start the export thread; spans are queued, not sent")
            return False
        return True

    # -- flush and shutdown ----------------------------------------------------------------------

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Export everything queued now; True when it was all delivered within ``timeout_millis``."""
        if self._is_shutdown or (not self._queue and not self._in_flight):
            return not self._queue
        request = _FlushRequest()
        if not self._start_worker():
            return False
        with self._cond:
            self._flush_requests.append(request)
            self._cond.notify()
        if not request.done.wait(max(timeout_millis, 0) / 1000):
            return False
        return request.ok

    def shutdown(self, timeout_millis: float | None = None) -> bool:  # type: ignore[override]
        """Export what is queued (within the timeout), stop the thread, close the exporter.

        Args:
            timeout_millis: Upper bound for the whole shutdown; default ``export_timeout``.

        Returns:
            True when every queued span was delivered. Idempotent; later ``on_end`` calls are no-ops.
        """
        if self._is_shutdown:
            return True
        self._is_shutdown = True
        timeout = self._export_timeout if timeout_millis is None else max(timeout_millis, 0) / 1000
        deadline = time.monotonic() + timeout
        ok = True
        if self._queue and not self._start_worker():
            # No export thread (it could not be started): export from this thread, within the timeout.
            ok = self._drain(deadline)
        elif self._queue or self._in_flight or self._thread is not None:
            with self._cond:
                self._stopping = True
                self._stop_deadline = deadline
                self._cond.notify()
                thread = self._thread
            if thread is not None:
                thread.join(max(deadline - time.monotonic(), 0))
                ok = not thread.is_alive() and not self._queue and not self._in_flight
        try:
            self._exporter.shutdown()  # also interrupts an export still retrying in the thread
        except Exception:
            logger.exception("interactiveai: exporter shutdown failed")
        self._report_drops(force=True)
        return ok

    @property
    def stats(self) -> ExportStats:
        """Current counters (approximate while other threads are ending spans)."""
        return ExportStats(
            queued=len(self._queue) + self._in_flight,
            exported=self._exported,
            dropped_queue_full=self._dropped_full,
            dropped_export_failed=self._dropped_failed,
        )

    # -- export thread ---------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            try:
                if self._run_once():
                    return
            except Exception:  # the thread must outlive any bug below, or spans pile up unexported
                logger.exception("interactiveai: export loop error; continuing")
                self._dropped_failed += self._in_flight
                self._in_flight = 0
                time.sleep(min(self._schedule_delay, 1.0) or 0.01)

    def _run_once(self) -> bool:
        """Wait for work, export it; True when the processor is shutting down and the thread should end."""
        next_tick = self._next_tick
        with self._cond:
            while not (self._stopping or self._flush_requests):
                now = time.monotonic()
                wake_at = next_tick if not self._batch_ready else now
                wake_at = max(wake_at, self._retry_at)  # after a failure, pause before retrying
                if wake_at <= now:
                    break
                self._cond.wait(wake_at - now)
            self._batch_ready = False
            requests, self._flush_requests = self._flush_requests, []
            stopping, stop_deadline = self._stopping, self._stop_deadline
        self._next_tick = time.monotonic() + self._schedule_delay
        ok = self._drain(stop_deadline if stopping else None)
        for request in requests:
            request.ok = ok
            request.done.set()
        self._report_drops(force=False)
        return stopping

    def _drain(self, stop_deadline: float | None) -> bool:
        """Export the spans queued now, batch by batch; False (and a retry pause) at the first failure.

        Only what is queued when the drain starts: under a steady stream of new spans, a flush must
        not chase them until its timeout (the next round takes them). A shutdown takes everything.
        """
        queue = self._queue
        todo = len(queue)
        while queue and (todo > 0 or stop_deadline is not None):
            # Count the batch as in flight *before* taking it out, so on_end never sees room that
            # does not exist and a failed batch always fits back in.
            size = min(self._batch_size, len(queue))
            todo -= size
            self._in_flight = size
            batch = [queue.popleft() for _ in range(size)]
            deadline = time.monotonic() + self._export_timeout
            if stop_deadline is not None:
                deadline = min(deadline, stop_deadline)
            outcome, rejected, retry_not_before = self._export(batch, deadline)
            if outcome is ExportOutcome.SUCCESS:
                self._exported += size - rejected
                self._dropped_failed += rejected
                self._in_flight = 0
                continue
            if outcome is ExportOutcome.RETRYABLE and stop_deadline is None:
                queue.extendleft(reversed(batch))
                self._in_flight = 0
                # Pause before the next attempt, longer if the receiver said so (Retry-After).
                self._retry_at = max(time.monotonic() + self._schedule_delay, retry_not_before)
                self._report_failure(len(queue))
                return False
            self._dropped_failed += size
            self._in_flight = 0
            if stop_deadline is not None:
                # Shutting down and this batch failed: the rest would fail the same way.
                self._dropped_failed += len(queue)
                queue.clear()
                return False
        self._retry_at = 0.0
        return True

    def _export(self, batch: list[ReadableSpan], deadline: float) -> BatchResult:
        try:
            if self._batch_export is not None:
                return self._batch_export(batch, deadline=deadline)
            result = self._exporter.export(batch)
        except Exception:  # never let an exporter bug end the thread
            logger.exception("interactiveai: exporter raised; %d spans dropped", len(batch))
            return BatchResult(ExportOutcome.REJECTED, len(batch))
        if result is SpanExportResult.SUCCESS:
            return BatchResult(ExportOutcome.SUCCESS, 0)
        return BatchResult(ExportOutcome.REJECTED, len(batch))

    def _report_failure(self, waiting: int) -> None:
        # Not every failed round: an outage of hours would log thousands of lines.
        now = time.monotonic()
        if now - self._last_failure_warning < DROP_WARNING_INTERVAL:
            return
        self._last_failure_warning = now
        logger.warning(
            "interactiveai: the receiver is unreachable or refusing (network error, 408, 429 or 5xx); "
            "%d spans are kept and retried (at most max_queue_size=%d)",
            waiting,
            self._max_queue_size,
        )

    def _report_drops(self, *, force: bool) -> None:
        dropped = self._dropped_full + self._dropped_failed
        if dropped == self._dropped_reported:
            return
        now = time.monotonic()
        if not force and now - self._last_drop_warning < DROP_WARNING_INTERVAL:
            return
        logger.warning(
            "interactiveai: %d spans dropped so far (%d: queue full at max_queue_size=%d, %d: export failed)",
            dropped,
            self._dropped_full,
            self._max_queue_size,
            self._dropped_failed,
        )
        self._dropped_reported = dropped
        self._last_drop_warning = now
