"""The span path of the observations the SDK creates: the OTel SDK's own ``start_span``, leaner.

Observations are ordinary OpenTelemetry SDK spans: ``ObservationSpan`` is a subclass of
``opentelemetry.sdk.trace.Span`` (hence an OTel API ``Span`` and a ``ReadableSpan``), it is started
by the tracer of the application's ``TracerProvider`` with that provider's sampler, id generator,
resource, limits, tracer configuration and span processors, and it lives in the OTel context, so
third-party spans nest under it and propagators see it. What differs is only the cost:

- ``start_span`` does what ``Tracer.start_span`` does, reading the context once and deciding the
  stock ``ParentBased``/``ALWAYS_ON``/``ALWAYS_OFF`` samplers, the stock ``RandomIdGenerator``
  ids and the no-op SDK self-metrics inline (any other sampler, id generator or metrics object
  is called as usual);
- the span is built without the validation of values we produce ourselves (strings, bools,
  ints, floats: exactly what OTel's validation would store unchanged); anything else, and every
  value when a value-length limit is configured, goes through OTel's ``BoundedAttributes``;
- the event and link lists are created on first use;
- ``end()`` hands the span itself to the processors instead of a ``ReadableSpan`` copy. The copy
  shares the span's attribute, event and link containers anyway; once ended, every mutator of
  the span refuses to change it (under its lock, as in OTel), so processors see the same frozen
  data.

The fast path is used only with the OTel SDK layout it was written against (checked once at
import, and per call that the tracer is exactly the SDK ``Tracer``); otherwise ``start_span``
falls back to ``tracer.start_span``.
"""

from __future__ import annotations

import logging
import random as _random
import threading
import weakref
from collections.abc import Callable, Mapping
from time import time_ns
from typing import Any, Final

from opentelemetry import context as otel_context
from opentelemetry import trace as trace_api
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.context import Context
from opentelemetry.sdk import trace as sdk_trace
from opentelemetry.sdk.trace import sampling
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.util import BoundedList
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags
from opentelemetry.trace import propagation as trace_propagation
from opentelemetry.trace.status import Status, StatusCode
from opentelemetry.util.types import AnyValue, AttributeValue

__all__ = ["ObservationSpan", "fast_path_supported", "start_span"]

# The OTel SDK's loggers, so warnings read exactly as with the stock span.
_otel_logger = logging.getLogger(sdk_trace.__name__)

_PLAIN: Final = frozenset((str, bool, int, float))
_INTERNAL: Final = SpanKind.INTERNAL
_UNSET: Final = Status(StatusCode.UNSET)
_RECORD_AND_SAMPLE: Final = sampling.Decision.RECORD_AND_SAMPLE
_DROP: Final = sampling.Decision.DROP
_EMPTY: Final[tuple[Any, ...]] = ()

_SDK_TRACER: Final = sdk_trace.Tracer
_RandomIdGenerator: Final = RandomIdGenerator
_NoOpTracerMetrics: Any
try:
    from opentelemetry.sdk.trace._tracer_metrics import NoOpTracerMetrics as _NoOpTracerMetrics
except ImportError:  # other SDK versions: every tracer's metrics are called
    _NoOpTracerMetrics = None
_SPAN_KEY: Final[str] = getattr(trace_propagation, "_SPAN_KEY", "current-span")  # checked in _sdk_layout_ok
_get_current: Final = otel_context.get_current
_new_tuple: Final[Any] = tuple.__new__
_DEFAULT_TRACE_STATE: Final = SpanContext(1, 1, False).trace_state
_TRACE_ID_MAX: Final = (1 << 128) - 1
_SPAN_ID_MAX: Final = (1 << 64) - 1
_ParentBased: Final = sampling.ParentBased
_StaticSampler: Final = sampling.StaticSampler

# The W3C "random trace id" flag, added in OTel 1.42. The fast path needs 1.43 (the layout check
# below); before, spans start through ``Tracer.start_span``, and import must not fail on its absence.
_RANDOM_TRACE_ID: Final[int] = getattr(TraceFlags, "RANDOM_TRACE_ID", 0)
# TraceFlags for (sampled, random trace id); ints, immutable, shared.
_FLAGS: Final = {
    (sampled, random): TraceFlags(
        (TraceFlags.SAMPLED if sampled else TraceFlags.DEFAULT) | (_RANDOM_TRACE_ID if random else 0)
    )
    for sampled in (False, True)
    for random in (False, True)
}


