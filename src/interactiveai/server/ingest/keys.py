"""Every recognised span attribute, and the single pass that sorts a span's attributes into slots.

A field usually has several candidate attributes (one per convention, in priority order). Rather
than probing every candidate of every field for every span, each recognised key maps to its
``(slot, rank)``, and one walk over the attributes the span actually has keeps, per slot, the
value of the best-ranked key present. Prefixed families (metadata keys, usage counts, flattened
messages) are collected in the same walk. This is the hot loop of ingestion.
"""

from __future__ import annotations

from typing import Any

from interactiveai.server.ingest.messages import decode_value

# slot → candidate keys, best first (reference research §2.3 for the third-party names)
SLOTS: dict[str, tuple[str, ...]] = {
    "type": ("interactiveai.observation.type", "langfuse.observation.type"),
    "input": ("interactiveai.observation.input", "langfuse.observation.input"),
    "output": ("interactiveai.observation.output", "langfuse.observation.output"),
    "level": ("interactiveai.observation.level", "langfuse.observation.level"),
    "status_message": ("interactiveai.observation.status_message", "langfuse.observation.status_message"),
    "model": (
        "interactiveai.observation.model.name",
        "langfuse.observation.model.name",
        "gen_ai.response.model",
        "ai.model.id",  # Vercel AI SDK; alone it does not make a span a generation (AI_MODEL_RANK)
        "gen_ai.request.model",
        "llm.response.model",
        "llm.model_name",
        "model",
    ),
    "model_parameters": (
        "interactiveai.observation.model.parameters",
        "langfuse.observation.model.parameters",
        "llm.invocation_parameters",
    ),
    "usage": ("interactiveai.observation.usage_details", "langfuse.observation.usage_details"),
    "cost": ("interactiveai.observation.cost_details", "langfuse.observation.cost_details"),
    "cost_total": ("gen_ai.usage.cost", "llm.cost.total"),
    "completion_start": (
        "interactiveai.observation.completion_start_time",
        "langfuse.observation.completion_start_time",
    ),
    "environment": (
        "interactiveai.environment",
        "langfuse.environment",
        "deployment.environment.name",
        "deployment.environment",
    ),
    "version": ("interactiveai.version", "langfuse.version"),
    "release": ("interactiveai.release", "langfuse.release"),
    "as_root": ("interactiveai.internal.as_root", "langfuse.internal.as_root"),
    "synthetic_parent": ("interactiveai.internal.synthetic_parent",),
    "trace_name": ("interactiveai.trace.name", "langfuse.trace.name"),
    "trace_input": ("interactiveai.trace.input", "langfuse.trace.input"),
    "trace_output": ("interactiveai.trace.output", "langfuse.trace.output"),
    "public": ("interactiveai.trace.public", "langfuse.trace.public", "langfuse.public"),
    "tags": ("interactiveai.trace.tags", "langfuse.trace.tags", "langfuse.tags"),
    "tags_openinference": ("tag.tags",),
    "user": ("interactiveai.user.id", "langfuse.user.id", "user.id"),
    "session": ("interactiveai.session.id", "langfuse.session.id", "session.id", "gen_ai.conversation.id"),
    "openinference_kind": ("openinference.span.kind",),
    "operation": ("gen_ai.operation.name",),
    "mlflow_type": ("mlflow.spanType",),
    "traceloop_kind": ("traceloop.span.kind",),
    "request_type": ("llm.request.type",),
    "tool_name": ("gen_ai.tool.name",),
    "tool_call_id": ("gen_ai.tool.call.id",),
    "mlflow_input": ("mlflow.spanInputs",),
    "mlflow_output": ("mlflow.spanOutputs",),
    "traceloop_input": ("traceloop.entity.input",),
    "traceloop_output": ("traceloop.entity.output",),
    "value_input": ("input.value",),
    "value_output": ("output.value",),
    "plain_input": ("input",),
    "plain_output": ("output",),
    "gen_ai_input": ("gen_ai.input.messages",),
    "gen_ai_output": ("gen_ai.output.messages",),
    "system_instructions": ("gen_ai.system_instructions",),
    "tool_arguments": ("gen_ai.tool.call.arguments",),
    "tool_result": ("gen_ai.tool.call.result",),
    # whole-object metadata attributes: each its own slot, all of them are merged
    "metadata_langfuse": ("langfuse.metadata",),
    "metadata_langfuse_observation": ("langfuse.observation.metadata",),
    "metadata_ours": ("interactiveai.observation.metadata",),
    "metadata_plain": ("metadata",),
    "trace_metadata_whole": ("langfuse.trace.metadata",),
}

# Vercel AI SDK (instrumentation scope ``ai``): read only for spans of that scope.
VERCEL_SCOPE = "ai"
VERCEL_SLOTS: dict[str, tuple[str, ...]] = {
    "ai_operation": ("ai.operationId", "operation.name"),  # operation.name may end in " <functionId>"
    "ai_function_id": ("ai.telemetry.functionId",),
    "ai_input": ("ai.prompt.messages", "ai.prompt", "ai.toolCall.args"),
    "ai_response_text": ("ai.response.text",),
    "ai_output": ("ai.result.text", "ai.toolCall.result", "ai.response.object", "ai.result.object"),
    "ai_response_tool_calls": ("ai.response.toolCalls",),
    "ai_result_tool_calls": ("ai.result.toolCalls",),
    "ai_tool_name": ("ai.toolCall.name",),
    "ai_tool_call_id": ("ai.toolCall.id",),
    "ai_usage_input": ("ai.usage.inputTokens", "ai.usage.promptTokens"),
    "ai_usage_output": ("ai.usage.outputTokens", "ai.usage.completionTokens"),
    "ai_usage_total": ("ai.usage.tokens", "ai.usage.totalTokens"),
    "ai_usage_cached": ("ai.usage.cachedInputTokens",),
    "ai_usage_reasoning": ("ai.usage.reasoningTokens",),
    "ai_provider_metadata": ("ai.response.providerMetadata",),
    "ai_max_steps": ("ai.settings.maxSteps",),
    "ai_max_retries": ("ai.settings.maxRetries",),
    "ai_mode": ("ai.settings.mode",),
    "ai_tool_choice": ("ai.prompt.toolChoice",),
    "ai_finish_reason": ("gen_ai.response.finish_reasons", "gen_ai.finishReason"),
    "ai_system": ("gen_ai.system", "ai.model.provider"),
    "ai_first_chunk": ("ai.response.msToFirstChunk", "ai.stream.msToFirstChunk"),
}
SLOTS.update(VERCEL_SLOTS)

