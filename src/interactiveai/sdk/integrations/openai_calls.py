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
from typing import Any

from interactiveai.sdk import registry
from interactiveai.sdk.integrations.openai_request import Request, describe
from interactiveai.sdk.integrations.openai_response import Outcome, StreamReader, read_response
from interactiveai.sdk.observations import InteractiveAIObservation, is_error, mark_error

logger = logging.getLogger("interactiveai")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Call:
    """The observation of one call; ``finish``/``fail`` end it once."""

    __slots__ = ("obs", "kind", "reader", "first_token", "done")

    def __init__(self, obs: InteractiveAIObservation, kind: str) -> None:
        self.obs = obs
        self.kind = kind
        self.reader: StreamReader | None = None
        self.first_token: dt.datetime | None = None
        self.done = False

    @classmethod
    def start(cls, request: Request) -> Call | None:
        """Start the observation (a child of the current one); None when nothing is recorded."""
        try:
            client = registry.get_client(public_key=request.public_key)
            if client._tracer is None:
                return None
            describe(request)
            fields: dict[str, Any] = {"input": request.input}
            for key in ("model", "model_parameters", "metadata"):
                value = getattr(request, key)
                if value is not None:
                    fields[key] = value
            obs = client.start_observation(
                name=request.name,
                as_type="embedding" if request.kind == "embedding" else "generation",
                trace_context=request.trace_context,
                **fields,
            )
            if not obs.otel_span.is_recording():
                return None
            if request.trace:
                obs.update_trace(**request.trace)
            return cls(obs, request.kind)
        except Exception as exc:
            logger.warning("interactiveai: could not record an OpenAI call: %s", exc)
            return None

    def _end(self, outcome: Outcome | None, exc: BaseException | None = None) -> None:
        if self.done:
            return
        self.done = True
        try:
            if outcome is not None:
                fields: dict[str, Any] = {
                    "output": outcome.output,
                    "model": outcome.model,
                    "usage_details": outcome.usage,
                    "cost_details": outcome.cost,
                    "metadata": outcome.metadata,
                    "completion_start_time": self.first_token,
                }
                self.obs.update(**{k: v for k, v in fields.items() if v is not None})
            if exc is not None:
                mark_error(self.obs.otel_span, exc)
            elif self.reader is not None and self.reader.error:
                self.obs.update(level="ERROR", status_message=self.reader.error)
        except Exception as err:
            logger.warning("interactiveai: could not record an OpenAI result: %s", err)
        self.obs.end()

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