_TRACER_FIELDS: Final = (
    "sampler",
    "resource",
    "span_processor",
    "id_generator",
    "instrumentation_info",
    "_span_limits",
    "_instrumentation_scope",
    "_tracer_metrics",
)


def _sdk_layout_ok() -> bool:
    """True when the installed OTel SDK has the internals this module replicates (no side effects:
    nothing global is created; each tracer's own fields are checked on its first span)."""
    try:
        probe = BoundedAttributes(4, immutable=False)
        probe_span = NonRecordingSpan(SpanContext(3, 4, False))
        return (
            all(hasattr(probe, name) for name in ("_dict", "maxlen", "dropped", "max_value_len", "_lock"))
            and hasattr(probe, "_setitem_locked")
            and hasattr(BoundedList(1), "_dq")
            and hasattr(sdk_trace.Tracer, "_is_enabled")
            and hasattr(sdk_trace.Span, "_readable_span")
            and hasattr(sdk_trace.SynchronousMultiSpanProcessor, "_on_ending")
            and hasattr(sdk_trace.ConcurrentMultiSpanProcessor, "_on_ending")
            and hasattr(TraceFlags, "RANDOM_TRACE_ID")
            and hasattr(trace_propagation, "_SPAN_KEY")
            and trace_api.set_span_in_context(probe_span).get(_SPAN_KEY) is probe_span
            and tuple(SpanContext(3, 4, False, TraceFlags(1), _DEFAULT_TRACE_STATE))
            == (3, 4, False, 1, _DEFAULT_TRACE_STATE, True)
            and not SpanContext(0, 4, False).is_valid
            and not SpanContext(1 << 128, 4, False).is_valid
            and all(
                hasattr(sampling.DEFAULT_ON, name)
                for name in (
                    "_root",
                    "_remote_parent_sampled",
                    "_remote_parent_not_sampled",
                    "_local_parent_sampled",
                    "_local_parent_not_sampled",
                )
            )
            and hasattr(sampling.ALWAYS_ON, "_decision")
        )
    except Exception:
        return False


_FAST: Final = _sdk_layout_ok()
# Per tracer (by id, with a weak reference so a recycled id cannot alias and no tracer is kept
# alive): does it have the fields the fast path reads? Bounded, like any per-object cache here.
_TRACERS: dict[int, tuple[weakref.ref[Any], bool]] = {}


def _tracer_ok(tracer: object) -> bool:
    entry = _TRACERS.get(id(tracer))
    if entry is not None and entry[0]() is tracer:
        return entry[1]
    ok = _FAST and type(tracer) is _SDK_TRACER
    if ok:
        try:
            ok = (
                all(hasattr(tracer, name) for name in _TRACER_FIELDS)
                and hasattr(tracer.span_processor, "_on_ending")  # type: ignore[attr-defined]
                and hasattr(tracer._tracer_metrics, "start_span")  # type: ignore[attr-defined]
            )
        except Exception:
            ok = False
    if len(_TRACERS) >= 256:
        _TRACERS.clear()
    try:
        _TRACERS[id(tracer)] = (weakref.ref(tracer), ok)
    except TypeError:  # not weak-referenceable: not cached (and not the SDK tracer anyway)
        pass
    return ok


def fast_path_supported() -> bool:
    """Whether observations take the lean path with this OTel SDK (else ``Tracer.start_span``)."""
    return _FAST


def _plain(attributes: Mapping[str, Any]) -> bool:
    """True when OTel's validation would store every item unchanged (and drop none)."""
    plain = _PLAIN
    for key, value in attributes.items():
        if type(value) not in plain or type(key) is not str or not key:
            return False
    return True