KEYS: dict[str, tuple[str, int]] = {key: (slot, rank) for slot, keys in SLOTS.items() for rank, key in enumerate(keys)}
AI_MODEL_RANK = KEYS["ai.model.id"][1]

OBS_META_PREFIXES = ("interactiveai.observation.metadata.", "langfuse.observation.metadata.", "langfuse.metadata.")
TRACE_META_PREFIXES = ("interactiveai.trace.metadata.", "langfuse.trace.metadata.")
_USAGE_PREFIXES = ("gen_ai.usage.", "llm.token_count.", "llm.usage.")
_PARAM_PREFIXES = ("gen_ai.request.", "llm.invocation_parameters.")
FAMILIES = (
    *OBS_META_PREFIXES,
    *TRACE_META_PREFIXES,
    *_USAGE_PREFIXES,
    *_PARAM_PREFIXES,
    "gen_ai.prompt.",
    "gen_ai.completion.",
    "llm.input_messages.",
    "llm.output_messages.",
)
TELEMETRY_PREFIX = "ai.telemetry.metadata."
VERCEL_FAMILIES = (*FAMILIES, TELEMETRY_PREFIX)
# Keys mapped for every scope: the Vercel ones are kept as metadata on spans of other scopes.
PLAIN_KEYS = frozenset(KEYS) - {key for keys in VERCEL_SLOTS.values() for key in keys}
ALL_KEYS = frozenset(KEYS)


def consumed(key: str, vercel: bool = False) -> bool:
    """Whether mapping uses this attribute (the rest is kept as metadata for third-party spans).

    The mapping's metadata loop inlines this test with ``consumed_sets``.
    """
    known, families = consumed_sets(vercel)
    return key in known or key.startswith(families)


def consumed_sets(vercel: bool) -> tuple[frozenset[str], tuple[str, ...]]:
    """(keys, prefixes) that ``consumed`` tests for a span of the Vercel scope or of another one."""
    return (ALL_KEYS, VERCEL_FAMILIES) if vercel else (PLAIN_KEYS, FAMILIES)


class Scan:
    """A span's attributes sorted into slots and families."""

    __slots__ = (
        "found",
        "ranks",
        "obs_meta",
        "trace_meta",
        "usage",
        "params",
        "prompt",
        "completion",
        "oi_in",
        "oi_out",
        "telemetry",
    )

    def __init__(self, attrs: dict[str, Any], families: tuple[str, ...] = FAMILIES) -> None:
        """``families``: VERCEL_FAMILIES for Vercel AI SDK spans, which adds ``ai.telemetry.metadata.*``."""
        found: dict[str, Any] = {}
        ranks: dict[str, int] = {}
        self.obs_meta: dict[str, Any] = {}
        self.trace_meta: dict[str, Any] = {}
        self.usage: dict[str, Any] = {}
        self.params: dict[str, Any] = {}
        self.prompt: dict[str, Any] = {}
        self.completion: dict[str, Any] = {}
        self.oi_in: dict[str, Any] = {}
        self.oi_out: dict[str, Any] = {}
        self.telemetry: dict[str, Any] | None = None  # Vercel ai.telemetry.metadata.*, rare: made on demand
        keys = KEYS
        for key, value in attrs.items():
            hit = keys.get(key)
            if hit is not None:
                if value is None or value == "":
                    continue
                slot, rank = hit
                if slot not in found or rank < ranks[slot]:
                    found[slot] = value
                    ranks[slot] = rank
            elif key.startswith(families):
                self._family(key, value)
        self.found = found
        self.ranks = ranks

    def get(self, slot: str) -> Any:
        return self.found.get(slot)

    def _family(self, key: str, value: Any) -> None:
        for prefix in OBS_META_PREFIXES:
            if key.startswith(prefix):
                self.obs_meta[key[len(prefix) :]] = decode_value(value)
                return
        for prefix in TRACE_META_PREFIXES:
            if key.startswith(prefix):
                self.trace_meta[key[len(prefix) :]] = decode_value(value)
                return
        for prefix in _USAGE_PREFIXES:
            if key.startswith(prefix):
                rest = key[len(prefix) :]
                if rest != "cost":
                    self.usage[rest] = value
                return
        for prefix in _PARAM_PREFIXES:
            if key.startswith(prefix):
                rest = key[len(prefix) :]
                if rest != "model":
                    self.params[rest] = value
                return
        if key.startswith("gen_ai.prompt."):
            self.prompt[key[14:]] = value
        elif key.startswith("gen_ai.completion."):
            self.completion[key[18:]] = value
        elif key.startswith("llm.input_messages."):
            self.oi_in[key[19:]] = value
        elif key.startswith("llm.output_messages."):
            self.oi_out[key[20:]] = value
        else:  # TELEMETRY_PREFIX, only among a Vercel span's families
            if self.telemetry is None:
                self.telemetry = {}
            self.telemetry[key[22:]] = decode_value(value)
