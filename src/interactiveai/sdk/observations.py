"""Observation objects: thin wrappers over OTel spans, one class per observation type.

An observation is created by the client (``start_observation``, ``start_as_current_observation``,
``create_event``) or by ``@observe``. Updates are partial: a field left ``None`` is never cleared,
and an update never changes the observation's type.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import time
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Self, TypedDict, Unpack

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, Status, StatusCode
from opentelemetry.util.types import AttributeValue

from interactiveai.sdk.attributes import (
    OBSERVATION_TYPES,
    Attr,
    ObservationType,
    observation_attributes,
    safe_attributes,
    trace_attributes,
)
from interactiveai.sdk.context import detach_quietly
from interactiveai.sdk.distributed import TraceContext, remote_parent_context
from interactiveai.sdk.ids import format_observation_id, format_trace_id, normalize_observation_id
from interactiveai.sdk.scores import ScoreOptions
from interactiveai.sdk.spans import start_span

if TYPE_CHECKING:
    from interactiveai.sdk.client import InteractiveAI

logger = logging.getLogger("interactiveai")


class ObservationFields(TypedDict, total=False):
    """Optional fields of every create/update call (model fields are meant for generations)."""

    input: Any
    output: Any
    metadata: Any
    version: str
    level: str
    status_message: str
    model: str
    model_parameters: dict[str, Any]
    usage_details: dict[str, Any]
    cost_details: dict[str, Any]
    completion_start_time: dt.datetime


_EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _to_ns(value: int | float | dt.datetime | None) -> int | None:
    if value is None or isinstance(value, int):
        return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return (value - _EPOCH) // dt.timedelta(microseconds=1) * 1000  # exact, unlike timestamp() * 1e9
    return round(value * 1e9)  # float: seconds since the epoch (a double keeps ~0.25 µs of it today)


def mark_error(span: Span, exc: BaseException) -> None:
    """Level ERROR, status message and OTel status ERROR for an exception leaving an observation."""
    try:
        message = str(exc) or type(exc).__name__
        span.set_attributes({Attr.OBSERVATION_LEVEL: "ERROR", Attr.OBSERVATION_STATUS_MESSAGE: message})
        span.set_status(Status(StatusCode.ERROR, message))
        span.record_exception(exc)
    except Exception as err:
        logger.debug("interactiveai: could not record an error: %s", err)


def is_error(exc: BaseException) -> bool:
    """Exceptions that mean the observation failed (not generator/interpreter shutdown signals)."""
    return isinstance(exc, Exception | asyncio.CancelledError | KeyboardInterrupt)


# The class of each observation type, filled as the subclasses below are defined.
OBSERVATION_CLASSES: Final[dict[str, type[InteractiveAIObservation]]] = {}


class InteractiveAIObservation:
    """Base of the observation classes; ``id`` is 16 hex, ``trace_id`` 32 hex."""

    __slots__ = ("_span", "_client", "_as_type")
    TYPE: str = "span"

    def __init_subclass__(cls, observation_type: str | None = None, **kwargs: Any) -> None:
        """``observation_type=`` names the type a subclass stands for and registers it in ``OBSERVATION_CLASSES``."""
        super().__init_subclass__(**kwargs)
        if observation_type is not None:
            cls.TYPE = observation_type
            OBSERVATION_CLASSES[observation_type] = cls

    def __init__(self, span: Span, client: InteractiveAI, as_type: str | None = None) -> None:
        self._span = span
        self._client = client
        self._as_type = as_type or self.TYPE

    def __repr__(self) -> str:
        return f"<{type(self).__name__} id={self.id} trace_id={self.trace_id}>"

    @property
    def id(self) -> str:
        return format_observation_id(self._span.get_span_context().span_id)

    @property
    def trace_id(self) -> str:
        return format_trace_id(self._span.get_span_context().trace_id)

    @property
    def type(self) -> str:
        return self._as_type

    @property
    def otel_span(self) -> Span:
        """The underlying OpenTelemetry span."""
        return self._span

    def update(self, *, name: str | None = None, **fields: Unpack[ObservationFields]) -> Self:
        """Set the given fields; ``None`` leaves a field unchanged. ``level="ERROR"`` also sets the OTel status."""
        span = self._span
        if not span.is_recording():
            return self
        try:
            if name is not None:
                span.update_name(name)
            span.set_attributes(safe_attributes(observation_attributes, mask=self._client._mask, **fields))
            if str(fields.get("level")).upper() == "ERROR":
                span.set_status(Status(StatusCode.ERROR, fields.get("status_message")))
        except Exception as exc:
            logger.warning("interactiveai: update failed: %s", exc)
        return self

    def end(self, *, end_time: int | float | dt.datetime | None = None) -> Self:
        """End the observation (``end_time``: ns since the epoch as an int, seconds as a float, or a datetime
        (naive means UTC); default now)."""
        try:
            self._span.end(end_time=_to_ns(end_time))
        except Exception as exc:
            logger.debug("interactiveai: end failed: %s", exc)
        return self

    def update_trace(
        self,
        *,
        name: str | None = None,
        user_id: str | None = None,
        session_id: str | None = None,
        version: str | None = None,
        input: Any = None,
        output: Any = None,
        metadata: Any = None,
        tags: Sequence[str] | None = None,
        public: bool | None = None,
    ) -> Self:
        """Set trace-level attributes (written on this observation; the server merges them into the trace)."""
        if self._span.is_recording():
            self._span.set_attributes(
                safe_attributes(
                    trace_attributes,
                    mask=self._client._mask,
                    name=name,
                    user_id=user_id,
                    session_id=session_id,
                    version=version,
                    input=input,
                    output=output,
                    metadata=metadata,
                    tags=tags,
                    public=public,
                )
            )
        return self

    def score(self, *, name: str, value: float | str | bool, **options: Unpack[ScoreOptions]) -> None:
        """Score this observation (see ``InteractiveAI.create_score`` for the options)."""
        self._client._score(name, value, self.trace_id, self.id, options)

    def score_trace(self, *, name: str, value: float | str | bool, **options: Unpack[ScoreOptions]) -> None:
        """Score this observation's trace."""
        self._client._score(name, value, self.trace_id, None, options)

    # -- children ---------------------------------------------------------------------------------

    def start_observation(
        self,
        *,
        name: str,
        as_type: ObservationType = "span",
        start_time: int | float | dt.datetime | None = None,
        **fields: Unpack[ObservationFields],
    ) -> InteractiveAIObservation:
        """A child observation of this one (not made current; call ``end()``); ``start_time`` as in ``end``."""
        return start_observation(self._client, name, as_type, parent=self._span, fields=fields, start_time=start_time)

    def start_as_current_observation(
        self,
        *,
        name: str,
        as_type: ObservationType = "span",
        end_on_exit: bool = True,
        **fields: Unpack[ObservationFields],
    ) -> ObservationScope:
        """A child observation made current for a ``with`` block."""
        return ObservationScope(self._client, name, as_type, fields, parent=self._span, end_on_exit=end_on_exit)

    def start_span(self, name: str, **fields: Unpack[ObservationFields]) -> InteractiveAIObservation:
        return self.start_observation(name=name, as_type="span", **fields)

    def start_generation(self, name: str, **fields: Unpack[ObservationFields]) -> InteractiveAIObservation:
        return self.start_observation(name=name, as_type="generation", **fields)

    def create_event(
        self, *, name: str, start_time: int | float | dt.datetime | None = None, **fields: Unpack[ObservationFields]
    ) -> InteractiveAIObservation:
        """A zero-duration child event (at ``start_time``, default now)."""
        return self.start_observation(name=name, as_type="event", start_time=start_time, **fields)


