"""OTLP/HTTP span exporter: OTLP/JSON over one persistent connection, bounded retries.

Why not the stock ``OTLPSpanExporter``: its protobuf encoding is most of the per-span CPU the SDK
costs (see ``docs/benchmarks.md``), and it cannot tell its caller whether a failed batch is worth
keeping. This exporter reports an :class:`ExportOutcome` so the processor keeps retryable batches
(receiver down, 429, 5xx) for a later attempt and drops only what the receiver rejected.

Every error is caught here: ``export`` never raises, it logs and reports.
"""

from __future__ import annotations

import enum
import http.client
import logging
import os
import random
import ssl
import threading
import time
import weakref
import zlib
from collections.abc import Mapping, Sequence
from email.utils import parsedate_to_datetime
from typing import NamedTuple
from urllib.parse import urlsplit

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from interactiveai.sdk.export.connection import HttpConnection, build_request_head
from interactiveai.sdk.export.encoder import (
    MAX_REQUEST_BYTES,
    EncodedBatch,
    encode_batch,
    encode_fragments,
    request_body,
)
from interactiveai.version import __version__

__all__ = ["COMPRESSIONS", "BatchResult", "ExportOutcome", "OtlpHttpExporter"]

logger = logging.getLogger("interactiveai.sdk.export")

COMPRESSIONS = ("gzip", "none")
"""Accepted values of ``compression``."""

_GZIP_LEVEL = 1
"""zlib level 1: OTLP/JSON shrinks ~8x already at level 1, and higher levels cost 2-4x the CPU for a few %."""

_BACKOFF_BASE = 0.2
_BACKOFF_CAP = 5.0
_MAX_RETRY_AFTER = 60.0
"""A ``Retry-After`` beyond this is treated as this: a misconfigured proxy must not park the queue for hours."""

_RETRYABLE_STATUS = frozenset((408, 429))


class ExportOutcome(enum.Enum):
    """What happened to a batch, and so what the processor should do with it."""

    SUCCESS = "success"
    """The receiver accepted the batch (2xx)."""
    RETRYABLE = "retryable"
    """Not delivered for a transient reason (network, timeout, 408/429/5xx) within the deadline: keep it."""
    REJECTED = "rejected"
    """The receiver refused it for good (other 4xx) or it could not be encoded: resending cannot help."""


class BatchResult(NamedTuple):
    """The outcome of ``export_batch`` and how many of its spans were refused for good."""

    outcome: ExportOutcome
    rejected: int
    retry_not_before: float = 0.0
    """For RETRYABLE: the ``time.monotonic()`` before which the receiver asked not to be retried
    (its last ``Retry-After``), so the processor's next attempt honours it too."""


def _parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    return min(max(seconds, 0.0), _MAX_RETRY_AFTER)


