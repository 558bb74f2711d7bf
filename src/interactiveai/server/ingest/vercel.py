"""The Vercel AI SDK convention: spans of instrumentation scope ``ai`` with ``ai.*`` attributes.

Rules from the reference research (server behaviour, the convention table): model-call operations
are generations or embeddings (only with model info), ``ai.toolCall`` spans are tools, I/O comes
from ``ai.prompt*`` / ``ai.response*`` / ``ai.result*``, usage from ``gen_ai.usage.*`` then the
SDK's own ``ai.usage.*`` and provider metadata, and model parameters are a fixed object. The
attribute slots are in keys.VERCEL_SLOTS; conventions.map_span calls these for ``ai`` spans only.
"""

from __future__ import annotations

from typing import Any

from interactiveai.server import json_values
from interactiveai.server.ingest.fields import text
from interactiveai.server.ingest.keys import Scan
from interactiveai.server.ingest.messages import maybe_json
from interactiveai.server.ingest.usage import canonical_usage_name

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
    params = scan.params
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


def name(scan: Scan, attrs: dict[str, Any]) -> str | None:
    """``ai.toolCall.name`` › ``ai.telemetry.functionId:ai.operationId`` (else the span name)."""
    tool = text(scan.found.get("ai_tool_name"))
    if tool:
        return tool
    function_id = text(scan.found.get("ai_function_id"))
    operation_id = text(attrs.get("ai.operationId"))
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