class ObservationSpan(sdk_trace.Span):
    """An OTel SDK ``Span`` built and ended without the copies and re-validation (see the module doc)."""

    def __init__(
        self,
        name: str,
        context: SpanContext,
        parent: SpanContext | None,
        tracer: sdk_trace.Tracer,
        attributes: Mapping[str, AttributeValue] | None,
        record_end_metrics: Callable[[], None] | None,
    ) -> None:
        limits = tracer._span_limits
        # ReadableSpan's state.
        self._name = name
        self._context = context
        self._kind = _INTERNAL
        self._instrumentation_info = tracer.instrumentation_info
        self._instrumentation_scope = tracer._instrumentation_scope
        self._parent = parent
        self._start_time: int | None = None
        self._end_time: int | None = None
        self._resource = tracer.resource
        self._status = _UNSET
        # Span's state.
        self._sampler = tracer.sampler
        self._trace_config = None
        self._record_exception = True
        self._set_status_on_exception = True
        self._span_processor = tracer.span_processor
        self._limits = limits
        self._lock = threading.Lock()
        maxlen = limits.max_span_attributes
        max_value_len = limits.max_span_attribute_length
        if (
            max_value_len is None
            and (attributes is None or ((maxlen is None or len(attributes) <= maxlen) and _plain(attributes)))
            and (maxlen is None or maxlen > 0)
        ):
            bounded = BoundedAttributes.__new__(BoundedAttributes)
            bounded._dict = dict(attributes) if attributes else {}
            bounded.maxlen = maxlen
            bounded.dropped = 0
            bounded.max_value_len = None
            bounded._lock = threading.Lock()
            bounded._immutable = False
        else:
            bounded = BoundedAttributes(maxlen, attributes, immutable=False, max_value_len=max_value_len)
        self._attributes = bounded
        self._events = _EMPTY  # a BoundedList on the first event (see _add_event)
        self._links = _EMPTY
        self._record_end_metrics = record_end_metrics

    # -- writes: the SDK span's semantics, minus re-validating plain values --------------------

    def set_attribute(self, key: str, value: AnyValue) -> None:
        bounded: BoundedAttributes = self._attributes  # type: ignore[assignment]
        if (
            type(value) in _PLAIN
            and type(key) is str
            and key
            and (bounded.max_value_len is None or type(value) is not str)
            and bounded.maxlen != 0
        ):
            with self._lock:
                if self._end_time is not None:
                    _otel_logger.warning("Setting attribute on ended span.")
                    return
                with bounded._lock:
                    bounded._setitem_locked(key, value)
            return
        super().set_attribute(key, value)

    def set_attributes(self, attributes: Mapping[str, AnyValue]) -> None:
        bounded: BoundedAttributes = self._attributes  # type: ignore[assignment]
        if not (
            type(attributes) is dict and bounded.max_value_len is None and bounded.maxlen != 0 and _plain(attributes)
        ):
            super().set_attributes(attributes)
            return
        with self._lock:
            if self._end_time is not None:
                _otel_logger.warning("Setting attribute on ended span.")
                return
            with bounded._lock:
                values = bounded._dict
                if bounded.maxlen is None or len(values) + len(attributes) <= bounded.maxlen:
                    # Nothing to evict: _setitem_locked's effect (a key written again moves to the
                    # end), without a method call per attribute.
                    for key in attributes:
                        if key in values:
                            del values[key]
                    values.update(attributes)
                else:
                    for key, value in attributes.items():
                        bounded._setitem_locked(key, value)

    def _add_event(self, event: sdk_trace.EventBase) -> None:
        with self._lock:
            if self._end_time is None:
                events = self._events
                if type(events) is tuple:
                    events = self._events = BoundedList(self._limits.max_events)
                events.append(event)  # type: ignore[attr-defined]
                return
        _otel_logger.warning("Tried calling %s on an ended span.", "_add_event")

    def _add_link(self, link: trace_api.Link) -> None:
        with self._lock:
            if self._end_time is None:
                links = self._links
                if type(links) is tuple:
                    links = self._links = BoundedList(self._limits.max_links)
                links.append(link)  # type: ignore[attr-defined]
                return
        _otel_logger.warning("Tried calling %s on an ended span.", "_add_link")

    def end(self, end_time: int | None = None) -> None:
        with self._lock:
            if self._start_time is None:
                raise RuntimeError("Calling end() on a not started span.")
            if self._end_time is not None:
                _otel_logger.warning("Calling end() on an ended span.")
                return
            self._end_time = end_time if end_time is not None else time_ns()
            self._attributes._immutable = True  # type: ignore[union-attr]
        if self._record_end_metrics:
            self._record_end_metrics()
        processor = self._span_processor
        processor._on_ending(self)
        # Ended, every mutator refuses (under the lock): the span is its own read-only snapshot.
        processor.on_end(self)