class OtlpHttpExporter(SpanExporter):
    """Exports spans as OTLP/JSON to an OTLP/HTTP traces endpoint.

    As an OTel ``SpanExporter`` (``export``), or in stages, as ``ExportProcessor`` uses it: ``encode``
    turns spans into request fragments (CPU only, on the processor's encoding thread), ``wire_body``
    merges waiting fragments into one request body and compresses it, and ``send`` delivers that body
    with retries (on the sending thread; a retry resends the same bytes).

    Args:
        endpoint: Full URL of the traces endpoint, e.g. ``http://localhost:3000/api/public/otel/v1/traces``.
        headers: Extra request headers (authorization, SDK name/version); they override ours.
        timeout: Seconds one ``export`` call may take in total, retries and backoff included.
        compression: ``"gzip"`` (default: ~1.4 µs/span of CPU for 8x fewer bytes, see
            docs/benchmarks.md) or ``"none"``.
        max_request_bytes: Most span bytes per request (before gzip); bigger batches are split.

    Example:
        >>> exporter = OtlpHttpExporter("http://localhost:3000/v1/traces", headers={}, timeout=5.0)
    """

    def __init__(
        self,
        endpoint: str,
        *,
        headers: Mapping[str, str],
        timeout: float,
        compression: str = "gzip",
        max_request_bytes: int = MAX_REQUEST_BYTES,
    ) -> None:
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"OTLP endpoint must be an http(s) URL, got {endpoint!r}")
        if compression not in COMPRESSIONS:
            raise ValueError(f"compression must be one of {COMPRESSIONS}, got {compression!r}")
        self.endpoint = endpoint
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._timeout = float(timeout)
        self._gzip = compression == "gzip"
        self._max_request_bytes = max_request_bytes
        base = {
            "Content-Type": "application/json",
            "User-Agent": f"interactiveai-python/{__version__}",
        }
        if self._gzip:
            base["Content-Encoding"] = "gzip"
        # Validated and rendered once: every request reuses the same head bytes.
        self._head = build_request_head(self._host, self._port, self._https, self._path, {**base, **headers})
        self._ssl_context = ssl.create_default_context() if self._https else None
        self._closed = threading.Event()
        self._init_connection_state()
        self._logged_rejections: set[int] = set()
        self._retry_not_before = 0.0
        # The child of a fork must not share the parent's socket (both would read each other's
        # responses) nor inherit a lock the parent's export thread held at fork time.
        ref = weakref.WeakMethod(self._init_connection_state)
        os.register_at_fork(after_in_child=lambda: (method := ref()) is not None and method())

    def _init_connection_state(self) -> None:
        self._conn: HttpConnection | None = None
        self._lock = threading.Lock()

    # -- SpanExporter -------------------------------------------------------------------------

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Send ``spans``; never raises. SUCCESS only when the receiver accepted them."""
        result = self.export_batch(spans, deadline=time.monotonic() + self._timeout)
        ok = result.outcome is ExportOutcome.SUCCESS and not result.rejected
        return SpanExportResult.SUCCESS if ok else SpanExportResult.FAILURE

    def shutdown(self) -> None:
        """Close the connection and make pending and later exports give up at once."""
        self._closed.set()
        conn = self._conn
        if conn is not None:
            conn.abort()  # wakes an export thread blocked in recv() on it

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Nothing is buffered here: the processor owns the queue."""
        return True

    # -- the stages ExportProcessor runs on its two threads --------------------------------------

    @property
    def max_request_bytes(self) -> int:
        """Most span bytes (before compression) one request carries."""
        return self._max_request_bytes

    @property
    def retry_not_before(self) -> float:
        """After a RETRYABLE ``send``: the ``time.monotonic()`` before which the receiver asked not to
        be retried (its last ``Retry-After``), else 0."""
        return self._retry_not_before

    def encode(self, spans: Sequence[ReadableSpan]) -> EncodedBatch:
        """``spans`` as request fragments for ``wire_body``, each at most ``max_request_bytes``; never raises."""
        try:
            return encode_fragments(spans, self._max_request_bytes)
        except Exception:  # a bug in the encoder must not kill the export thread
            logger.exception("interactiveai: could not encode %d spans; they are dropped", len(spans))
            return EncodedBatch(skipped=len(spans))

    def wire_body(self, fragments: Sequence[bytes]) -> bytes:
        """One request body holding ``fragments``, compressed as configured, ready for ``send``."""
        body = request_body(fragments)
        if self._gzip:
            body = zlib.compress(body, _GZIP_LEVEL, wbits=31)  # wbits=31: gzip framing
        return body

    def export_batch(self, spans: Sequence[ReadableSpan], *, deadline: float) -> BatchResult:
        """Encode and send ``spans``, retrying transient failures until ``deadline`` (monotonic).

        A batch too big for one request goes out as several. The result is RETRYABLE as soon as one
        request could not be delivered (the processor then keeps the whole batch: requests already
        accepted are sent again, which the server's idempotent ingestion absorbs); ``rejected``
        counts spans refused for good (unencodable, oversized, or answered with a final 4xx).
        """
        if not spans:
            return BatchResult(ExportOutcome.SUCCESS, 0)
        try:
            encoded = encode_batch(spans, self._max_request_bytes)
        except Exception:  # a bug in the encoder must not kill the export thread
            logger.exception("interactiveai: could not encode %d spans; they are dropped", len(spans))
            return BatchResult(ExportOutcome.REJECTED, len(spans))
        rejected = encoded.skipped
        for body, count in zip(encoded.bodies, encoded.span_counts, strict=True):
            if self._gzip:
                body = zlib.compress(body, _GZIP_LEVEL, wbits=31)  # wbits=31: gzip framing
            outcome = self.send(body, deadline=deadline)
            if outcome is ExportOutcome.RETRYABLE:
                return BatchResult(outcome, 0, self._retry_not_before)
            if outcome is ExportOutcome.REJECTED:
                rejected += count
        if rejected == len(spans):
            return BatchResult(ExportOutcome.REJECTED, rejected)
        return BatchResult(ExportOutcome.SUCCESS, rejected)

    def send(self, body: bytes, *, deadline: float) -> ExportOutcome:
        """POST an already-encoded request body with retry, backoff and jitter until ``deadline``."""
        attempt = 0
        self._retry_not_before = 0.0
        while not self._closed.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            retry_after: float | None = None
            try:
                status, retry_after, reply = self._post(body, remaining)
            except (OSError, http.client.HTTPException) as exc:
                # Connection refused/reset, timeout, malformed response: _post dropped the
                # connection; the next attempt opens a fresh one.
                logger.debug("interactiveai: export attempt %d failed: %r", attempt + 1, exc)
            else:
                if 200 <= status < 300:
                    return ExportOutcome.SUCCESS
                if not (status in _RETRYABLE_STATUS or status >= 500):
                    self._log_rejection(status, reply)
                    return ExportOutcome.REJECTED
                logger.debug("interactiveai: export attempt %d got HTTP %d", attempt + 1, status)
            delay = min(_BACKOFF_CAP, _BACKOFF_BASE * (2**attempt))
            delay = delay / 2 + random.uniform(0, delay / 2)  # jitter: replicas must not retry in lockstep
            if retry_after is not None:
                delay = max(delay, retry_after)
                self._retry_not_before = time.monotonic() + retry_after
            if time.monotonic() + delay >= deadline:
                break
            if self._closed.wait(delay):
                break
            attempt += 1
        return ExportOutcome.RETRYABLE

    # -- HTTP ----------------------------------------------------------------------------------

    def _post(self, body: bytes, timeout: float) -> tuple[int, float | None, bytes]:
        with self._lock:
            conn = self._conn
            reused = conn is not None
            try:
                if conn is None:
                    conn = self._conn = self._connect(timeout)
                try:
                    status, retry_after, reply, will_close = conn.post(self._head, body, timeout)
                except (ConnectionError, http.client.RemoteDisconnected):
                    if not reused:
                        raise
                    # A kept-alive connection the server closed while idle: the request never
                    # reached it, so one immediate retry on a fresh connection is safe.
                    conn.close()
                    conn = self._conn = self._connect(timeout)
                    status, retry_after, reply, will_close = conn.post(self._head, body, timeout)
            except BaseException:
                # The stream is in an unknown state (half a request sent, half a reply read).
                self._drop_connection_locked()
                raise
            if will_close:
                self._drop_connection_locked()
        return status, _parse_retry_after(retry_after), reply

    def _connect(self, timeout: float) -> HttpConnection:
        return HttpConnection(self._host, self._port, ssl_context=self._ssl_context, timeout=timeout)

    def _drop_connection_locked(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def _log_rejection(self, status: int, reply: bytes) -> None:
        # Once per status code: a misconfigured key would otherwise log every few seconds forever.
        if status in self._logged_rejections:
            logger.debug("interactiveai: receiver rejected a batch with HTTP %d", status)
            return
        self._logged_rejections.add(status)
        logger.error(
            "interactiveai: %s rejected a batch with HTTP %d (%s); such batches are dropped, not retried",
            self.endpoint,
            status,
            reply[:200].decode("utf-8", "replace"),
        )
