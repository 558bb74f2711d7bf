"""The Vercel AI SDK convention: spans of instrumentation scope ``ai`` with ``ai.*`` attributes.

Rules from the reference research (server behaviour, the convention table): model-call operations
are generations or embeddings (only with model info), ``ai.toolCall`` spans are tools, I/O comes
from ``ai.prompt*`` / ``ai.response*`` / ``ai.result*`` (an embedding's from ``ai.values`` /
``ai.value``, each value JSON-encoded), usage from ``gen_ai.usage.*`` then the
SDK's own ``ai.usage.*`` and provider metadata, and model parameters are a fixed object. Read for
spans of scope ``ai`` only: elsewhere its keys are kept as the span's metadata.
"""

from __future__ import annotations

from typing import Any

from interactiveai.server import json_values
from interactiveai.server.ingest import fields
from interactiveai.server.ingest.conventions.registry import Convention
from interactiveai.server.ingest.conventions.scan import Scan
from interactiveai.server.ingest.fields import text
from interactiveai.server.ingest.messages import maybe_json
from interactiveai.server.ingest.usage import canonical_usage_name

SCOPE = "ai"
TELEMETRY_PREFIX = "ai.telemetry.metadata."
MODEL_ID = "ai.model.id"  # read on every scope (generic): it names a model without making a generation

# Vercel AI SDK model calls (ai.operationId); the outer ai.generateText etc. spans stay spans
_MODEL_CALL_OPERATIONS = {
    "ai.generateText.doGenerate": "GENERATION",
    "ai.streamText.doStream": "GENERATION",
    "ai.generateObject.doGenerate": "GENERATION",
    "ai.streamObject.doStream": "GENERATION",
    "ai.embed.doEmbed": "EMBEDDING",
    "ai.embedMany.doEmbed": "EMBEDDING",
}


def _dumps(value: Any) -> str:
    return json_values.dumps(value)  # never raises; parts nested too deep are kept as text


def provider_metadata(scan: Scan) -> dict[str, Any] | None:
    """``ai.response.providerMetadata``, decoded, when it is an object."""
    decoded = maybe_json(scan.found.get("ai_provider_metadata"))
    return decoded if isinstance(decoded, dict) else None


def operation(scan: Scan) -> str | None:
    """``ai.operationId``, else the ``operation.name`` prefix (it may end in " <functionId>")."""
    value = scan.found.get("ai_operation")
    return None if value is None else str(value).split(" ", 1)[0]


def observation_type(scan: Scan) -> str | None:
    """A Vercel model call with model info → GENERATION/EMBEDDING; a tool call → TOOL; else None."""
    op = operation(scan)
    if op is not None:
        mapped = _MODEL_CALL_OPERATIONS.get(op)
        if mapped is not None and "model" in scan.found:
            return mapped
    if "ai_tool_name" in scan.found or "ai_tool_call_id" in scan.found or op == "ai.toolCall":
        return "TOOL"
    return None


def _input(scan: Scan) -> Any:
    found = scan.found.get("ai_input")
    if found is not None:
        return found
    # ai.embed(Many): the value(s) embedded, each JSON-encoded (ai.values an array of them)
    values = scan.found.get("ai_embed_input")
    if isinstance(values, list):
        return [maybe_json(value) for value in values]
    return maybe_json(values)


def output(scan: Scan) -> Any:
    get = scan.found.get
    text = get("ai_response_text")
    calls = get("ai_response_tool_calls")
    if text is not None:
        if calls is None:
            return text
        return {"role": "assistant", "content": text, "tool_calls": maybe_json(calls)}
    return next((v for v in (get("ai_output"), calls, get("ai_result_tool_calls")) if v is not None and v != ""), None)


def model_parameters(scan: Scan) -> str | None:
    """The fixed parameter object of the reference for scope ``ai``, from the attributes present."""
    get = scan.found.get
    params = scan.family("params")
    provider = provider_metadata(scan)
    openai = provider.get("openai") if provider else None
    tier = openai.get("serviceTier") if isinstance(openai, dict) else None
    values = {
        "maxSteps": get("ai_max_steps"),
        "toolChoice": get("ai_tool_choice"),
        "maxTokens": params.get("max_tokens"),
        "finishReason": get("ai_finish_reason"),
        "system": get("ai_system"),
        "maxRetries": get("ai_max_retries"),
        "mode": get("ai_mode"),
        "temperature": params.get("temperature"),
        "service_tier": tier if tier is not None else params.get("service_tier"),
    }
    chosen = {key: _scalar(value) for key, value in values.items() if value is not None}
    return _dumps(chosen) if chosen else None


