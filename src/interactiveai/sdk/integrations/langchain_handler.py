"""``CallbackHandler``: LangChain runs as observations, nested as LangChain nests them.

Chains become ``chain`` observations (``agent`` for agents), chat models and LLMs ``generation``,
tools ``tool``, retrievers ``retriever``. A run's parent is the observation of its
``parent_run_id``; a run without a parent starts under the current observation (an ``@observe``
function, a ``with start_as_current_observation`` block), or in the trace of ``trace_context``.
While a run is open its observation is the current one, so ``@observe`` functions and OpenAI
calls inside a tool or a chain step nest under it.

The handler follows the peer SDK's: metadata keys ``interactiveai_session_id``,
``interactiveai_user_id`` and ``interactiveai_tags`` of a run set its trace's session, user and
tags; ``update_trace=True`` gives the trace the root run's name, input, output and metadata.
Callbacks never raise: LangChain would log them, but a failure to record must not even do that to
the user's run.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ParamSpec
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span

from interactiveai.sdk import registry
from interactiveai.sdk.attributes import Attr, iso_utc, observation_attributes, safe_attributes, trace_attributes
from interactiveai.sdk.distributed import TraceContext
from interactiveai.sdk.ids import format_trace_id
from interactiveai.sdk.integrations import langchain_convert as convert
from interactiveai.sdk.observations import mark_error, start_otel_span

if TYPE_CHECKING:
    from interactiveai.sdk.client import InteractiveAI

logger = logging.getLogger("interactiveai")
P = ParamSpec("P")

try:  # OTel's detach logs an error for a token of another context; streamed runs end in another one
    from opentelemetry.context import _RUNTIME_CONTEXT

    def _detach(token: object) -> None:
        try:
            _RUNTIME_CONTEXT.detach(token)  # type: ignore[arg-type]
        except Exception:
            pass  # attached in a context that is not this one (interleaved streaming steps): nothing to undo here

except ImportError:  # pragma: no cover - another OTel layout
    from interactiveai.sdk.context import detach_quietly as _detach


def _guarded(method: Callable[P, None]) -> Callable[P, None]:
    """A callback that never raises: a failure to record is logged, and the user's run goes on."""

    @functools.wraps(method)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            method(*args, **kwargs)
        except Exception as exc:
            logger.warning("interactiveai: LangChain callback %s failed: %s", method.__name__, exc)

    return guarded


class _Run:
    __slots__ = ("span", "client", "outer", "outer_run", "current", "ended", "first_token")

    def __init__(self, span: Span, client: InteractiveAI, outer: Context, outer_run: _Run | None) -> None:
        self.span = span
        self.client = client
        self.outer = outer  # the context the run started in, and the run of ours current there
        self.outer_run = outer_run
        self.current = False  # made the current span of the context it started in
        self.ended = False
        self.first_token = False


