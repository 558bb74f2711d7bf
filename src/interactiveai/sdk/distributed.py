"""Distributed tracing: W3C ``traceparent``/``baggage`` in and out, and ``trace_context`` parents.

Outgoing: ``inject_trace_headers()`` adds the current span and baggage to a headers dict.
Incoming: ``continue_trace(headers)`` makes spans started in the block children of the caller's
span (and re-derives ``propagate_attributes(as_baggage=True)`` values from the baggage).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Final, NotRequired, TypedDict

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.context import Context
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from interactiveai.sdk.context import detach_quietly
from interactiveai.sdk.ids import create_observation_id, normalize_observation_id, normalize_trace_id

logger = logging.getLogger("interactiveai")

# Explicit W3C propagators: independent of whatever OTEL_PROPAGATORS configures globally.
_PROPAGATOR: Final = CompositePropagator([TraceContextTextMapPropagator(), W3CBaggagePropagator()])


class TraceContext(TypedDict):
    """An existing trace to attach to: its id and, optionally, the parent observation's id."""

    trace_id: str
    parent_span_id: NotRequired[str]


def _lower_keys(headers: Mapping[str, str]) -> dict[str, str]:
    # HTTP header names are case-insensitive; the propagators look up lower-case names.
    return {str(k).lower(): v for k, v in headers.items() if isinstance(v, str)}


def extract_trace_context(headers: Mapping[str, str], context: Context | None = None) -> Context:
    """An OTel context holding the remote parent and baggage found in ``headers``.

    Missing or malformed headers give back ``context`` (default: the current one) unchanged.
    """
    try:
        return _PROPAGATOR.extract(_lower_keys(headers), context=context)
    except Exception as exc:
        logger.warning("interactiveai: could not read trace headers: %s", exc)
        return context if context is not None else otel_context.get_current()


def inject_trace_headers(
    headers: MutableMapping[str, str] | None = None, context: Context | None = None
) -> dict[str, str]:
    """``traceparent`` (and ``baggage``) for an outgoing request, added to ``headers`` if given.

    Example::

        requests.post(url, json=payload, headers=inject_trace_headers({"accept": "application/json"}))
    """
    out: dict[str, str] = dict(headers) if headers is not None else {}
    try:
        _PROPAGATOR.inject(out, context=context)
    except Exception as exc:
        logger.warning("interactiveai: could not write trace headers: %s", exc)
    if headers is not None:
        headers.update(out)
    return out


@contextlib.contextmanager
def continue_trace(headers: Mapping[str, str]) -> Iterator[Context]:
    """Run the block inside the trace described by incoming ``traceparent``/``baggage`` headers.

    Example::

        with continue_trace(request.headers):
            handle(request)   # its spans join the caller's trace
    """
    token = otel_context.attach(extract_trace_context(headers))
    try:
        yield otel_context.get_current()
    finally:
        detach_quietly(token)


def remote_parent_context(
    trace_id: object, parent_span_id: object = None, base: Context | None = None
) -> Context | None:
    """A context whose current span is a synthetic remote parent, or None for invalid ids.

    Invalid ids are ignored with a warning, never raised (upper case is accepted and lowered).
    An invalid parent id alone is dropped: the span then hangs directly off the trace.
    """
    tid = normalize_trace_id(trace_id)
    if tid is None:
        logger.warning("interactiveai: trace id %r is not 32 hex characters; ignoring it", trace_id)
        return None
    sid = None
    if parent_span_id is not None:
        sid = normalize_observation_id(parent_span_id)
        if sid is None:
            logger.warning(
                "interactiveai: parent observation id %r is not 16 hex characters; ignoring it", parent_span_id
            )
    span_context = SpanContext(
        trace_id=int(tid, 16),
        span_id=int(sid or create_observation_id(), 16),
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
    )
    return trace.set_span_in_context(NonRecordingSpan(span_context), base)
