"""The span processor: a queue bounded by memory, drained by an encoding and a sending thread.

``on_end`` runs on the caller's thread at the end of every observation, so it does the least
possible: the sampling and filter checks, a size estimate, a deque append under a lock held for a
few operations, and a wake-up only when a batch is ready. Nothing here blocks the caller on the
network or raises into it: when the buffer is full the *new* span is dropped and counted, and the
count is logged at most once per interval (the closest existing SDK dropped silently; its users
could not tell why traces had holes).

Two daemon threads do the rest, so that the one that needs the GIL for long never waits on the
network and the one that waits on the network never holds up encoding:

* the encoding thread (``interactiveai-export``) takes every span queued when it wakes (a backlog
  makes its batches bigger), encodes them to OTLP/JSON and lets the span objects go. A small
  observation holds ~1.1-1.4 KB in several garbage-collected objects, its encoding ~0.5 KB of bytes
  the collector never scans: a backlog costs the application's garbage collections (and memory)
  little, and it is what waits when spans end faster than the receiver takes them.
* the sending thread (``interactiveai-send``) merges what was encoded while its previous request
  was in flight into one request (up to ``max_request_bytes``), compresses it once, and POSTs it
  with retries. Each socket call or compression hands the GIL over and must win it back from a
  busy application (up to the 5 ms switch interval each): under load, fewer and bigger requests
  (benchmarks/sdk_burst.py: 100,000 spans in about ten) pay that a few times instead of hundreds.

The bound is memory: ``max_queue_bytes`` covers queued spans (estimated from their attributes),
encoded fragments waiting to be sent and the request in flight (exact sizes). A failed request is
kept and retried, so spans survive a receiver outage of any length up to that bound; an optional
``max_queue_size`` caps the number of spans as well.

With an exporter other than :class:`OtlpHttpExporter`, nothing is encoded here: the sending thread
hands it batches of ``max_export_batch_size`` spans, and its failures are dropped and counted (such
exporters retry on their own).
"""

from __future__ import annotations

import collections
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from interactiveai.sdk.export.exporter import ExportOutcome, OtlpHttpExporter
from interactiveai.sdk.export.sampling import TRACE_ID_LIMIT, sampling_bound
from interactiveai.sdk.settings import DEFAULT_MAX_QUEUE_BYTES
from interactiveai.sdk.spans import ObservationSpan

__all__ = ["DROP_WARNING_INTERVAL", "ExportProcessor", "ExportStats", "estimate_span_bytes"]

logger = logging.getLogger("interactiveai.sdk.export")

DROP_WARNING_INTERVAL = 30.0
"""Seconds between two warnings about dropped spans (the counts are cumulative, nothing is lost)."""

# The memory a queued span holds, calibrated with tracemalloc (within ~20 % for observations and
# OTel SDK spans with 3-10 attributes, short or long values; tests/sdk/export/test_burst.py holds
# it within 0.6-1.5x): the span object with its containers (the SDK's stock span, a
# ReadableSpan copy of a Span, holds more than the SDK's own observations), per attribute its entry
# and value object, and the text.
_OBSERVATION_BYTES = 1000
_SPAN_BYTES = 2750
_ATTRIBUTE_BYTES = 100
_EVENT_BYTES = 500
_LINK_BYTES = 300

_ENCODE_ROUND = 8192
"""Most spans the encoding thread takes at once: bounds the moment when a batch exists both as span
objects and as bytes, and lets the sending thread start on the first part of a large backlog."""

_WAKE_BYTES = 4 * 1024 * 1024
"""Queued span bytes that make a batch ready even with fewer than ``max_export_batch_size`` spans:
spans with large inputs/outputs must not wait for the timer while they fill the memory bound."""


