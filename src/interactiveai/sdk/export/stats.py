"""What an export processor counts, and how it tells: ``ExportStats`` and rate-limited warnings."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from interactiveai.sdk.export.buffer import SpanBuffer

__all__ = ["DROP_WARNING_INTERVAL", "ExportStats", "ExportWarnings"]

logger = logging.getLogger("interactiveai.sdk.export")

DROP_WARNING_INTERVAL = 30.0
"""Seconds between two warnings about dropped spans (the counts are cumulative, nothing is lost)."""


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

    @classmethod
    def of(cls, buffer: SpanBuffer) -> ExportStats:
        """The counters of ``buffer`` now (approximate while other threads are ending spans)."""
        return cls(
            queued=buffer.pending,
            exported=buffer.exported,
            dropped_queue_full=buffer.dropped_full,
            dropped_export_failed=buffer.dropped_failed,
            queued_bytes=buffer.held_bytes,
        )


class ExportWarnings:
    """Warnings about dropped spans and a failing receiver, each at most once per ``DROP_WARNING_INTERVAL``.

    The counts in them are cumulative, so a skipped warning loses nothing; an outage of hours
    would otherwise log thousands of lines.
    """

    def __init__(self, buffer: SpanBuffer) -> None:
        self._buffer = buffer
        self._dropped_reported = 0
        self._last_drop_warning = float("-inf")
        self._last_failure_warning = float("-inf")

    def receiver_failing(self) -> None:
        """A request failed and is kept for a retry."""
        now = time.monotonic()
        if now - self._last_failure_warning < DROP_WARNING_INTERVAL:
            return
        self._last_failure_warning = now
        buffer = self._buffer
        logger.warning(
            "interactiveai: the receiver is unreachable or refusing (network error, 408, 429 or 5xx); "
            "%d spans (%d bytes) are kept and retried (up to max_queue_bytes=%d)",
            buffer.pending,
            buffer.held_bytes,
            buffer.max_bytes,
        )

    def drops(self, *, force: bool) -> None:
        """Warn about spans dropped since the last warning, unless one was given recently (``force``: anyway)."""
        buffer = self._buffer
        dropped = buffer.dropped_full + buffer.dropped_failed
        if dropped == self._dropped_reported:
            return
        now = time.monotonic()
        if not force and now - self._last_drop_warning < DROP_WARNING_INTERVAL:
            return
        cap = "" if buffer.max_spans is None else f" or max_queue_size={buffer.max_spans}"
        logger.warning(
            "interactiveai: %d spans dropped so far (%d: queue full at max_queue_bytes=%d%s, %d: export failed)",
            dropped,
            buffer.dropped_full,
            buffer.max_bytes,
            cap,
            buffer.dropped_failed,
        )
        self._dropped_reported = dropped
        self._last_drop_warning = now
