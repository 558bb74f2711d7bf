"""The byte-bounded buffer of ended spans, and the estimate of the memory each one holds.

The buffer keeps the spans waiting for the encoding thread and the processor's accounting, which
the memory bound is checked against: the bytes of spans waiting to be encoded (estimated), of
units waiting to be sent and of the request in flight (exact once encoded), and the counts of spans
accepted, exported and dropped. ``ExportProcessor.on_end`` adds to it inline, with the common case
of the estimate inlined too: one more call there made it ~5 % dearer.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Mapping

from opentelemetry.sdk.trace import ReadableSpan

from interactiveai.sdk.spans import ObservationSpan

__all__ = [
    "ATTRIBUTE_BYTES",
    "OBSERVATION_BYTES",
    "SPAN_BYTES",
    "SpanBuffer",
    "estimate_span_bytes",
    "extras_bytes",
    "value_bytes",
]

# The memory a queued span holds, calibrated with tracemalloc (within ~20 % for observations and
# OTel SDK spans with 3-10 attributes, short or long values; tests/sdk/export/test_burst.py holds
# it within 0.6-1.5x): the span object with its containers (the SDK's stock span, a
# ReadableSpan copy of a Span, holds more than the SDK's own observations), per attribute its entry
# and value object, and the text.
OBSERVATION_BYTES = 1000
SPAN_BYTES = 2750
ATTRIBUTE_BYTES = 100
_EVENT_BYTES = 500
_LINK_BYTES = 300


def value_bytes(value: object) -> int:
    """Bytes of an attribute value beyond ``ATTRIBUTE_BYTES`` (its text, or its items)."""
    if isinstance(value, str | bytes | bytearray):
        return len(value)
    if isinstance(value, tuple | list):
        return sum(ATTRIBUTE_BYTES // 2 + value_bytes(item) for item in value)
    return 0


def _attribute_bytes(attributes: Mapping[str, object] | None) -> int:
    if not attributes:
        return 0
    inner = getattr(attributes, "_dict", attributes)
    return ATTRIBUTE_BYTES * len(inner) + sum(value_bytes(value) for value in inner.values())


def extras_bytes(span: ReadableSpan) -> int:
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
    base = OBSERVATION_BYTES if type(span) is ObservationSpan else SPAN_BYTES
    try:
        size = base + _attribute_bytes(span.attributes)
        if span.events or span.links:
            size += extras_bytes(span)
        return size
    except Exception:
        return base


class SpanBuffer:
    """Spans waiting for the encoding thread, and the counts and bytes of everything not yet settled.

    ``ExportProcessor.on_end`` appends on the application's threads and ``take`` runs on the
    encoding thread; the other updates come from the export threads, one locked update each. A
    processor makes a new buffer after a fork: the child must not export (or even see) the
    parent's spans.
    """

    __slots__ = (
        "accepted",
        "dropped_failed",
        "dropped_full",
        "drops_at_flush",
        "exported",
        "lock",
        "max_bytes",
        "max_spans",
        "outbox_bytes",
        "queue",
        "queue_bytes",
        "sizes",
        "taken",
    )

    def __init__(self, *, max_bytes: int, max_spans: int | None) -> None:
        self.max_bytes = max_bytes
        self.max_spans = max_spans
        # Taken by on_end for a few operations, by the threads for one update each.
        # Reentrant: a signal handler that ends a span may interrupt on_end in the same thread.
        self.lock = threading.RLock()
        self.queue: collections.deque[ReadableSpan] = collections.deque()
        # Each span's estimate, appended after the span under the lock: the first len(sizes) entries
        # of both deques pair up, so the encoding thread can take them without the lock.
        self.sizes: collections.deque[int] = collections.deque()
        self.queue_bytes = 0  # spans in queue (on_end adds, the encoding thread subtracts)
        self.outbox_bytes = 0  # units waiting to be sent and the request in flight (the threads only)
        self.accepted = 0  # spans ever queued: span k (0-based) has position k
        self.taken = 0  # spans the encoding thread has taken (only it writes this)
        self.exported = 0
        self.dropped_full = 0
        self.dropped_failed = 0
        self.drops_at_flush = 0  # dropped_full + dropped_failed when the last flush returned

    def take(self, count: int) -> tuple[list[ReadableSpan], list[int]]:
        """The ``count`` oldest spans and their estimates (the encoding thread only; see ``sizes``)."""
        popleft, pop_size = self.queue.popleft, self.sizes.popleft
        spans = [popleft() for _ in range(count)]
        sizes = [pop_size() for _ in range(count)]
        self.taken += count
        return spans, sizes

    def encoded(self, span_bytes: int, unit_bytes: int, failed: int) -> None:
        """Spans of ``span_bytes`` left the queue as units of ``unit_bytes``; ``failed`` could not be encoded."""
        with self.lock:
            self.queue_bytes -= span_bytes
            self.outbox_bytes += unit_bytes
            self.dropped_failed += failed

    def resize_outbox(self, delta: int) -> None:
        """Units became a request body of a different size."""
        with self.lock:
            self.outbox_bytes += delta

    def settle(self, nbytes: int, count: int, *, delivered: bool) -> None:
        """``count`` spans held as ``nbytes`` in the outbox are delivered, or dropped for good."""
        with self.lock:
            self.outbox_bytes -= nbytes
            if delivered:
                self.exported += count
            else:
                self.dropped_failed += count

    @property
    def pending(self) -> int:
        """Spans accepted and not yet delivered or dropped."""
        return self.accepted - self.exported - self.dropped_failed

    @property
    def held_bytes(self) -> int:
        """Memory held now (estimated for spans, exact for encoded units and requests)."""
        return self.queue_bytes + self.outbox_bytes

    def no_new_drops(self, ok: bool) -> bool:
        """``ok``, and no span dropped since the previous call; starts a new period either way."""
        with self.lock:
            dropped = self.dropped_full + self.dropped_failed
            clean = dropped == self.drops_at_flush
            self.drops_at_flush = dropped
        return ok and clean
