"""The client's methods on the active observation: read it, update it or its trace, get their ids.

A mixin of ``InteractiveAI``. Outside an active observation (or on a disabled client) the
getters return None and the updates log one warning and do nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Unpack, cast

from opentelemetry import trace
from opentelemetry.trace import Tracer

from interactiveai.sdk.ids import format_observation_id, format_trace_id
from interactiveai.sdk.observations import InteractiveAIObservation, ObservationFields, wrap_span

if TYPE_CHECKING:
    from interactiveai.sdk.client import InteractiveAI

logger = logging.getLogger("interactiveai")


class CurrentContextMethods:
    """Working on the observation and trace that are current in this context."""

    _tracer: Tracer | None

    def _current(self, what: str) -> InteractiveAIObservation | None:
        if self._tracer is None:
            return None
        span = trace.get_current_span()
        if not span.is_recording():
            logger.warning("interactiveai: %s called outside an active observation; nothing to update", what)
            return None
        return wrap_span(span, cast("InteractiveAI", self))

    def get_current_observation(self) -> InteractiveAIObservation | None:
        """The active observation (its type preserved), or None."""
        span = trace.get_current_span()
        if self._tracer is None or not span.is_recording():
            return None
        return wrap_span(span, cast("InteractiveAI", self))

    def update_current_span(self, *, name: str | None = None, **fields: Unpack[ObservationFields]) -> None:
        """Update the active observation; its type is kept."""
        if (obs := self._current("update_current_span")) is not None:
            obs.update(name=name, **fields)

    def update_current_generation(self, *, name: str | None = None, **fields: Unpack[ObservationFields]) -> None:
        """Update the active observation with generation fields; its type is kept."""
        if (obs := self._current("update_current_generation")) is not None:
            obs.update(name=name, **fields)

    def update_current_trace(
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
    ) -> None:
        """Set trace-level attributes from inside an observation."""
        if (obs := self._current("update_current_trace")) is not None:
            obs.update_trace(
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

    def get_current_trace_id(self) -> str | None:
        """The 32-hex id of the active trace, or None."""
        ctx = trace.get_current_span().get_span_context()
        return format_trace_id(ctx.trace_id) if self._tracer is not None and ctx.is_valid else None

    def get_current_observation_id(self) -> str | None:
        """The 16-hex id of the active observation, or None."""
        ctx = trace.get_current_span().get_span_context()
        return format_observation_id(ctx.span_id) if self._tracer is not None and ctx.is_valid else None
