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
import logging
from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from opentelemetry import context as otel_context
from opentelemetry import trace

from interactiveai.sdk import registry
from interactiveai.sdk.attributes import Attr
from interactiveai.sdk.distributed import TraceContext
from interactiveai.sdk.integrations import langchain_convert as convert
from interactiveai.sdk.observations import InteractiveAIObservation

logger = logging.getLogger("interactiveai")

try:  # OTel's detach logs an error for a token of another context; streamed runs end in another one
    from opentelemetry.context import _RUNTIME_CONTEXT

    def _detach(token: object) -> None:
        try:
            _RUNTIME_CONTEXT.detach(token)  # type: ignore[arg-type]
        except Exception:
            pass  # attached in a context that is not this one (interleaved streaming steps): nothing to undo here

except ImportError:  # pragma: no cover - another OTel layout
    from interactiveai.sdk.context import detach_quietly as _detach


class _Run:
    __slots__ = ("obs", "token", "first_token")

    def __init__(self, obs: InteractiveAIObservation, token: object) -> None:
        self.obs = obs
        self.token = token
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
        self.last_trace_id: str | None = None
        self._runs: dict[UUID, _Run] = {}

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
    ) -> _Run | None:
        meta, trace_attributes = convert.split_metadata(tags, metadata)
        if meta is not None:
            fields["metadata"] = meta
        if convert.has_hidden_tag(tags):
            fields["level"] = "DEBUG"
        parent = self._runs.get(parent_run_id) if parent_run_id is not None else None
        if parent is not None:
            obs = parent.obs.start_observation(name=name, as_type=as_type, **fields)  # type: ignore[arg-type]
        else:
            client = registry.get_client(public_key=self.public_key)
            if client._tracer is None:
                return None
            root = parent_run_id is None
            obs = client.start_observation(
                name=name,
                as_type=as_type,  # type: ignore[arg-type]
                trace_context=self.trace_context if root else None,
                **fields,
            )
            if root and self.update_trace:
                obs.update_trace(name=name, input=fields.get("input"), metadata=meta)
        if trace_attributes:
            obs.update_trace(**trace_attributes)
        span = obs.otel_span
        if not span.is_recording():
            return None
        run = _Run(obs, otel_context.attach(trace.set_span_in_context(span)))
        self._runs[run_id] = run
        self.last_trace_id = obs.trace_id
        return run

    def _end(self, run_id: UUID, parent_run_id: UUID | None, error: BaseException | None = None, **fields: Any) -> None:
        run = self._runs.pop(run_id, None)
        if run is None:
            return
        _detach(run.token)
        fields = {k: v for k, v in fields.items() if v is not None}
        if error is not None and not convert.is_control_flow(error):
            fields["level"] = "ERROR"
            fields["status_message"] = str(error) or type(error).__name__
        if fields:
            run.obs.update(**fields)
        if parent_run_id is None and self.update_trace and "output" in fields:
            run.obs.update_trace(output=fields["output"])
        run.obs.end()

    def _guard(self, what: str, exc: Exception) -> None:
        logger.warning("interactiveai: LangChain callback %s failed: %s", what, exc)

    # -- chains and agents ----------------------------------------------------------------------

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
        try:
            name = convert.run_name(serialized, kwargs)
            as_type = convert.chain_type(serialized, name)
            self._start(run_id, parent_run_id, name, as_type, tags, metadata, input=inputs)
        except Exception as exc:
            self._guard("on_chain_start", exc)

    def on_chain_end(self, outputs: Any, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        try:
            self._end(run_id, parent_run_id, output=outputs, input=kwargs.get("inputs"))
        except Exception as exc:
            self._guard("on_chain_end", exc)

    def on_chain_error(
        self, error: BaseException, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any
    ) -> None:
        try:
            self._end(run_id, parent_run_id, error, input=kwargs.get("inputs"))
        except Exception as exc:
            self._guard("on_chain_error", exc)

    def _agent_step(self, run_id: UUID, output: Any) -> None:
        run = self._runs.get(run_id)
        if run is not None:
            run.obs.otel_span.set_attribute(Attr.OBSERVATION_TYPE, "agent")
            run.obs.update(output=output)

    def on_agent_action(self, action: Any, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        try:
            self._agent_step(run_id, action)
        except Exception as exc:
            self._guard("on_agent_action", exc)

    def on_agent_finish(self, finish: Any, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        try:
            self._agent_step(run_id, finish)
        except Exception as exc:
            self._guard("on_agent_finish", exc)

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
        try:
            llm_input = convert.llm_input(messages, kwargs.get("invocation_params"))
            self._start_llm(serialized, llm_input, run_id, parent_run_id, tags, metadata, kwargs)
        except Exception as exc:
            self._guard("on_chat_model_start", exc)

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
        try:
            llm_input = prompts[0] if len(prompts) == 1 else prompts
            self._start_llm(serialized, llm_input, run_id, parent_run_id, tags, metadata, kwargs)
        except Exception as exc:
            self._guard("on_llm_start", exc)

    def _first_token(self, run_id: UUID) -> None:
        run = self._runs.get(run_id)
        if run is not None and not run.first_token:
            run.first_token = True
            run.obs.update(completion_start_time=dt.datetime.now(dt.UTC))

    def on_llm_new_token(self, token: Any, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            self._first_token(run_id)
        except Exception as exc:
            self._guard("on_llm_new_token", exc)

    def on_stream_event(self, event: Any, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            if convert.first_token_event(event):
                self._first_token(run_id)
        except Exception as exc:
            self._guard("on_stream_event", exc)

    def on_llm_end(self, response: Any, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        try:
            output, model, usage = convert.llm_output(response)
            self._end(run_id, parent_run_id, output=output, model=model, usage_details=usage)
        except Exception as exc:
            self._guard("on_llm_end", exc)

    def on_llm_error(
        self, error: BaseException, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any
    ) -> None:
        try:
            self._end(run_id, parent_run_id, error)
        except Exception as exc:
            self._guard("on_llm_error", exc)

    # -- tools and retrievers ---------------------------------------------------------------------

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
        try:
            name = convert.run_name(serialized, kwargs)
            tool_input = inputs if inputs is not None else input_str
            self._start(run_id, parent_run_id, name, "tool", tags, metadata, input=tool_input)
        except Exception as exc:
            self._guard("on_tool_start", exc)

    def on_tool_end(self, output: Any, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        try:
            self._end(run_id, parent_run_id, output=output)
        except Exception as exc:
            self._guard("on_tool_end", exc)

    def on_tool_error(
        self, error: BaseException, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any
    ) -> None:
        try:
            self._end(run_id, parent_run_id, error)
        except Exception as exc:
            self._guard("on_tool_error", exc)

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
        try:
            name = convert.run_name(serialized, kwargs)
            self._start(run_id, parent_run_id, name, "retriever", tags, metadata, input=query)
        except Exception as exc:
            self._guard("on_retriever_start", exc)

    def on_retriever_end(
        self, documents: Sequence[Any], *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any
    ) -> None:
        try:
            self._end(run_id, parent_run_id, output=list(documents))
        except Exception as exc:
            self._guard("on_retriever_end", exc)

    def on_retriever_error(
        self, error: BaseException, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any
    ) -> None:
        try:
            self._end(run_id, parent_run_id, error)
        except Exception as exc:
            self._guard("on_retriever_error", exc)
