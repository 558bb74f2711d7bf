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


_MAPPING, _MODEL, _OBJECT = 0, 1, 2
# How to read fields of a type, decided once per type: an ABC isinstance check costs ~1 µs, and
# pydantic's ``__getattr__`` ~4 µs for a name the model lacks (it formats an AttributeError).
_KINDS: dict[type, int] = {dict: _MAPPING, type(None): _OBJECT}
_EMPTY: Final[Mapping[str, Any]] = {}


def _kind(cls: type) -> int:
    if issubclass(cls, Mapping):
        kind = _MAPPING
    elif hasattr(cls, "__pydantic_fields__"):  # pydantic v2: fields in __dict__, extras beside
        kind = _MODEL
    else:
        kind = _OBJECT
    if len(_KINDS) < 1024:
        _KINDS[cls] = kind
    return kind


def fields_of(obj: Any) -> Mapping[str, Any]:
    """A mapping view of ``obj``: itself for a mapping, a pydantic model's fields and extras, or
    an object's ``__dict__`` (empty when there is none). Read, never modified."""
    kind = _KINDS.get(type(obj))
    if kind is None:
        kind = _kind(type(obj))
    if kind == _MAPPING:
        return obj  # type: ignore[no-any-return]
    values = getattr(obj, "__dict__", None)
    if not isinstance(values, dict):
        return _EMPTY
    if kind == _MODEL:
        extra = getattr(obj, "__pydantic_extra__", None)
        if extra:
            return {**values, **extra}
    return values


def field(obj: Any, name: str) -> Any:
    """``obj[name]`` for mappings, else ``obj.name`` (a pydantic model's field or extra); None when absent."""
    if obj is None:
        return None
    value = fields_of(obj).get(name)
    if value is None and _KINDS.get(type(obj)) == _OBJECT:
        return getattr(obj, name, None)  # a property or a class attribute
    return value


def _count(value: Any) -> int | None:
    if value.__class__ is int:  # the common case first: a plain non-negative int
        return value if value >= 0 else None
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value) if value >= 0 else None


def _usage(
    values: Mapping[str, Any],
    prompt: int | None,
    completion: int | None,
    input_details: Any,
    output_details: Any,
    input_parts: tuple[tuple[str, str], ...],
    output_parts: tuple[tuple[str, str], ...],
) -> dict[str, int] | None:
    """Each side's count minus its detail parts, each non-zero part under its key, and the total."""
    out: dict[str, int] = {}
    for side, count, details, parts in (
        ("input", prompt, input_details, input_parts),
        ("output", completion, output_details, output_parts),
    ):
        taken = 0
        if details is not None:
            detail_values = fields_of(details)
            for name, key in parts:
                value = _count(detail_values.get(name))
                if value:
                    out[key] = value
                    taken += value
        if count is not None:
            out[side] = count - taken if count > taken else 0
    total = _count(values.get("total_tokens"))
    if total is not None:
        out["total"] = total
    elif prompt is not None or completion is not None:
        out["total"] = (prompt or 0) + (completion or 0)
    return out or None


def openai_usage(usage: Any) -> dict[str, int] | None:
    """Usage of an OpenAI chat completion, legacy completion, embedding or Responses API response."""
    if usage is None:
        return None
    values = fields_of(usage)
    get = values.get
    prompt = _count(get("prompt_tokens"))
    if prompt is None:
        prompt = _count(get("input_tokens"))
    completion = _count(get("completion_tokens"))
    if completion is None:
        completion = _count(get("output_tokens"))
    return _usage(
        values,
        prompt,
        completion,
        get("prompt_tokens_details") or get("input_tokens_details"),
        get("completion_tokens_details") or get("output_tokens_details"),
        _OPENAI_INPUT_PARTS,
        _OPENAI_OUTPUT_PARTS,
    )


def _cost(cost: Any) -> dict[str, float] | None:
    if cost is not None and isinstance(cost, int | float) and not isinstance(cost, bool) and cost >= 0:
        return {"total": float(cost)}
    return None


def openai_usage_and_cost(usage: Any) -> tuple[dict[str, int] | None, dict[str, float] | None]:
    """``openai_usage``, and a cost the provider reports itself (OpenRouter's ``usage.cost``, which
    wins over the server's), of one usage object read once."""
    if usage is None:
        return None, None
    values = fields_of(usage)
    cost = values.get("cost")
    return openai_usage(values), None if cost is None else _cost(cost)


def langchain_usage(usage: Any) -> dict[str, int] | None:
    """Usage from a LangChain message's ``usage_metadata`` (or a raw provider usage dict)."""
    if usage is None:
        return None
    values = fields_of(usage)
    if values.get("prompt_tokens") is not None or values.get("prompt_tokens_details") is not None:
        return openai_usage(usage)  # an OpenAI-shaped ``token_usage`` from ``llm_output``
    prompt = _count(values.get("input_tokens"))
    completion = _count(values.get("output_tokens"))
    return _usage(
        values,
        prompt,
        completion,
        values.get("input_token_details"),
        values.get("output_token_details"),
        _LANGCHAIN_INPUT_PARTS,
        _LANGCHAIN_OUTPUT_PARTS,
    )