def _scalar(value: Any) -> Any:
    return _dumps(value) if isinstance(value, (list, dict)) else value


def name(scan: Scan) -> str | None:
    """``ai.toolCall.name`` › ``ai.telemetry.functionId:ai.operationId`` (else the span name)."""
    tool = text(scan.found.get("ai_tool_name"))
    if tool:
        return tool
    function_id = text(scan.found.get("ai_function_id"))
    operation_id = text(scan.span.attributes.get("ai.operationId"))
    return f"{function_id}:{operation_id}" if function_id and operation_id else None


# Vercel AI SDK's own counts (slot in keys.VERCEL_SLOTS → raw name understood above), read after
# gen_ai.usage.*, which the SDK also writes on its model-call spans and which wins.
_VERCEL_COUNTS = (
    ("ai_usage_input", "input_tokens"),
    ("ai_usage_output", "output_tokens"),
    ("ai_usage_total", "total_tokens"),
    ("ai_usage_cached", "input_cached_tokens"),
    ("ai_usage_reasoning", "output_reasoning_tokens"),
)
# ai.response.providerMetadata: provider → (its name → raw name understood above). Not read: OpenAI's
# prediction counts (part of the output count, no detail key subtracts them) and Anthropic's cache
# write split by lifetime (the columns would count it next to the unsplit write).
_PROVIDER_COUNTS: dict[str, dict[str, str]] = {
    "openai": {
        "cachedPromptTokens": "input_cached_tokens",
        "reasoningTokens": "output_reasoning_tokens",
    },
    "anthropic": {
        "cache_read_input_tokens": "input_cached_tokens",
        "cacheReadInputTokens": "input_cached_tokens",
        "cache_creation_input_tokens": "input_cache_creation",
        "cacheCreationInputTokens": "input_cache_creation",
    },
    "bedrock": {"cacheReadInputTokens": "input_cache_read", "cacheWriteInputTokens": "input_cache_write"},
}


def usage(gen_ai: dict[str, Any], found: dict[str, Any], provider_metadata: Any) -> dict[str, Any]:
    """Raw usage of a Vercel AI SDK model call, for ``normalise_usage(..., inclusive=True)``.

    ``gen_ai``: the span's ``gen_ai.usage.*`` counts (they win); ``found``: the scan's slots, for
    the SDK's own ``ai.usage.*``; ``provider_metadata``: decoded ``ai.response.providerMetadata``.
    """
    raw = dict(gen_ai)
    present = {canonical_usage_name(key) for key in raw}
    for slot, name in _VERCEL_COUNTS:
        value = found.get(slot)
        if value is not None and canonical_usage_name(name) not in present:
            raw[name] = value
            present.add(canonical_usage_name(name))
    if isinstance(provider_metadata, dict):
        for provider, names in _PROVIDER_COUNTS.items():
            counts = provider_metadata.get(provider)
            if not isinstance(counts, dict):
                continue
            if provider == "anthropic" and isinstance(counts.get("usage"), dict):
                counts = {**counts["usage"], **counts}  # the raw Anthropic usage object, when given
            for key, name in names.items():
                value = counts.get(key)
                canonical = canonical_usage_name(name)
                if value is not None and canonical not in present:
                    raw[name] = value
                    present.add(canonical)
    return raw


def _usage(scan: Scan) -> tuple[dict[str, Any], bool] | None:
    """Counts of a model call only: the outer ai.generateText (etc.) span repeats its children's
    counts, and a trace sums its observations."""
    if scan.type not in ("GENERATION", "EMBEDDING"):
        return None
    return usage(dict(scan.family("usage")), scan.found, provider_metadata(scan)), True


def _first_chunk(scan: Scan) -> int | None:
    milliseconds = scan.found.get("ai_first_chunk")
    return None if milliseconds is None else fields.offset_us(scan.start_us, milliseconds)


CONVENTION = Convention(
    name="vercel",
    rank=35,
    scopes=(SCOPE,),
    slots={
        "ai_operation": ("ai.operationId", "operation.name"),  # operation.name may end in " <functionId>"
        "ai_function_id": ("ai.telemetry.functionId",),
        "ai_input": ("ai.prompt.messages", "ai.prompt", "ai.toolCall.args"),
        "ai_embed_input": ("ai.values", "ai.value"),
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
    },
    families={TELEMETRY_PREFIX: "telemetry"},
    types=((35, observation_type),),
    names=((35, name),),
    # its own prompt and response attributes come right after a first-party declaration
    inputs=((12, _input),),
    outputs=((12, output),),
    usage=((35, _usage),),
    parameters=((35, model_parameters),),
    first_token=((35, _first_chunk, ("ai_first_chunk",)),),
)
