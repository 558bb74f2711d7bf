"""LiteLLM's OpenTelemetry callback (``litellm.callbacks = ["otel"]``).

It writes the GenAI conventions (read by ``gen_ai``) and, beside them, what those have no name
for: the cost LiteLLM computed (``gen_ai.cost.*``; its input and output costs include their
cache-read and reasoning parts), and the provider's whole usage object as Python text
(``metadata.usage_object``), the only place its cached and reasoning token counts appear. A
tool call comes flattened as ``gen_ai.completion.N.function_call.*`` (its
``gen_ai.output.messages`` has no part for it). Under an application's span, LiteLLM writes all
of this onto that span rather than opening its own, so these keys are read on every scope.
"""

from __future__ import annotations

import ast
from typing import Any

from interactiveai.server.ingest.conventions.registry import Convention
from interactiveai.server.ingest.conventions.scan import Scan
from interactiveai.server.ingest.usage import normalise_usage

# The usage object is small (a dozen counts); a longer text is not one, and is not parsed.
_MAX_USAGE_TEXT = 4_096
_COSTS = {
    "total": "gen_ai.cost.total_cost",
    "input": "gen_ai.cost.input_cost",
    "output": "gen_ai.cost.output_cost",
    "cache_read": "gen_ai.cost.cache_read_cost",
    "cache_creation": "gen_ai.cost.cache_creation_cost",
    "reasoning": "gen_ai.cost.reasoning_cost",
}
_PART_KEYS = {
    "cache_read": "input_cached_tokens",
    "cache_creation": "input_cache_creation",
    "reasoning": "output_reasoning_tokens",
}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if number >= 0 and number != float("inf") else None  # NaN fails >= too


def _costs(scan: Scan) -> dict[str, float] | None:
    """Its cost by our usage keys: the cached and reasoning parts taken out of input and output."""
    found = {name: _number(scan.found.get(f"litellm_cost_{name}")) for name in _COSTS}
    total = found["total"]
    if total is None:
        return None
    costs: dict[str, float] = {"total": total}
    for side, parts in (("input", ("cache_read", "cache_creation")), ("output", ("reasoning",))):
        amount = found[side]
        if amount is None:
            continue
        named = {part: value for part in parts if (value := found[part])}
        if sum(named.values()) <= amount:  # parts larger than their side are not parts of it
            amount -= sum(named.values())
            for part, value in named.items():
                costs[_PART_KEYS[part]] = value
        costs[side] = amount
    return costs


def _usage_object(scan: Scan) -> tuple[dict[str, Any], bool] | None:
    """The provider's usage object (``str(dict)`` of OpenAI-shaped counts), read as a literal."""
    text = scan.found.get("litellm_usage_object")
    if not isinstance(text, str) or not 2 <= len(text) <= _MAX_USAGE_TEXT or not text.startswith("{"):
        return None
    try:
        usage = ast.literal_eval(text)  # literals only: never runs code
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    if not isinstance(usage, dict) or not normalise_usage(usage, inclusive=True).keys() & {"input", "output"}:
        return None  # no counts in it: the plain gen_ai.usage.* ones are read instead
    return usage, True  # prompt and completion counts include their cached and reasoning parts


def _tool_calls(scan: Scan) -> list[dict[str, Any]] | None:
    """``gen_ai.completion.N.function_call.{name,arguments}`` → one assistant message with its calls."""
    found = scan.found
    if "litellm_usage_object" not in found and "litellm_cost_total" not in found:
        return None  # not LiteLLM's: OpenLLMetry's own rule reads the flattened completion
    flat = scan.family("completion")
    calls = []
    content = None
    for index in sorted({int(key.split(".", 1)[0]) for key in flat if key.split(".", 1)[0].isdigit()}):
        name = flat.get(f"{index}.function_call.name")
        if name is not None:
            arguments = flat.get(f"{index}.function_call.arguments")
            calls.append({"type": "function", "function": {"name": name, "arguments": arguments}})
        content = content or flat.get(f"{index}.content")
    return [{"role": "assistant", "content": content, "tool_calls": calls}] if calls else None


CONVENTION = Convention(
    name="litellm",
    rank=25,
    slots={
        "litellm_call_id": ("litellm.call_id",),
        "litellm_usage_object": ("metadata.usage_object",),
        **{f"litellm_cost_{name}": (key,) for name, key in _COSTS.items()},
    },
    usage=((25, _usage_object, ("litellm_usage_object",)),),
    costs=((25, _costs, ("litellm_cost_total",)),),
    # before the flattened completion (OpenLLMetry's rule, 70)
    outputs=((65, _tool_calls, ("litellm_usage_object", "litellm_cost_total")),),
)
