"""The span processor: a buffer bounded by memory, drained by an encoding and a sending thread.

``on_end`` runs on the caller's thread at the end of every observation, so it does the least
possible: the sampling and filter checks, a size estimate, a deque append to the ``SpanBuffer``
under a lock held for a few operations, and a wake-up only when a batch is ready. Nothing here
blocks the caller on the network or raises into it: when the buffer is full the *new* span is
dropped and counted, and the count is logged at most once per interval (the closest existing SDK
dropped silently; its users could not tell why traces had holes).

The bound is memory: ``max_queue_bytes`` covers queued spans (estimated from their attributes),
encoded fragments waiting to be sent and the request in flight (exact sizes); an optional
``max_queue_size`` caps the number of spans as well. The threads that drain the buffer are in
``workers``; this module starts them, flushes, shuts down and starts afresh after a fork.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter

from interactiveai.sdk.export.buffer import (
    ATTRIBUTE_BYTES,
    OBSERVATION_BYTES,
    SPAN_BYTES,
    SpanBuffer,
    estimate_span_bytes,
    extras_bytes,
    value_bytes,
)
from interactiveai.sdk.export.exporter import OtlpHttpExporter
from interactiveai.sdk.export.sampling import TRACE_ID_LIMIT, sampling_bound
from interactiveai.sdk.export.stats import DROP_WARNING_INTERVAL, ExportStats, ExportWarnings
from interactiveai.sdk.export.workers import EncodingWorker, SendingWorker
from interactiveai.sdk.settings import DEFAULT_MAX_QUEUE_BYTES
from interactiveai.sdk.spans import ObservationSpan

__all__ = ["DROP_WARNING_INTERVAL", "ExportProcessor", "ExportStats", "estimate_span_bytes"]

logger = logging.getLogger("interactiveai.sdk.export")

_WAKE_BYTES = 4 * 1024 * 1024
"""Queued span bytes that make a batch ready even with fewer than ``max_export_batch_size`` spans:
spans with large inputs/outputs must not wait for the timer while they fill the memory bound."""


class ExportProcessor(SpanProcessor):
    """Buffers ended spans within a memory bound and exports them from two background daemon threads.

    Args:
        exporter: Any ``SpanExporter``. With :class:`OtlpHttpExporter` spans are encoded as soon as
            the encoding thread gets to them and failed requests are kept and retried; other
            exporters get span batches, and their failures are dropped and counted.
        max_queue_bytes: Most memory (bytes; estimated for spans, exact once encoded) the buffer holds:
            queued spans, encoded spans waiting to be sent and the request in flight.
        max_queue_size: Optional cap on the number of spans buffered (queued, waiting or in flight).
        max_export_batch_size: Spans that make a batch ready (exported at once, without waiting for
            ``schedule_delay``); under a backlog, requests grow up to the exporter's request size limit.
        schedule_delay: Seconds between exports of a partial batch, and the pause after a failed one.
        export_timeout: Seconds one request (retries included) may take.
        should_export: Cheap predicate run in ``on_end``; spans it rejects are never queued.
        sample_rate: Fraction of traces kept, decided on the trace id (see ``is_trace_sampled``).
    """

    def __init__(
        self,
        exporter: SpanExporter,
        *,
        max_queue_bytes: int = DEFAULT_MAX_QUEUE_BYTES,
        max_queue_size: int | None = None,
        max_export_batch_size: int = 512,
        schedule_delay: float = 1.0,
        export_timeout: float = 5.0,
        should_export: Callable[[ReadableSpan], bool] | None = None,
        sample_rate: float = 1.0,
    ) -> None:
        if max_queue_bytes < 1 or max_export_batch_size < 1 or (max_queue_size is not None and max_queue_size < 1):
            raise ValueError("max_queue_bytes, max_queue_size and max_export_batch_size must be positive")
        if schedule_delay < 0 or export_timeout <= 0:
            raise ValueError("schedule_delay must be >= 0 and export_timeout > 0")
        self._exporter = exporter
        self._otlp = exporter if isinstance(exporter, OtlpHttpExporter) else None
        self._max_bytes = max_queue_bytes
        self._max_spans = max_queue_size
        self._batch_size = min(max_export_batch_size, max_queue_size or max_export_batch_size)
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
        """A fresh buffer and workers; the threads start lazily on the first span.

        Also the fork hook: the child must not export (or even see) the parent's queued spans, and
        the parent's threads and locks do not exist in it.
        """
        self._buffer = SpanBuffer(max_bytes=self._max_bytes, max_spans=self._max_spans)
        self._warnings = ExportWarnings(self._buffer)
        self._sending = SendingWorker(
            self._buffer,
            self._exporter,
            self._warnings,
            otlp=self._otlp,
            schedule_delay=self._schedule_delay,
            export_timeout=self._export_timeout,
        )
        self._encoding = EncodingWorker(
            self._buffer,
            self._sending,
            self._warnings,
            otlp=self._otlp,
            batch_size=self._batch_size,
            schedule_delay=self._schedule_delay,
        )
        self._threads_failed = False

    # -- hot path --------------------------------------------------------------------------------

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        """Nothing to do when a span starts."""

    def on_end(self, span: ReadableSpan) -> None:
        """Queue an ended span for export, or drop it; never waits on the network, never raises."""
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
        # estimate_span_bytes, inlined for the SDK's spans (the fields it reads are the ones the
        # encoder reads; the public properties would copy the attributes on every access).
        try:
            attributes = span._attributes._dict  # type: ignore[union-attr]
            size = (OBSERVATION_BYTES if type(span) is ObservationSpan else SPAN_BYTES) + ATTRIBUTE_BYTES * len(
                attributes
            )
            for value in attributes.values():
                if type(value) is str:
                    size += len(value)
                elif type(value) is tuple:
                    size += value_bytes(value)
            if span._events or span._links:
                size += extras_bytes(span)
        except Exception:
            size = estimate_span_bytes(span)
        buffer = self._buffer
        queue = buffer.queue
        with buffer.lock:
            queue_bytes = buffer.queue_bytes + size
            if queue_bytes + buffer.outbox_bytes > buffer.max_bytes or (
                buffer.max_spans is not None
                and buffer.accepted - buffer.exported - buffer.dropped_failed >= buffer.max_spans
            ):
                buffer.dropped_full += 1  # full: the common case in an outage
                return
            buffer.queue_bytes = queue_bytes
            buffer.accepted += 1
            queue.append(span)
            buffer.sizes.append(size)
            ready = len(queue) >= self._batch_size or queue_bytes >= _WAKE_BYTES
        encoding = self._encoding
        if encoding.thread is None:
            self._start_threads()
        if ready and not encoding.batch_ready:
            encoding.wake()

    def _filter_failed(self) -> None:
        # Logged once with the traceback; after that only counted, or a broken filter would log
        # on every span of the application.
        self._dropped_filter_errors += 1
        if self._dropped_filter_errors == 1:
            logger.exception("interactiveai: should_export raised; such spans are not exported (logged once)")

    def _start_threads(self) -> bool:
        """Start the two threads if they are not running; False when they cannot be started."""
        encoding, sending = self._encoding, self._sending
        with encoding.cond:
            if encoding.thread is not None:
                return not self._threads_failed
            encoder = threading.Thread(target=encoding.run, name="interactiveai-export", daemon=True)
            sender = threading.Thread(target=sending.run, name="interactiveai-send", daemon=True)
            encoding.thread = encoder
            try:
                encoder.start()
                sender.start()
            except RuntimeError:
                # "can't start new thread" (resource limits, or interpreter shutdown). Not retried per
                # span: spans queue up to the bound, then are dropped and counted; shutdown() still
                # exports what it can from its own thread.
                self._threads_failed = True
                logger.exception("interactiveai: cannot start the export threads; spans are queued, not sent")
                return False
            sending.thread = sender
        return True

    # -- flush and shutdown ----------------------------------------------------------------------

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Deliver every span queued now, within ``timeout_millis``.

        Returns:
            True when they were all delivered and no span was dropped or rejected since the
            previous flush (buffer full, a 4xx answer, unencodable, undelivered at shutdown).
        """
        buffer, sending = self._buffer, self._sending
        mark = buffer.accepted
        if self._is_shutdown or sending.done >= mark:
            return buffer.no_new_drops(sending.done >= mark)
        if not self._start_threads():
            return buffer.no_new_drops(False)
        request = sending.flush_request(mark)
        self._encoding.wake()  # encode what is queued now, a partial batch too
        finished = request.done.wait(max(timeout_millis, 0) / 1000)
        return buffer.no_new_drops(finished and request.ok)

    def shutdown(self, timeout_millis: float | None = None) -> bool:  # type: ignore[override]
        """Export what is buffered (within the timeout), stop the threads, close the exporter.

        Args:
            timeout_millis: Upper bound for the whole shutdown; default ``export_timeout``.

        Returns:
            True when every buffered span was delivered and none was dropped since the previous
            flush. Idempotent; later ``on_end`` calls are no-ops.
        """
        if self._is_shutdown:
            return True
        self._is_shutdown = True
        timeout = self._export_timeout if timeout_millis is None else max(timeout_millis, 0) / 1000
        ok = self._stop_threads(time.monotonic() + timeout)
        try:
            self._exporter.shutdown()  # also interrupts a request still retrying in the sending thread
        except Exception:
            logger.exception("interactiveai: exporter shutdown failed")
        self._warnings.drops(force=True)
        return self._buffer.no_new_drops(ok)

    def _stop_threads(self, deadline: float) -> bool:
        """Let the threads send what is buffered until ``deadline``, then end; True when all was settled."""
        encoding, sending = self._encoding, self._sending
        with encoding.cond, sending.cond:
            encoding.stopping = sending.stopping = True
            sending.stop_deadline = deadline
            encoding.cond.notify()
            sending.cond.notify()
        encoder, sender = encoding.thread, sending.thread
        if encoder is not None and encoder.is_alive():
            encoder.join(max(deadline - time.monotonic(), 0))  # it encodes everything, then ends
        elif not sending.encoder_finished:
            # No encoding thread (it could not be started): encode from this thread.
            encoding.encode(everything=True)
            sending.encoder_finished = True
        if sender is not None and sender.is_alive():
            with sending.cond:
                sending.cond.notify()
            sender.join(max(deadline - time.monotonic(), 0))
        elif sending.encoder_finished:
            # No sending thread: send from this thread, within the timeout.
            while (sending.outbox or sending.request is not None) and time.monotonic() < deadline:
                sending.deliver(deadline)
            sending.drop_unsent()
        alive = any(thread is not None and thread.is_alive() for thread in (encoder, sender))
        return not alive and sending.done >= self._buffer.accepted

    @property
    def stats(self) -> ExportStats:
        """Current counters (approximate while other threads are ending spans)."""
        return ExportStats.of(self._buffer)

    # Diagnostics for tests and benchmarks/sdk_burst.py.

    @property
    def _queue(self) -> deque[ReadableSpan]:
        """Spans not yet taken by the encoding thread."""
        return self._buffer.queue

    @property
    def _request(self) -> object:
        """The request in flight or kept for a retry, or None."""
        return self._sending.request
