"""The export processor's two daemon threads: one encodes queued spans, the other sends them.

Two threads, so that the one that needs the GIL for long never waits on the network and the one
that waits on the network never holds up encoding:

* the encoding thread (``interactiveai-export``, :class:`EncodingWorker`) takes every span queued
  when it wakes (a backlog makes its batches bigger), encodes them to OTLP/JSON and lets the span
  objects go. A small observation holds ~1.1-1.4 KB in several garbage-collected objects, its
  encoding ~0.5 KB of bytes the collector never scans: a backlog costs the application's garbage
  collections (and memory) little, and it is what waits when spans end faster than the receiver
  takes them.
* the sending thread (``interactiveai-send``, :class:`SendingWorker`) merges what was encoded while
  its previous request was in flight into one request (up to ``max_request_bytes``), compresses it
  once, and POSTs it with retries. Each socket call or compression hands the GIL over and must win
  it back from a busy application (up to the 5 ms switch interval each): under load, fewer and
  bigger requests (benchmarks/sdk_burst.py: 100,000 spans in about ten) pay that a few times
  instead of hundreds.

A failed request is kept and retried, so spans survive a receiver outage of any length up to the
buffer's bound. With an exporter other than :class:`OtlpHttpExporter`, nothing is encoded: the
sending thread hands it batches of ``max_export_batch_size`` spans, and its failures are dropped
and counted (such exporters retry on their own).

The processor starts and stops the threads; when they cannot be started, its shutdown calls
``EncodingWorker.encode`` and ``SendingWorker.deliver`` from its own thread.
"""

from __future__ import annotations

import collections
import logging
import threading
import time

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from interactiveai.sdk.export.buffer import SpanBuffer
from interactiveai.sdk.export.exporter import ExportOutcome, OtlpHttpExporter
from interactiveai.sdk.export.stats import ExportWarnings

__all__ = ["EncodingWorker", "FlushRequest", "SendingWorker"]

logger = logging.getLogger("interactiveai.sdk.export")

_ENCODE_ROUND = 8192
"""Most spans the encoding thread takes at once: bounds the moment when a batch exists both as span
objects and as bytes, and lets the sending thread start on the first part of a large backlog."""


class FlushRequest:
    """A ``force_flush`` waiting for the sending thread."""

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


class EncodingWorker:
    """Takes spans from the buffer and hands them, encoded, to the sending thread.

    ``cond`` guards ``batch_ready`` and ``stopping``; ``thread`` is set (and started) by the processor.
    """

    def __init__(
        self,
        buffer: SpanBuffer,
        sender: SendingWorker,
        warnings: ExportWarnings,
        *,
        otlp: OtlpHttpExporter | None,
        batch_size: int,
        schedule_delay: float,
    ) -> None:
        self._buffer = buffer
        self._sender = sender
        self._warnings = warnings
        self._otlp = otlp
        self._batch_size = batch_size
        self._schedule_delay = schedule_delay
        self.cond = threading.Condition(threading.Lock())
        self.batch_ready = False  # set by on_end (a batch is full) and by flushes
        self.stopping = False
        self._next_tick = time.monotonic() + schedule_delay
        self.thread: threading.Thread | None = None

    def wake(self) -> None:
        """Encode what is queued now, without waiting for the timer."""
        with self.cond:
            self.batch_ready = True
            self.cond.notify()

    def run(self) -> None:
        """The thread's body: until the processor shuts down."""
        while True:
            try:
                if self._encode_once():
                    return
            except Exception:  # the thread must outlive any bug below, or spans pile up unexported
                logger.exception("interactiveai: export loop error; continuing")
                time.sleep(min(self._schedule_delay, 1.0) or 0.01)

    def _encode_once(self) -> bool:
        """Wait for a batch, the timer, a flush or shutdown; encode; True when the thread should end."""
        with self.cond:
            while not (self.stopping or self.batch_ready):
                now = time.monotonic()
                if self._next_tick <= now:
                    break
                self.cond.wait(self._next_tick - now)
            self.batch_ready = False
            stopping = self.stopping
        self._next_tick = time.monotonic() + self._schedule_delay
        self.encode(everything=stopping)
        if stopping:
            self._sender.encoding_finished()
        self._warnings.drops(force=False)
        return stopping

    def encode(self, *, everything: bool) -> None:
        """Hand the queued spans to the sending thread, encoded, in rounds of at most ``_ENCODE_ROUND``.

        What is queued when this starts goes (a partial batch too: the timer or a flush asked for
        it), then only full batches: under a steady stream a flush does not chase new spans, and a
        trickle does not go out one span at a time. ``everything`` (shutdown) takes all.
        """
        buffer = self._buffer
        sizes = buffer.sizes
        todo = len(sizes)
        while True:
            available = len(sizes)  # complete (span, size) pairs: see SpanBuffer
            if available == 0 or (todo <= 0 and not everything and available < self._batch_size):
                return
            count = min(available, max(_ENCODE_ROUND, self._batch_size))
            todo -= count
            batch, batch_sizes = buffer.take(count)
            try:
                units, skipped = self._prepare(batch, batch_sizes)
            except Exception:  # the spans are out of the queue: count them, or flushes would wait for them
                logger.exception("interactiveai: could not prepare %d spans for export; they are dropped", count)
                units, skipped = [], count
            del batch
            buffer.encoded(sum(batch_sizes), sum(unit.nbytes for unit in units), skipped)
            if not units:
                units.append(_Unit(0, 0))
            units[-1].end_seq = buffer.taken
            self._sender.post(units)

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


