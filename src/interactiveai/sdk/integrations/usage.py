"""Token usage of provider responses in the usage keys the server prices.

The server's buckets are disjoint: ``input`` is the input that was neither read from nor written to
a cache, ``output`` the output that is not reasoning or audio, and each part has its own key
(``input_cached_tokens``, ``output_reasoning_tokens``, …) priced at its own rate; ``total`` is the
provider's total. Providers report inclusive counts (OpenAI's ``prompt_tokens`` contains the
cached tokens), so the parts are subtracted here. Unknown detail keys are left out rather than
guessed: a part recorded next to the count that already holds it would be counted twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

# OpenAI's detail names (chat, Responses API) → our keys; input side, then output side.
_OPENAI_INPUT_PARTS: Final = (
    ("cached_tokens", "input_cached_tokens"),
    ("cache_write_tokens", "input_cache_creation"),
    ("audio_tokens", "input_audio_tokens"),
)
_OPENAI_OUTPUT_PARTS: Final = (
    ("reasoning_tokens", "output_reasoning_tokens"),
    ("audio_tokens", "output_audio_tokens"),
)
# LangChain's ``usage_metadata`` detail names (langchain-core's InputTokenDetails/OutputTokenDetails).
_LANGCHAIN_INPUT_PARTS: Final = (
    ("cache_read", "input_cached_tokens"),
    ("cache_creation", "input_cache_creation"),
    ("audio", "input_audio_tokens"),
)
_LANGCHAIN_OUTPUT_PARTS: Final = (
    ("reasoning", "output_reasoning_tokens"),
    ("audio", "output_audio_tokens"),
)


def field(obj: Any, name: str) -> Any:
    """``obj[name]`` for mappings, else ``obj.name``; None when absent."""
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def _count(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value) if value >= 0 else None


def _split(
    usage: dict[str, int],
    side: str,
    count: int | None,
    details: Any,
    parts: tuple[tuple[str, str], ...],
) -> None:
    """Record ``count`` under ``side`` minus its detail parts, and each non-zero part under its key."""
    taken = 0
    for name, key in parts:
        value = _count(field(details, name)) if details is not None else None
        if value:
            usage[key] = value
            taken += value
    if count is not None:
        usage[side] = max(0, count - taken)


def openai_usage(usage: Any) -> dict[str, int] | None:
    """Usage of an OpenAI chat completion, legacy completion, embedding or Responses API response."""
    if usage is None:
        return None
    prompt = _count(field(usage, "prompt_tokens"))
    if prompt is None:
        prompt = _count(field(usage, "input_tokens"))
    completion = _count(field(usage, "completion_tokens"))
    if completion is None:
        completion = _count(field(usage, "output_tokens"))
    total = _count(field(usage, "total_tokens"))
    input_details = field(usage, "prompt_tokens_details") or field(usage, "input_tokens_details")
    output_details = field(usage, "completion_tokens_details") or field(usage, "output_tokens_details")
    out: dict[str, int] = {}
    _split(out, "input", prompt, input_details, _OPENAI_INPUT_PARTS)
    _split(out, "output", completion, output_details, _OPENAI_OUTPUT_PARTS)
    if total is not None:
        out["total"] = total
    elif prompt is not None or completion is not None:
        out["total"] = (prompt or 0) + (completion or 0)
    return out or None


def openai_cost(usage: Any) -> dict[str, float] | None:
    """A cost the provider reports itself (OpenRouter's ``usage.cost``), which wins over the server's."""
    cost = field(usage, "cost")
    if isinstance(cost, int | float) and not isinstance(cost, bool) and cost >= 0:
        return {"total": float(cost)}
    return None


def langchain_usage(usage: Any) -> dict[str, int] | None:
    """Usage from a LangChain message's ``usage_metadata`` (or a raw provider usage dict)."""
    if usage is None:
        return None
    if field(usage, "prompt_tokens") is not None or field(usage, "prompt_tokens_details") is not None:
        return openai_usage(usage)  # an OpenAI-shaped ``token_usage`` from ``llm_output``
    prompt = _count(field(usage, "input_tokens"))
    completion = _count(field(usage, "output_tokens"))
    total = _count(field(usage, "total_tokens"))
    out: dict[str, int] = {}
    _split(out, "input", prompt, field(usage, "input_token_details"), _LANGCHAIN_INPUT_PARTS)
    _split(out, "output", completion, field(usage, "output_token_details"), _LANGCHAIN_OUTPUT_PARTS)
    if total is not None:
        out["total"] = total
    elif prompt is not None or completion is not None:
        out["total"] = (prompt or 0) + (completion or 0)
    return out or None
