"""One instrumented OpenAI call: its observation, from the request to the last streamed chunk.

The caller gets exactly what the openai library returned. A streamed call returns the library's
own ``Stream``/``AsyncStream`` object; only the iterator inside it is wrapped (and ``close`` made
to end the observation first), so the same chunks come out of ``for``, ``next()`` and ``with``.
Every step of the recording is guarded: a failure to record is logged, never raised, and the
call's own exceptions reach the caller unchanged.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from time import time_ns
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry.context import Context
from opentelemetry.trace import INVALID_SPAN, Span, Status, StatusCode, Tracer
from opentelemetry.util.types import AttributeValue

from interactiveai.sdk import registry
from interactiveai.sdk.attributes import (
    Attr,
    MaskFunction,
    apply_mask,
    observation_attributes,
    safe_attributes,
    trace_attributes,
)
from interactiveai.sdk.integrations.openai_request import Request, describe
from interactiveai.sdk.integrations.openai_response import Outcome, StreamReader, read_response
from interactiveai.sdk.observations import is_error, mark_error, start_otel_span
from interactiveai.sdk.serialize import to_json, to_text
from interactiveai.sdk.spans import start_span

if TYPE_CHECKING:
    from interactiveai.sdk.client import InteractiveAI

logger = logging.getLogger("interactiveai")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Call:
    """The observation of one call; ``finish_*``/``fail`` end it once.

    Every call of the application pays for this, so it works on the span directly (the same
    builders and encoding rules as the observation API). In the common case the span is even
    started only when the call ends, with the time and the context of the call's start and every
    attribute at once: nothing runs inside it (it is never made current), and one step costs the
    caller less than a start, a second attribute write and an end. The input is encoded at the
    start all the same: the caller may change its messages once the call returns.
    """

    __slots__ = ("span", "mask", "kind", "reader", "first_token", "done", "pending")

    def __init__(self, span: Span | None, mask: MaskFunction | None, kind: str) -> None:
        self.span = span
        self.mask = mask
        self.kind = kind
        self.reader: StreamReader | None = None
        self.first_token: dt.datetime | None = None
        self.done = False
        # Until the span starts: (tracer, name, context, attributes, start time).
        self.pending: tuple[Tracer, str, Context, dict[str, AttributeValue], int] | None = None

    @classmethod
    def start(cls, request: Request) -> Call | None:
        """Start the observation (a child of the current one); None when nothing is recorded."""
        try:
            client = registry.get_client(public_key=request.public_key)
            tracer = client._tracer
            if tracer is None:
                return None
            describe(request)
            mask = client._mask
            as_type = "embedding" if request.kind == "embedding" else "generation"
            if request.trace_context is not None or request.metadata is not None or request.trace is not None:
                span = _start_with_extras(client, request, as_type)
                return cls(span, mask, request.kind) if span.is_recording() else None
            # The common case, encoded as ``observation_attributes`` would, without its generality.
            attributes: dict[str, AttributeValue] = {Attr.OBSERVATION_TYPE: as_type, **client._base_attributes}
            attributes[Attr.OBSERVATION_INPUT] = to_text(
                request.input if mask is None else apply_mask(request.input, mask)
            )
            if request.model is not None:
                attributes[Attr.OBSERVATION_MODEL] = request.model
            if request.model_parameters is not None:
                attributes[Attr.OBSERVATION_MODEL_PARAMETERS] = to_json(request.model_parameters)
            call = cls(None, mask, request.kind)
            call.pending = (tracer, request.name, otel_context.get_current(), attributes, time_ns())
            return call
        except Exception as exc:
            logger.warning("interactiveai: could not record an OpenAI call: %s", exc)
            return None

    def _end(self, outcome: Outcome | None, exc: BaseException | None = None) -> None:
        if self.done:
            return
        self.done = True
        span = self.span
        try:
            attributes: dict[str, AttributeValue] = {}
            if outcome is not None:
                mask = self.mask
                if outcome.output is not None:
                    output = outcome.output if mask is None else apply_mask(outcome.output, mask)
                    attributes[Attr.OBSERVATION_OUTPUT] = to_text(output)
                if outcome.model is not None:
                    attributes[Attr.OBSERVATION_MODEL] = outcome.model
                if outcome.usage is not None:
                    attributes[Attr.OBSERVATION_USAGE_DETAILS] = to_json(outcome.usage)
                if outcome.cost is not None:
                    attributes[Attr.OBSERVATION_COST_DETAILS] = to_json(outcome.cost)
                if outcome.metadata is not None or self.first_token is not None:
                    attributes.update(
                        observation_attributes(
                            mask=mask, metadata=outcome.metadata, completion_start_time=self.first_token
                        )
                    )
            if span is None:
                span = self.span = self._start_now(attributes)
            elif attributes:
                span.set_attributes(attributes)
            if exc is not None:
                mark_error(span, exc)
            elif self.reader is not None and self.reader.error:  # the stream said it failed
                message = self.reader.error
                span.set_attributes({Attr.OBSERVATION_LEVEL: "ERROR", Attr.OBSERVATION_STATUS_MESSAGE: message})
                span.set_status(Status(StatusCode.ERROR, message))
        except Exception as err:
            logger.warning("interactiveai: could not record an OpenAI result: %s", err)
        if span is None:  # recording the result failed before the span started: record the call
            span = self.span = self._start_now({})
        try:
            span.end()
        except Exception as err:
            logger.debug("interactiveai: could not end an OpenAI observation: %s", err)

    def _start_now(self, attributes: dict[str, AttributeValue]) -> Span:
        """Start the span as it would have started with the call, with the result's ``attributes``."""
        pending, self.pending = self.pending, None
        if pending is None:
            return INVALID_SPAN
        tracer, name, context, start_attributes, start_time = pending
        start_attributes.update(attributes)  # the answer's model names the model that answered
        try:
            return start_span(tracer, name, context, start_attributes, start_time)
        except Exception as err:
            logger.warning("interactiveai: could not record an OpenAI call: %s", err)
            return INVALID_SPAN

    def fail(self, exc: BaseException) -> None:
        """The call raised (or its stream did): level ERROR, the message, and what was streamed so far."""
        outcome = None
        if self.reader is not None:
            try:
                outcome = self.reader.outcome()
            except Exception:
                outcome = None
        self._end(outcome, exc)

    def finish_response(self, response: Any) -> None:
        """A non-streamed answer (anything the library returned: unknown shapes record no output)."""
        try:
            outcome = read_response(self.kind, response)
        except Exception as exc:
            logger.debug("interactiveai: unreadable OpenAI response %s: %s", type(response).__name__, exc)
            outcome = None
        self._end(outcome)

    def finish_stream(self) -> None:
        if self.done:
            return
        outcome = None
        try:
            outcome = self.reader.outcome() if self.reader is not None else None
        except Exception as exc:
            logger.debug("interactiveai: could not read a stream's outcome: %s", exc)
        self._end(outcome)

    def read(self, chunk: Any) -> bool:
        """One streamed chunk; True when the caller sees it."""
        reader = self.reader
        if reader is None or self.done:
            return True
        try:
            started = reader.started
            visible = reader.add(chunk)
            if not started and reader.started:
                self.first_token = _now()
            return visible
        except Exception as exc:
            logger.debug("interactiveai: unreadable stream chunk: %s", exc)
            return True