class InteractiveAISpan(InteractiveAIObservation, observation_type="span"):
    __slots__ = ()


class InteractiveAIGeneration(InteractiveAIObservation, observation_type="generation"):
    __slots__ = ()


class InteractiveAIEvent(InteractiveAIObservation, observation_type="event"):
    __slots__ = ()


class InteractiveAIAgent(InteractiveAIObservation, observation_type="agent"):
    __slots__ = ()


class InteractiveAITool(InteractiveAIObservation, observation_type="tool"):
    __slots__ = ()


class InteractiveAIChain(InteractiveAIObservation, observation_type="chain"):
    __slots__ = ()


class InteractiveAIRetriever(InteractiveAIObservation, observation_type="retriever"):
    __slots__ = ()


class InteractiveAIEmbedding(InteractiveAIObservation, observation_type="embedding"):
    __slots__ = ()


class InteractiveAIEvaluator(InteractiveAIObservation, observation_type="evaluator"):
    __slots__ = ()


class InteractiveAIGuardrail(InteractiveAIObservation, observation_type="guardrail"):
    __slots__ = ()


def wrap_span(span: Span, client: InteractiveAI) -> InteractiveAIObservation:
    """An observation object for an existing span, keeping the type it was created with."""
    attrs = getattr(span, "attributes", None) or {}
    as_type = attrs.get(Attr.OBSERVATION_TYPE)
    as_type = as_type if isinstance(as_type, str) and as_type in OBSERVATION_TYPES else "span"
    return OBSERVATION_CLASSES[as_type](span, client, as_type)