class CallbackHandler(BaseCallbackHandler):
    """LangChain callback handler recording every run as an observation.

    Args:
        public_key: the project's client (default: the only client, or the environment's).
        update_trace: give the trace the root run's name, input, output and metadata.
        trace_context: ``{"trace_id": ..., "parent_span_id": ...}`` to put root runs in that trace.

    Example::

        from interactiveai.langchain import CallbackHandler

        handler = CallbackHandler()
        chain.invoke({"topic": "otters"}, config={"callbacks": [handler]})
    """

    run_inline = True  # called where the run happens, so the OTel context is the run's own

    def __init__(
        self,
        *,
        public_key: str | None = None,
        update_trace: bool = False,
        trace_context: TraceContext | None = None,
    ) -> None:
        self.public_key = public_key
        self.update_trace = update_trace
        self.trace_context = trace_context
        self._last_trace: int | None = None
        self._runs: dict[UUID, _Run] = {}
        self._by_span: dict[int, _Run] = {}  # the same open runs, by span id

    @property
    def last_trace_id(self) -> str | None:
        """The trace id of the last run this handler started (32 hex), or None."""
        return format_trace_id(self._last_trace) if self._last_trace is not None else None

    # -- starting and ending runs -----------------------------------------------------------------

    def _start(
        self,
        run_id: UUID,
        parent_run_id: UUID | None,
        name: str,
        as_type: str,
        tags: Sequence[str] | None,
        metadata: Mapping[str, Any] | None,
        **fields: Any,
    ) -> None:
        """Start the run's span (under its parent run's, else the current one) and make it current."""
        meta, trace_fields = convert.split_metadata(tags, metadata)
        if meta is not None:
            fields["metadata"] = meta
        if convert.has_hidden_tag(tags):
            fields["level"] = "DEBUG"
        parent = self._runs.get(parent_run_id) if parent_run_id is not None else None
        outer = otel_context.get_current()
        by_span = self._by_span
        outer_run = by_span.get(trace.get_current_span(outer).get_span_context().span_id) if by_span else None
        # A run without a parent while one of ours is current here is a sibling of that run:
        # LangChain starts the runs of a batch one after the other, in one context, before any runs.
        sibling = parent_run_id is None and outer_run is not None
        if parent is not None:
            client = parent.client
            span = start_otel_span(client, name, as_type, fields, parent=parent.span)
        else:
            client = registry.get_client(public_key=self.public_key)
            if client._tracer is None:
                return
            root = parent_run_id is None
            trace_context = self.trace_context if root else None
            if sibling and outer_run is not None and trace_context is None:
                outer, outer_run = outer_run.outer, outer_run.outer_run  # beside it, under its parent
                token = otel_context.attach(outer)
                try:
                    span = start_otel_span(client, name, as_type, fields)
                finally:
                    _detach(token)
            else:
                span = start_otel_span(client, name, as_type, fields, trace_context=trace_context)
            if root and self.update_trace:
                trace_fields = {"name": name, "input": fields.get("input"), "metadata": meta, **trace_fields}
        if not span.is_recording():
            return
        if trace_fields:
            span.set_attributes(safe_attributes(trace_attributes, mask=client._mask, **trace_fields))
        run = _Run(span, client, outer, outer_run)
        if not sibling:  # current while it runs, so that code inside (@observe, OpenAI calls) nests
            otel_context.attach(trace.set_span_in_context(span, outer))
            run.current = True
        span_context = span.get_span_context()
        self._runs[run_id] = run
        self._by_span[span_context.span_id] = run
        self._last_trace = span_context.trace_id

    def _leave(self, run: _Run) -> None:
        """Make the context the run was current in current again, if it still is.

        Not by resetting a token: LangChain ends runs in other orders than it started them (a
        batch ends its runs first to last) and in other contexts (streamed steps interleave), so
        the context goes back to the innermost run still open around this one, or to what was
        current before any of them; a context where this run is no longer current is left alone.
        """
        if run.current and trace.get_current_span() is run.span:
            outer, enclosing = run.outer, run.outer_run
            while enclosing is not None and enclosing.ended:
                outer, enclosing = enclosing.outer, enclosing.outer_run
            otel_context.attach(outer)

    def _end(self, run_id: UUID, parent_run_id: UUID | None, error: BaseException | None = None, **fields: Any) -> None:
        run = self._runs.pop(run_id, None)
        if run is None:
            return
        span = run.span
        run.ended = True
        self._by_span.pop(span.get_span_context().span_id, None)
        self._leave(run)
        try:
            fields = {k: v for k, v in fields.items() if v is not None}
            if fields:
                try:
                    span.set_attributes(observation_attributes(mask=run.client._mask, **fields))
                except Exception as exc:  # a value the encoding refuses: the run still ends
                    logger.warning("interactiveai: could not record attributes: %s", exc)
            if parent_run_id is None and self.update_trace and "output" in fields:
                span.set_attributes(safe_attributes(trace_attributes, mask=run.client._mask, output=fields["output"]))
            if error is not None and not convert.is_control_flow(error):
                mark_error(span, error)
        finally:
            span.end()

    # -- chains and agents ----------------------------------------------------------------------

    @_guarded
    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        name = convert.run_name(serialized, kwargs)
        as_type = convert.chain_type(serialized, name)
        self._start(run_id, parent_run_id, name, as_type, tags, metadata, input=convert.plain(inputs))

    @_guarded
    def on_chain_end(self, outputs: Any, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        self._end(run_id, parent_run_id, output=convert.plain(outputs), input=convert.plain(kwargs.get("inputs")))

    @_guarded
    def on_chain_error(
        self, error: BaseException, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any
    ) -> None:
        self._end(run_id, parent_run_id, error, input=convert.plain(kwargs.get("inputs")))

    def _agent_step(self, run_id: UUID, output: Any) -> None:
        run = self._runs.get(run_id)
        if run is not None:
            run.span.set_attribute(Attr.OBSERVATION_TYPE, "agent")
            run.span.set_attributes(safe_attributes(observation_attributes, mask=run.client._mask, output=output))

    @_guarded
    def on_agent_action(self, action: Any, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        self._agent_step(run_id, action)

    @_guarded
    def on_agent_finish(self, finish: Any, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        self._agent_step(run_id, finish)

    # -- chat models and LLMs ---------------------------------------------------------------------

    def _start_llm(
        self,
        serialized: dict[str, Any] | None,
        input: Any,
        run_id: UUID,
        parent_run_id: UUID | None,
        tags: list[str] | None,
        metadata: dict[str, Any] | None,
        kwargs: dict[str, Any],
    ) -> None:
        params = kwargs.get("invocation_params")
        fields: dict[str, Any] = {"input": input}
        model = convert.model_name(serialized, metadata, params)
        if model is not None:
            fields["model"] = model
        parameters = convert.model_parameters(params)
        if parameters is not None:
            fields["model_parameters"] = parameters
        name = convert.run_name(serialized, kwargs)
        self._start(run_id, parent_run_id, name, "generation", tags, metadata, **fields)

    @_guarded
    def on_chat_model_start(
        self,
        serialized: dict[str, Any] | None,
        messages: list[list[Any]],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        llm_input = convert.llm_input(messages, kwargs.get("invocation_params"))
        self._start_llm(serialized, llm_input, run_id, parent_run_id, tags, metadata, kwargs)

    @_guarded
    def on_llm_start(
        self,
        serialized: dict[str, Any] | None,
        prompts: list[str],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        llm_input = prompts[0] if len(prompts) == 1 else prompts
        self._start_llm(serialized, llm_input, run_id, parent_run_id, tags, metadata, kwargs)

    def _first_token(self, run_id: UUID) -> None:
        run = self._runs.get(run_id)
        if run is not None and not run.first_token:
            run.first_token = True
            run.span.set_attribute(Attr.OBSERVATION_COMPLETION_START_TIME, iso_utc(dt.datetime.now(dt.UTC)))

    @_guarded
    def on_llm_new_token(self, token: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._first_token(run_id)

    @_guarded
    def on_stream_event(self, event: Any, *, run_id: UUID, **kwargs: Any) -> None:
        if convert.first_token_event(event):
            self._first_token(run_id)

    @_guarded
    def on_llm_end(self, response: Any, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        output, model, usage = convert.llm_output(response)
        self._end(run_id, parent_run_id, output=output, model=model, usage_details=usage)

    @_guarded
    def on_llm_error(
        self, error: BaseException, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any
    ) -> None:
        self._end(run_id, parent_run_id, error)

    # -- tools and retrievers ---------------------------------------------------------------------

    @_guarded
    def on_tool_start(
        self,
        serialized: dict[str, Any] | None,
        input_str: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        inputs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        name = convert.run_name(serialized, kwargs)
        tool_input = convert.plain(inputs) if inputs is not None else input_str
        self._start(run_id, parent_run_id, name, "tool", tags, metadata, input=tool_input)

    @_guarded
    def on_tool_end(self, output: Any, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        self._end(run_id, parent_run_id, output=convert.plain(output))

    @_guarded
    def on_tool_error(
        self, error: BaseException, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any
    ) -> None:
        self._end(run_id, parent_run_id, error)

    @_guarded
    def on_retriever_start(
        self,
        serialized: dict[str, Any] | None,
        query: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        name = convert.run_name(serialized, kwargs)
        self._start(run_id, parent_run_id, name, "retriever", tags, metadata, input=query)

    @_guarded
    def on_retriever_end(
        self, documents: Sequence[Any], *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any
    ) -> None:
        self._end(run_id, parent_run_id, output=convert.plain(list(documents)))

    @_guarded
    def on_retriever_error(
        self, error: BaseException, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any
    ) -> None:
        self._end(run_id, parent_run_id, error)
