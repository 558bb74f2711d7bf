"""What a span's own events say, whatever its convention: the exception it failed with, and when
it really ended.

- **Exceptions.** OpenTelemetry records an exception as an ``exception`` event (``exception.type``,
  ``.message``, ``.stacktrace``). Some libraries also write the exception's repr followed by its
  whole traceback as the span's status description (OpenInference's LangChain tracer): when the
  description is missing or runs over several lines, the status message is the short
  ``Type: message`` of the last exception event. A third-party span keeps that event in its
  metadata as ``exception`` (the traceback's last ``MAX_STACKTRACE_CHARS`` characters).
- **End.** A span may end before its own events: LlamaIndex ends a stream's span when it hands
  the generator back, and records the stream's first token on it afterwards. An observation
  whose events come after its end ends at its last event (at most ``MAX_EVENT_LAG_US`` later, so
  one wrong clock cannot stretch it for days): its latency then covers what it recorded, and its
  time to first token never exceeds its latency.
"""

from __future__ import annotations

from typing import Any

from interactiveai.server.ingest import fields
from interactiveai.server.ingest.otlp import SpanEvent

EXCEPTION_EVENT = "exception"
MAX_STACKTRACE_CHARS = 16_000
MAX_EVENT_LAG_US = 24 * 3600 * 1_000_000


def last_exception(events: list[SpanEvent]) -> dict[str, Any] | None:
    """The last ``exception`` event as ``{type, message, stacktrace}`` (what it gives), or None."""
    for event in reversed(events):
        if event.name == EXCEPTION_EVENT:
            attributes = event.attributes
            found = {
                key: attributes[f"exception.{key}"]
                for key in ("type", "message", "stacktrace")
                if attributes.get(f"exception.{key}") not in (None, "")
            }
            trace = found.get("stacktrace")
            if isinstance(trace, str) and len(trace) > MAX_STACKTRACE_CHARS:
                found["stacktrace"] = "…" + trace[-MAX_STACKTRACE_CHARS:]  # the end names the error
            return found or None
    return None


def status_message(described: str | None, exception: dict[str, Any] | None) -> str | None:
    """The status description, or the exception's ``Type: message`` when the description is
    missing or a whole traceback."""
    if exception is None or (described is not None and "\n" not in described):
        return described
    kind = fields.text(exception.get("type"))
    message = fields.text(exception.get("message"))
    short_kind = kind.rsplit(".", 1)[-1] if kind else None
    if short_kind and message:
        return f"{short_kind}: {message}"
    return message or short_kind or described


def end_us(events: list[SpanEvent], end: int) -> int:
    """The span's end, or its last event's time when that comes later (within the lag bound)."""
    latest = end
    for event in events:
        at = event.time_ns // 1000
        if latest < at <= end + MAX_EVENT_LAG_US:
            latest = at
    return latest