def _checked_type(as_type: str) -> str:
    if as_type in OBSERVATION_TYPES:
        return as_type
    logger.warning("interactiveai: unknown observation type %r; using 'span'", as_type)
    return "span"


def _parent_context(parent: Span | None, trace_context: TraceContext | None) -> tuple[Context | None, bool, bool]:
    """The context to start in, whether the span roots a continued trace, and whether its parent is made up."""
    if parent is not None:
        return trace.set_span_in_context(parent), False, False
    if trace_context is not None:
        if not isinstance(trace_context, dict):
            logger.warning("interactiveai: trace_context must be a dict; ignoring it")
            return None, False, False
        parent_id = trace_context.get("parent_span_id")
        ctx = remote_parent_context(trace_context.get("trace_id"), parent_id)
        return ctx, ctx is not None, ctx is not None and normalize_observation_id(parent_id) is None
    return None, False, False


def start_otel_span(
    client: InteractiveAI,
    name: str,
    as_type: str,
    fields: ObservationFields | dict[str, Any],
    *,
    parent: Span | None = None,
    trace_context: TraceContext | None = None,
    start_time: int | None = None,
) -> Span:
    """Start a span of ``client`` with its type, environment/release and the given fields."""
    tracer = client._tracer
    if tracer is None:
        return trace.INVALID_SPAN
    ctx, as_root, synthetic_parent = _parent_context(parent, trace_context)
    attributes: dict[str, AttributeValue] = {Attr.OBSERVATION_TYPE: as_type, **client._base_attributes}
    if as_root:
        attributes[Attr.AS_ROOT] = True
    if synthetic_parent:
        attributes[Attr.SYNTHETIC_PARENT] = True
    if fields:
        try:
            attributes.update(observation_attributes(mask=client._mask, **fields))
        except Exception as exc:  # a bad value never reaches the caller (as ``safe_attributes``)
            logger.warning("interactiveai: could not record attributes: %s", exc)
    span = start_span(tracer, name, ctx, attributes, start_time)
    if str(fields.get("level")).upper() == "ERROR":
        span.set_status(Status(StatusCode.ERROR, fields.get("status_message")))
    return span


def start_observation(
    client: InteractiveAI,
    name: str,
    as_type: str,
    *,
    fields: ObservationFields | dict[str, Any],
    parent: Span | None = None,
    trace_context: TraceContext | None = None,
    start_time: int | float | dt.datetime | None = None,
) -> InteractiveAIObservation:
    """Start an observation (events are ended at once, with zero duration)."""
    as_type = _checked_type(as_type)
    try:
        start_ns = _to_ns(start_time)
        if start_ns is None and as_type == "event":
            start_ns = time.time_ns()
        span = start_otel_span(
            client, name, as_type, fields, parent=parent, trace_context=trace_context, start_time=start_ns
        )
        if as_type == "event":
            span.end(end_time=start_ns)
    except Exception as exc:
        logger.warning("interactiveai: could not start observation %r: %s", name, exc)
        span = trace.INVALID_SPAN
    return OBSERVATION_CLASSES[as_type](span, client, as_type)


class ObservationScope:
    """Context manager: the observation is current inside the block and ended on exit.

    An exception leaving the block sets level ERROR, the status message and the OTel status,
    then propagates unchanged.
    """

    __slots__ = ("_start_observation", "_end_on_exit", "_obs", "_token")

    def __init__(
        self,
        client: InteractiveAI,
        name: str,
        as_type: str,
        fields: ObservationFields | dict[str, Any],
        *,
        parent: Span | None = None,
        trace_context: TraceContext | None = None,
        end_on_exit: bool = True,
    ) -> None:
        self._start_observation = functools.partial(
            start_observation, client, name, as_type, fields=fields, parent=parent, trace_context=trace_context
        )
        self._end_on_exit = end_on_exit
        self._obs: InteractiveAIObservation | None = None
        self._token: object | None = None

    def __enter__(self) -> InteractiveAIObservation:
        obs = self._start_observation()
        self._obs = obs
        if obs.otel_span.is_recording():
            self._token = otel_context.attach(trace.set_span_in_context(obs.otel_span))
        return obs

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        obs = self._obs
        if obs is None:
            return
        if exc is not None and is_error(exc):
            mark_error(obs.otel_span, exc)
        if self._token is not None:
            token, self._token = self._token, None
            detach_quietly(token)
        if self._end_on_exit:
            obs.end()

    async def __aenter__(self) -> InteractiveAIObservation:
        return self.__enter__()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.__exit__(exc_type, exc, tb)