def _start_with_extras(client: InteractiveAI, request: Request, as_type: str) -> Span:
    """A call with metadata, trace attributes or an explicit trace: through the observation builders."""
    fields: dict[str, Any] = {"input": request.input}
    if request.model is not None:
        fields["model"] = request.model
    if request.model_parameters is not None:
        fields["model_parameters"] = request.model_parameters
    if request.metadata is not None:
        fields["metadata"] = request.metadata
    span = start_otel_span(client, request.name, as_type, fields, trace_context=request.trace_context)
    if request.trace and span.is_recording():
        span.set_attributes(safe_attributes(trace_attributes, mask=client._mask, **request.trace))
    return span


def _sync_chunks(inner: Iterator[Any], call: Call) -> Iterator[Any]:
    try:
        for chunk in inner:
            if call.read(chunk):
                yield chunk
    except GeneratorExit:  # closed by the caller (or collected) before the end
        call.finish_stream()
        close = getattr(inner, "close", None)
        if close is not None:
            close()
        raise
    except BaseException as exc:
        if is_error(exc):
            call.fail(exc)
        else:
            call.finish_stream()
        raise
    call.finish_stream()


async def _async_chunks(inner: AsyncIterator[Any], call: Call) -> AsyncIterator[Any]:
    try:
        async for chunk in inner:
            if call.read(chunk):
                yield chunk
    except GeneratorExit:
        call.finish_stream()
        aclose = getattr(inner, "aclose", None)
        if aclose is not None:
            await aclose()
        raise
    except BaseException as exc:
        if is_error(exc):
            call.fail(exc)
        else:
            call.finish_stream()
        raise
    call.finish_stream()


def traced_stream(stream: Any, call: Call, hide_usage_chunk: bool) -> Any:
    """The library's sync stream object itself, its chunks read on the way to the caller."""
    try:
        inner = stream._iterator
        call.reader = StreamReader(call.kind, hide_usage_chunk)
        stream._iterator = _sync_chunks(inner, call)
        original_close: Callable[[], Any] = stream.close

        def close() -> Any:
            call.finish_stream()
            return original_close()

        stream.close = close
    except Exception as exc:  # a library version without these internals: record the call only
        logger.debug("interactiveai: cannot read this stream (%s); recording the call without output", exc)
        call.finish_stream()
    return stream


def traced_async_stream(stream: Any, call: Call, hide_usage_chunk: bool) -> Any:
    """The library's async stream object itself, its chunks read on the way to the caller."""
    try:
        inner = stream._iterator
        call.reader = StreamReader(call.kind, hide_usage_chunk)
        stream._iterator = _async_chunks(inner, call)
        original_close: Callable[[], Coroutine[Any, Any, Any]] = stream.close

        async def close() -> Any:
            call.finish_stream()
            return await original_close()

        stream.close = close
    except Exception as exc:
        logger.debug("interactiveai: cannot read this stream (%s); recording the call without output", exc)
        call.finish_stream()
    return stream