class SendingWorker:
    """Merges encoded units into requests and sends them, retrying failed ones; completes flushes.

    ``cond`` guards everything the encoding thread, flushes and shutdown share with it: the outbox,
    the flush requests, ``stopping``, ``stop_deadline`` and ``encoder_finished``.
    """

    def __init__(
        self,
        buffer: SpanBuffer,
        exporter: SpanExporter,
        warnings: ExportWarnings,
        *,
        otlp: OtlpHttpExporter | None,
        schedule_delay: float,
        export_timeout: float,
    ) -> None:
        self._buffer = buffer
        self._exporter = exporter
        self._warnings = warnings
        self._otlp = otlp
        self._schedule_delay = schedule_delay
        self._export_timeout = export_timeout
        self.cond = threading.Condition(threading.Lock())
        self.outbox: collections.deque[_Unit] = collections.deque()
        self.request: _Request | None = None  # in flight, or kept for a retry
        self._send_now = False  # a flush wants an attempt without waiting out the retry pause
        self._retry_at = 0.0
        self._flush_requests: list[FlushRequest] = []
        self._attempts = 0  # requests sent (first tries and retries)
        self.done = 0  # every span before this position is delivered or dropped (only this worker writes)
        self.stopping = False
        self.stop_deadline = 0.0
        self.encoder_finished = False
        self.thread: threading.Thread | None = None

    def post(self, units: list[_Unit]) -> None:
        """Units from the encoding thread."""
        with self.cond:
            self.outbox.extend(units)
            self.cond.notify()

    def encoding_finished(self) -> None:
        """The encoding thread has handed over everything and ended (shutdown)."""
        with self.cond:
            self.encoder_finished = True
            self.cond.notify()

    def flush_request(self, mark: int) -> FlushRequest:
        """A flush waiting for every span before ``mark``, with an attempt of its own right away."""
        with self.cond:
            request = FlushRequest(mark, self._attempts + 1)
            if self.done >= mark:
                request.done.set()
            else:
                self._flush_requests.append(request)
                self._send_now = True
                self.cond.notify()
        return request

    def run(self) -> None:
        """The thread's body: until the processor shuts down and the encoding thread has finished."""
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
        with self.cond:
            while True:
                has_work = self.request is not None or bool(self.outbox)
                if self.stopping and not has_work and self.encoder_finished:
                    return True
                now = time.monotonic()
                if has_work and (self.stopping or self._send_now or now >= self._retry_at):
                    break
                self.cond.wait(self._retry_at - now if has_work else None)
            self._send_now = False
            stopping, stop_deadline = self.stopping, self.stop_deadline
        if stopping and time.monotonic() >= stop_deadline:
            self.drop_unsent()
            return self.encoder_finished
        self.deliver(stop_deadline if stopping else None)
        return False

    def deliver(self, stop_deadline: float | None) -> None:
        """Send the current request (or the next one from the outbox) once, retries included."""
        request = self.request
        if request is None:
            request = self.request = self._next_request()
            if request is None:
                return
        deadline = time.monotonic() + self._export_timeout
        if stop_deadline is not None:
            deadline = min(deadline, stop_deadline)
        with self.cond:
            self._attempts += 1
            attempt = self._attempts
        outcome = self._send(request, deadline)
        if outcome is ExportOutcome.RETRYABLE and stop_deadline is None:
            # Keep the request; pause before the next attempt, longer if the receiver said so.
            retry_not_before = self._otlp.retry_not_before if self._otlp is not None else 0.0
            with self.cond:
                self._retry_at = max(time.monotonic() + self._schedule_delay, retry_not_before)
                failed = [flush for flush in self._flush_requests if flush.first_attempt <= attempt]
                self._flush_requests = [flush for flush in self._flush_requests if flush.first_attempt > attempt]
            for flush in failed:
                flush.ok = False
                flush.done.set()
            self._warnings.receiver_failing()
            self._warnings.drops(force=False)
            return
        if outcome is ExportOutcome.RETRYABLE:
            # Shutting down and this request failed: the rest would fail the same way.
            self.drop_unsent()
            return
        self._retry_at = 0.0
        self._resolve(request, delivered=outcome is ExportOutcome.SUCCESS)
        self._warnings.drops(force=False)

    def _next_request(self) -> _Request | None:
        """Take the units waiting in the outbox into one request; None if they held no spans."""
        outbox = self.outbox
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
                self._buffer.settle(nbytes, count, delivered=False)
                self._finish(end_seq)
                return None
            self._buffer.resize_outbox(len(body) - nbytes)
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
        self._buffer.settle(request.nbytes, request.count, delivered=delivered)
        self.request = None
        self._finish(request.end_seq)

    def _finish(self, end_seq: int) -> None:
        """Every span before ``end_seq`` is settled: complete the flushes waiting for them."""
        with self.cond:
            self.done = max(self.done, end_seq)
            waiting = []
            for flush in self._flush_requests:
                if flush.mark <= self.done:
                    flush.done.set()
                else:
                    waiting.append(flush)
            self._flush_requests = waiting

    def _drop_request(self) -> None:
        request = self.request
        if request is not None:
            self._resolve(request, delivered=False)

    def drop_unsent(self) -> None:
        """Shutting down: count what the sending thread still holds as dropped."""
        self._drop_request()
        while self.outbox:
            unit = self.outbox.popleft()
            self._buffer.settle(unit.nbytes, unit.count, delivered=False)
            self._finish(unit.end_seq)