def _decide(
    sampler: sampling.Sampler,
    context: Context | None,
    parent: SpanContext | None,
    trace_id: int,
    name: str,
    attributes: Mapping[str, AttributeValue] | None,
) -> tuple[sampling.Decision, Mapping[str, AttributeValue] | None, Any]:
    """The sampling decision, the span's attributes and trace state, as ``sampler`` would give them."""
    if type(sampler) is _ParentBased:
        if parent is None:
            delegate = sampler._root
        elif parent.is_remote:
            delegate = (
                sampler._remote_parent_sampled if parent.trace_flags.sampled else sampler._remote_parent_not_sampled
            )
        else:
            delegate = (
                sampler._local_parent_sampled if parent.trace_flags.sampled else sampler._local_parent_not_sampled
            )
        if type(delegate) is _StaticSampler:
            decision = delegate._decision
            trace_state = None if parent is None else parent.trace_state
            return decision, (None if decision is _DROP else attributes), trace_state
    result = sampler.should_sample(context, trace_id, name, _INTERNAL, attributes, _EMPTY)
    return result.decision, result.attributes, result.trace_state


def start_span(
    tracer: trace_api.Tracer,
    name: str,
    context: Context | None = None,
    attributes: Mapping[str, AttributeValue] | None = None,
    start_time: int | None = None,
) -> trace_api.Span:
    """``tracer.start_span(name, context=..., attributes=..., start_time=...)``, an internal span."""
    entry = _TRACERS.get(id(tracer))
    if not (entry[1] if entry is not None and entry[0]() is tracer else _tracer_ok(tracer)):
        return tracer.start_span(name, context=context, attributes=attributes, start_time=start_time)
    sdk_tracer: sdk_trace.Tracer = tracer  # type: ignore[assignment]  # checked by _tracer_ok
    # trace_api.get_current_span(context), without its two nested calls.
    current = (context if context is not None else _get_current()).get(_SPAN_KEY)
    if current is None or not isinstance(current, trace_api.Span):
        current = trace_api.INVALID_SPAN
    parent: SpanContext | None = current.get_span_context()
    if parent is not None and not isinstance(parent, SpanContext):
        raise TypeError("parent_span_context must be a SpanContext or None.")
    if not sdk_tracer._is_enabled():
        return NonRecordingSpan(context=parent)  # type: ignore[arg-type]  # as the SDK does
    id_generator = sdk_tracer.id_generator
    stock_ids = type(id_generator) is _RandomIdGenerator
    if parent is None or not parent.is_valid:
        parent = None
        if stock_ids:  # RandomIdGenerator.generate_trace_id, inline
            trace_id = _random.getrandbits(128)
            while trace_id == 0:
                trace_id = _random.getrandbits(128)
            random_trace_id = True
        else:
            trace_id = id_generator.generate_trace_id()
            random_trace_id = id_generator.is_trace_id_random()
    else:
        trace_id = parent.trace_id
        random_trace_id = parent.trace_flags.random_trace_id
    decision, span_attributes, trace_state = _decide(sdk_tracer.sampler, context, parent, trace_id, name, attributes)
    if stock_ids:  # RandomIdGenerator.generate_span_id, inline
        span_id = _random.getrandbits(64)
        while span_id == 0:
            span_id = _random.getrandbits(64)
    else:
        span_id = id_generator.generate_span_id()
    # SpanContext.__new__'s tuple, built directly (its keyword handling is a Python-level call).
    span_context: SpanContext = _new_tuple(
        SpanContext,
        (
            trace_id,
            span_id,
            False,
            _FLAGS[decision is _RECORD_AND_SAMPLE, bool(random_trace_id)],
            _DEFAULT_TRACE_STATE if trace_state is None else trace_state,
            0 < trace_id <= _TRACE_ID_MAX and 0 < span_id <= _SPAN_ID_MAX,
        ),
    )
    metrics = sdk_tracer._tracer_metrics
    # The no-op metrics' callback does nothing: skip the two calls.
    record_end_metrics = None if type(metrics) is _NoOpTracerMetrics else metrics.start_span(parent, decision)
    if decision is _DROP:
        return NonRecordingSpan(context=span_context)
    span = ObservationSpan(name, span_context, parent, sdk_tracer, span_attributes, record_end_metrics)
    span._start_time = start_time if start_time is not None else time_ns()
    sdk_tracer.span_processor.on_start(span, parent_context=context)
    return span