def _value_bytes(value: object) -> int:
    """Bytes of an attribute value beyond ``_ATTRIBUTE_BYTES`` (its text, or its items)."""
    if isinstance(value, str | bytes | bytearray):
        return len(value)
    if isinstance(value, tuple | list):
        return sum(_ATTRIBUTE_BYTES // 2 + _value_bytes(item) for item in value)
    return 0


def _attribute_bytes(attributes: Mapping[str, object] | None) -> int:
    if not attributes:
        return 0
    inner = getattr(attributes, "_dict", attributes)
    return _ATTRIBUTE_BYTES * len(inner) + sum(_value_bytes(value) for value in inner.values())


def _extras_bytes(span: ReadableSpan) -> int:
    size = 0
    for event in span.events:
        size += _EVENT_BYTES + len(event.name) + _attribute_bytes(event.attributes)
    for link in span.links:
        size += _LINK_BYTES + _attribute_bytes(link.attributes)
    return size


def estimate_span_bytes(span: ReadableSpan) -> int:
    """Approximate memory held by an ended span while it waits in the queue (never raises).

    Characters count as bytes (the text of most spans is ASCII; non-ASCII text is underestimated
    by up to 4x). ``ExportProcessor.on_end`` inlines the common case of this function.
    """
    base = _OBSERVATION_BYTES if type(span) is ObservationSpan else _SPAN_BYTES
    try:
        size = base + _attribute_bytes(span.attributes)
        if span.events or span.links:
            size += _extras_bytes(span)
        return size
    except Exception:
        return base


@dataclass(frozen=True)
class ExportStats:
    """Counters of one processor since it started (or since the fork that created this process)."""

    queued: int
    """Spans accepted and not yet delivered or dropped: queued, encoded and waiting, or in flight."""
    exported: int
    """Spans the receiver accepted."""
    dropped_queue_full: int
    """Spans dropped in ``on_end`` because the buffer was full (``max_queue_bytes`` or ``max_queue_size``)."""
    dropped_export_failed: int
    """Spans dropped after the receiver rejected them, that could not be encoded, or still undelivered
    at shutdown."""
    queued_bytes: int = 0
    """Memory the buffer holds now (estimated for spans, exact for encoded requests)."""


class _FlushRequest:
    __slots__ = ("done", "first_attempt", "mark", "ok")

    def __init__(self, mark: int, first_attempt: int) -> None:
        self.done = threading.Event()
        self.mark = mark
        """Done when every span before this position is settled."""
        self.first_attempt = first_attempt
        """Failed by a failed attempt from this one on: an attempt already in flight when the flush
        came does not count (the flush gets a fresh attempt of its own)."""
        self.ok = True


class _Unit:
    """What the encoding thread hands to the sending thread: a fragment of encoded spans (OTLP), a
    batch of span objects (other exporters), or nothing, only a position (all spans unencodable)."""

    __slots__ = ("count", "end_seq", "fragment", "nbytes", "spans")

    def __init__(
        self, count: int, nbytes: int, fragment: bytes | None = None, spans: list[ReadableSpan] | None = None
    ) -> None:
        self.count = count
        self.nbytes = nbytes
        self.fragment = fragment
        self.spans = spans
        self.end_seq = -1
        """After this unit, every span accepted before position ``end_seq`` has been taken."""


class _Request:
    """The sending thread's current request, kept as is for its retries."""

    __slots__ = ("body", "count", "end_seq", "nbytes", "spans")

    def __init__(
        self, count: int, nbytes: int, end_seq: int, body: bytes | None, spans: list[ReadableSpan] | None
    ) -> None:
        self.count = count
        self.nbytes = nbytes
        self.end_seq = end_seq
        self.body = body
        self.spans = spans


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
        """Fresh queues, locks and counters; the threads start lazily on the first span.

        Also the fork hook: the child must not export (or even see) the parent's queued spans, and
        the parent's threads and locks do not exist in it.
        """
        # Accounting: taken by on_end for a few operations, by the threads for one update each.
        # Reentrant: a signal handler that ends a span may interrupt on_end in the same thread.
        self._lock = threading.RLock()
        self._queue: collections.deque[ReadableSpan] = collections.deque()
        # Each span's estimate, appended after the span under the lock: the first len(_sizes) entries
        # of both deques pair up, so the encoding thread can take them without the lock.
        self._sizes: collections.deque[int] = collections.deque()
        self._queue_bytes = 0  # spans in _queue (on_end adds, the encoding thread subtracts)
        self._outbox_bytes = 0  # units in _outbox and the request in flight (the threads only)
        self._accepted = 0  # spans ever queued: span k (0-based) has position k
        self._taken = 0  # spans the encoding thread has taken (only it writes this)
        self._done = 0  # every span before this position is delivered or dropped (only the sender writes)
        self._exported = 0
        self._dropped_full = 0
        self._dropped_failed = 0
        self._drops_at_flush = 0  # dropped_full + dropped_failed when the last flush returned
        # The encoding thread.
        self._cond = threading.Condition(threading.Lock())
        self._batch_ready = False  # set by on_end (a batch is full) and by flushes
        self._next_tick = time.monotonic() + self._schedule_delay
        self._thread: threading.Thread | None = None
        self._encoder_finished = False
        # The sending thread.
        self._send_cond = threading.Condition(threading.Lock())
        self._outbox: collections.deque[_Unit] = collections.deque()
        self._request: _Request | None = None  # in flight, or kept for a retry
        self._send_now = False  # a flush wants an attempt without waiting out the retry pause
        self._retry_at = 0.0
        self._flush_requests: list[_FlushRequest] = []
        self._attempts = 0  # requests sent (first tries and retries)
        self._sender: threading.Thread | None = None
        self._threads_failed = False
        # Both.
        self._stopping = False
        self._stop_deadline = 0.0
        self._dropped_reported = 0
        self._last_drop_warning = float("-inf")
        self._last_failure_warning = float("-inf")

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
            size = (_OBSERVATION_BYTES if type(span) is ObservationSpan else _SPAN_BYTES) + _ATTRIBUTE_BYTES * len(
                attributes
            )
            for value in attributes.values():
                if type(value) is str:
                    size += len(value)
                elif type(value) is tuple:
                    size += _value_bytes(value)
            if span._events or span._links:
                size += _extras_bytes(span)
        except Exception:
            size = estimate_span_bytes(span)
        queue = self._queue
        with self._lock:
            queue_bytes = self._queue_bytes + size
            if queue_bytes + self._outbox_bytes > self._max_bytes or (
                self._max_spans is not None
                and self._accepted - self._exported - self._dropped_failed >= self._max_spans
            ):
                self._dropped_full += 1  # full: the common case in an outage
                return
            self._queue_bytes = queue_bytes
            self._accepted += 1
            queue.append(span)
            self._sizes.append(size)
            ready = len(queue) >= self._batch_size or queue_bytes >= _WAKE_BYTES
        if self._thread is None:
            self._start_workers()
        if ready and not self._batch_ready:
            with self._cond:
                self._batch_ready = True
                self._cond.notify()

    def _filter_failed(self) -> None:
        # Logged once with the traceback; after that only counted, or a broken filter would log
        # on every span of the application.
        self._dropped_filter_errors += 1
        if self._dropped_filter_errors == 1:
            logger.exception("interactiveai: should_export raised; such spans are not exported (logged once)")

    def _start_workers(self) -> bool:
        """Start the two threads if they are not running; False when they cannot be started."""
        with self._cond:
            if self._thread is not None:
                return not self._threads_failed
            encoder = threading.Thread(target=self._run_encoder, name="interactiveai-export", daemon=True)
            sender = threading.Thread(target=self._run_sender, name="interactiveai-send", daemon=True)
            self._thread = encoder
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
            self._sender = sender
        return True

    # -- flush and shutdown ----------------------------------------------------------------------

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Deliver every span queued now, within ``timeout_millis``.

        Returns:
            True when they were all delivered and no span was dropped or rejected since the
            previous flush (buffer full, a 4xx answer, unencodable, undelivered at shutdown).
        """
        mark = self._accepted
        if self._is_shutdown or self._done >= mark:
            return self._no_new_drops(self._done >= mark)
        if not self._start_workers():
            return self._no_new_drops(False)
        with self._send_cond:
            request = _FlushRequest(mark, self._attempts + 1)
            if self._done >= mark:
                request.done.set()
            else:
                self._flush_requests.append(request)
                self._send_now = True
                self._send_cond.notify()
        with self._cond:
            self._batch_ready = True  # encode what is queued now, a partial batch too
            self._cond.notify()
        finished = request.done.wait(max(timeout_millis, 0) / 1000)
        return self._no_new_drops(finished and request.ok)

    def _no_new_drops(self, ok: bool) -> bool:
        """``ok``, and no span dropped since the previous call; starts a new period either way."""
        with self._lock:
            dropped = self._dropped_full + self._dropped_failed
            clean = dropped == self._drops_at_flush
            self._drops_at_flush = dropped
        return ok and clean

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
        deadline = time.monotonic() + timeout
        with self._cond, self._send_cond:
            self._stopping = True
            self._stop_deadline = deadline
            self._cond.notify()
            self._send_cond.notify()
        encoder, sender = self._thread, self._sender
        if encoder is not None and encoder.is_alive():
            encoder.join(max(deadline - time.monotonic(), 0))  # it encodes everything, then ends
        elif not self._encoder_finished:
            # No encoding thread (it could not be started): encode from this thread.
            self._encode(everything=True)
            self._encoder_finished = True
        if sender is not None and sender.is_alive():
            with self._send_cond:
                self._send_cond.notify()
            sender.join(max(deadline - time.monotonic(), 0))
        elif self._encoder_finished:
            # No sending thread: send from this thread, within the timeout.
            while (self._outbox or self._request is not None) and time.monotonic() < deadline:
                self._deliver(deadline)
            self._drop_unsent()
        alive = any(thread is not None and thread.is_alive() for thread in (encoder, sender))
        ok = not alive and self._done >= self._accepted
        try:
            self._exporter.shutdown()  # also interrupts a request still retrying in the sending thread
        except Exception:
            logger.exception("interactiveai: exporter shutdown failed")
        self._report_drops(force=True)
        return self._no_new_drops(ok)

    @property
    def stats(self) -> ExportStats:
        """Current counters (approximate while other threads are ending spans)."""
        return ExportStats(
            queued=self._accepted - self._exported - self._dropped_failed,
            exported=self._exported,
            dropped_queue_full=self._dropped_full,
            dropped_export_failed=self._dropped_failed,
            queued_bytes=self._queue_bytes + self._outbox_bytes,
        )

    # -- the encoding thread ---------------------------------------------------------------------

    def _run_encoder(self) -> None:
        while True:
            try:
                if self._encode_once():
                    return
            except Exception:  # the thread must outlive any bug below, or spans pile up unexported
                logger.exception("interactiveai: export loop error; continuing")
                time.sleep(min(self._schedule_delay, 1.0) or 0.01)

    def _encode_once(self) -> bool:
        """Wait for a batch, the timer, a flush or shutdown; encode; True when the thread should end."""
        with self._cond:
            while not (self._stopping or self._batch_ready):
                now = time.monotonic()
                if self._next_tick <= now:
                    break
                self._cond.wait(self._next_tick - now)
            self._batch_ready = False
            stopping = self._stopping
        self._next_tick = time.monotonic() + self._schedule_delay
        self._encode(everything=stopping)
        if stopping:
            with self._send_cond:
                self._encoder_finished = True
                self._send_cond.notify()
        self._report_drops(force=False)
        return stopping

    def _encode(self, *, everything: bool) -> None:
        """Hand the queued spans to the sending thread, encoded, in rounds of at most ``_ENCODE_ROUND``.

        What is queued when this starts goes (a partial batch too: the timer or a flush asked for
        it), then only full batches: under a steady stream a flush does not chase new spans, and a
        trickle does not go out one span at a time. ``everything`` (shutdown) takes all.
        """
        queue, sizes = self._queue, self._sizes
        todo = len(sizes)
        while True:
            available = len(sizes)  # complete (span, size) pairs: see _init_state
            if available == 0 or (todo <= 0 and not everything and available < self._batch_size):
                return
            count = min(available, max(_ENCODE_ROUND, self._batch_size))
            todo -= count
            popleft, pop_size = queue.popleft, sizes.popleft
            batch = [popleft() for _ in range(count)]
            batch_sizes = [pop_size() for _ in range(count)]
            self._taken += count
            try:
                units, skipped = self._prepare(batch, batch_sizes)
            except Exception:  # the spans are out of the queue: count them, or flushes would wait for them
                logger.exception("interactiveai: could not prepare %d spans for export; they are dropped", count)
                units, skipped = [], count
            del batch
            freed = sum(batch_sizes)
            with self._lock:
                self._queue_bytes -= freed
                self._outbox_bytes += sum(unit.nbytes for unit in units)
                self._dropped_failed += skipped
            if not units:
                units.append(_Unit(0, 0))
            units[-1].end_seq = self._taken
            with self._send_cond:
                self._outbox.extend(units)
                self._send_cond.notify()

    def _prepare(self, batch: list[ReadableSpan], sizes: list[int]) -> tuple[list[_Unit], int]:
        """The units for ``batch`` and how many of its spans could not be encoded."""
        if self._otlp is None:
            step = self._batch_size
            units = []
            for i in range(0, len(batch), step):
                spans = batch[i : i + step]
                units.append(_Unit(len(spans), sum(sizes[i : i + step]), spans=spans))
            return units, 0
        encoded = self._otlp.encode(batch)
        units = [
            _Unit(count, len(fragment), fragment=fragment)
            for fragment, count in zip(encoded.bodies, encoded.span_counts, strict=True)
        ]
        return units, encoded.skipped

    # -- the sending thread ----------------------------------------------------------------------

    def _run_sender(self) -> None:
        while True:
            try:
                if self._send_once():
                    return
            except Exception:  # the thread must outlive any bug below
                logger.exception("interactiveai: export loop error; continuing")
                self._drop_request()
                time.sleep(min(self._schedule_delay, 1.0) or 0.01)

    def _send_once(self) -> bool:
        """Wait for something to send (and the end of a retry pause); send it; True to end the thread."""
        with self._send_cond:
            while True:
                has_work = self._request is not None or bool(self._outbox)
                if self._stopping and not has_work and self._encoder_finished:
                    return True
                now = time.monotonic()
                if has_work and (self._stopping or self._send_now or now >= self._retry_at):
                    break
                self._send_cond.wait(self._retry_at - now if has_work else None)
            self._send_now = False
            stopping, stop_deadline = self._stopping, self._stop_deadline
        if stopping and time.monotonic() >= stop_deadline:
            self._drop_unsent()
            return self._encoder_finished
        self._deliver(stop_deadline if stopping else None)
        return False

    def _deliver(self, stop_deadline: float | None) -> None:
        """Send the current request (or the next one from the outbox) once, retries included."""
        request = self._request
        if request is None:
            request = self._request = self._next_request()
            if request is None:
                return
        deadline = time.monotonic() + self._export_timeout
        if stop_deadline is not None:
            deadline = min(deadline, stop_deadline)
        with self._send_cond:
            self._attempts += 1
            attempt = self._attempts
        outcome = self._send(request, deadline)
        if outcome is ExportOutcome.RETRYABLE and stop_deadline is None:
            # Keep the request; pause before the next attempt, longer if the receiver said so.
            retry_not_before = self._otlp.retry_not_before if self._otlp is not None else 0.0
            with self._send_cond:
                self._retry_at = max(time.monotonic() + self._schedule_delay, retry_not_before)
                failed = [flush for flush in self._flush_requests if flush.first_attempt <= attempt]
                self._flush_requests = [flush for flush in self._flush_requests if flush.first_attempt > attempt]
            for flush in failed:
                flush.ok = False
                flush.done.set()
            self._report_failure()
            self._report_drops(force=False)
            return
        if outcome is ExportOutcome.RETRYABLE:
            # Shutting down and this request failed: the rest would fail the same way.
            self._drop_unsent()
            return
        self._retry_at = 0.0
        self._resolve(request, delivered=outcome is ExportOutcome.SUCCESS)
        self._report_drops(force=False)

    def _next_request(self) -> _Request | None:
        """Take the units waiting in the outbox into one request; None if they held no spans."""
        outbox = self._outbox
        limit = self._otlp.max_request_bytes if self._otlp is not None else 0
        fragments: list[bytes] = []
        spans: list[ReadableSpan] | None = None
        count = nbytes = 0
        end_seq = -1
        while outbox:
            unit = outbox[0]
            if unit.count and count and (self._otlp is None or nbytes + unit.nbytes > limit):
                break
            outbox.popleft()
            end_seq = max(end_seq, unit.end_seq)
            count += unit.count
            nbytes += unit.nbytes
            if unit.fragment is not None:
                fragments.append(unit.fragment)
            elif unit.spans is not None:
                spans = unit.spans
        # end_seq stays -1 when the request holds only the first units of an encoding round (the
        # size limit split it): the position moves on with the request holding the round's last unit.
        if count == 0:
            self._finish(end_seq)
            return None
        body = None
        if fragments:
            try:
                body = self._otlp.wire_body(fragments)  # type: ignore[union-attr]
            except Exception:
                logger.exception("interactiveai: could not build a request of %d spans; they are dropped", count)
                with self._lock:
                    self._outbox_bytes -= nbytes
                    self._dropped_failed += count
                self._finish(end_seq)
                return None
            with self._lock:
                self._outbox_bytes += len(body) - nbytes
            nbytes = len(body)
        return _Request(count, nbytes, end_seq, body, spans)

    def _send(self, request: _Request, deadline: float) -> ExportOutcome:
        try:
            if request.body is not None:
                return self._otlp.send(request.body, deadline=deadline)  # type: ignore[union-attr]
            result = self._exporter.export(request.spans or [])
        except Exception:  # never let an exporter bug end the thread
            logger.exception("interactiveai: exporter raised; %d spans dropped", request.count)
            return ExportOutcome.REJECTED
        return ExportOutcome.SUCCESS if result is SpanExportResult.SUCCESS else ExportOutcome.REJECTED

    def _resolve(self, request: _Request, *, delivered: bool) -> None:
        """``request`` is delivered (or refused for good): release its memory, count it, move on."""
        with self._lock:
            self._outbox_bytes -= request.nbytes
            if delivered:
                self._exported += request.count
            else:
                self._dropped_failed += request.count
        self._request = None
        self._finish(request.end_seq)

    def _finish(self, end_seq: int) -> None:
        """Every span before ``end_seq`` is settled: complete the flushes waiting for them."""
        with self._send_cond:
            self._done = max(self._done, end_seq)
            waiting = []
            for flush in self._flush_requests:
                if flush.mark <= self._done:
                    flush.done.set()
                else:
                    waiting.append(flush)
            self._flush_requests = waiting

    def _drop_request(self) -> None:
        request = self._request
        if request is not None:
            self._resolve(request, delivered=False)

    def _drop_unsent(self) -> None:
        """Shutting down: count what the sending thread still holds as dropped."""
        self._drop_request()
        while self._outbox:
            unit = self._outbox.popleft()
            with self._lock:
                self._outbox_bytes -= unit.nbytes
                self._dropped_failed += unit.count
            self._finish(unit.end_seq)

    # -- reporting -------------------------------------------------------------------------------

    def _report_failure(self) -> None:
        # Not every failed round: an outage of hours would log thousands of lines.
        now = time.monotonic()
        if now - self._last_failure_warning < DROP_WARNING_INTERVAL:
            return
        self._last_failure_warning = now
        logger.warning(
            "interactiveai: the receiver is unreachable or refusing (network error, 408, 429 or 5xx); "
            "%d spans (%d bytes) are kept and retried (up to max_queue_bytes=%d)",
            self._accepted - self._exported - self._dropped_failed,
            self._queue_bytes + self._outbox_bytes,
            self._max_bytes,
        )

    def _report_drops(self, *, force: bool) -> None:
        dropped = self._dropped_full + self._dropped_failed
        if dropped == self._dropped_reported:
            return
        now = time.monotonic()
        if not force and now - self._last_drop_warning < DROP_WARNING_INTERVAL:
            return
        cap = "" if self._max_spans is None else f" or max_queue_size={self._max_spans}"
        logger.warning(
            "interactiveai: %d spans dropped so far (%d: queue full at max_queue_bytes=%d%s, %d: export failed)",
            dropped,
            self._dropped_full,
            self._max_bytes,
            cap,
            self._dropped_failed,
        )
        self._dropped_reported = dropped
        self._last_drop_warning = now
