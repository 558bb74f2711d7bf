"""Token usage normalisation: every convention's counts → one canonical, non-overlapping map.

Canonical keys are ``input``, ``output``, ``total`` and detail keys that start with the side they
belong to (``input_cached_tokens``, ``input_cache_creation``, ``output_reasoning_tokens``, …), so
"sum of keys starting with input" is the input count. That rule double-counts when a client sends
an *inclusive* input next to its cached part (a known pain point of the reference), so inclusive
counts are made exclusive here: input minus cache read/write, output minus reasoning/audio, never
below zero. ``total`` is the provided total, else input plus output with their parts: counts
that belong to neither side (requests, web searches, an unnamed ``audio_tokens``) are kept but
never added to it.

A usage object the client declares (``usage_details``) is stored with its own keys
(``usage_as_sent``), as the peer API returns it; the columns and the cost use the canonical map.
"""

from __future__ import annotations

import math
from typing import Any

# Provider / convention names (the suffix after gen_ai.usage., llm.token_count., llm.usage.) →
# canonical key. Names absent here pass through (with a "details." prefix stripped).
_ALIASES: dict[str, str] = {
    "prompt_tokens": "input",
    "input_tokens": "input",
    "prompt": "input",
    "input": "input",
    "completion_tokens": "output",
    "output_tokens": "output",
    "completion": "output",
    "output": "output",
    "total_tokens": "total",
    "total": "total",
    "cache_read.input_tokens": "input_cached_tokens",
    "cache_read_input_tokens": "input_cached_tokens",
    "cache_read_tokens": "input_cached_tokens",
    "details.cache_read_tokens": "input_cached_tokens",
    "prompt_details.cache_read": "input_cached_tokens",
    "prompt_tokens_details.cached_tokens": "input_cached_tokens",
    "input_tokens_details.cached_tokens": "input_cached_tokens",
    "cached_tokens": "input_cached_tokens",
    "input_cached_tokens": "input_cached_tokens",
    "cache_creation.input_tokens": "input_cache_creation",
    "cache_creation_input_tokens": "input_cache_creation",
    "cache_write_tokens": "input_cache_creation",
    "details.cache_write_tokens": "input_cache_creation",
    "prompt_details.cache_write": "input_cache_creation",
    "input_cache_creation": "input_cache_creation",
    "prompt_details.audio": "input_audio_tokens",
    "prompt_tokens_details.audio_tokens": "input_audio_tokens",
    "input_audio_tokens": "input_audio_tokens",
    "reasoning.output_tokens": "output_reasoning_tokens",
    "reasoning_tokens": "output_reasoning_tokens",
    "completion_details.reasoning": "output_reasoning_tokens",
    "completion_tokens_details.reasoning_tokens": "output_reasoning_tokens",
    "output_tokens_details.reasoning_tokens": "output_reasoning_tokens",
    "output_reasoning_tokens": "output_reasoning_tokens",
    "completion_details.audio": "output_audio_tokens",
    "completion_tokens_details.audio_tokens": "output_audio_tokens",
    "output_audio_tokens": "output_audio_tokens",
}

# Raw provider names whose input/output count includes the cache/reasoning parts.
_INCLUSIVE_SOURCES = frozenset({"prompt_tokens", "input_tokens", "prompt", "completion_tokens", "output_tokens"})
_INPUT_PARTS = (
    "input_cached_tokens",
    "input_cache_creation",
    "input_cache_read",
    "input_cache_write",
    "input_audio_tokens",
)
# A cache write may also come split by lifetime; counted only when the unsplit key is absent.
_SPLIT_CACHE_CREATION = ("input_cache_creation_5m", "input_cache_creation_1h")
_OUTPUT_PARTS = ("output_reasoning_tokens", "output_audio_tokens")
_PARTS = frozenset({*_INPUT_PARTS, *_SPLIT_CACHE_CREATION, *_OUTPUT_PARTS})
_MAIN_KEYS = frozenset({"input", "output", "total"})


_MAX_COUNT = 2**40  # ~10^12 per observation: beyond any real count, and trace sums stay in BIGINT


def _number(value: Any) -> int | float | None:
    """A usable count or cost: finite, non-negative, within range; anything else is dropped."""
    if value.__class__ is int:  # the common case first (bool is a subclass of int, not int itself)
        return value if 0 <= value <= _MAX_COUNT else None
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, float):
        if not math.isfinite(value) or value < 0 or value > _MAX_COUNT:
            return None
        return int(value) if value.is_integer() else value
    if isinstance(value, int):
        return value if 0 <= value <= _MAX_COUNT else None
    return None


def _flatten(raw: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    if not prefix:
        for value in raw.values():
            if isinstance(value, dict):
                break
        else:
            return raw  # already flat (the common case): read it as it is, no copy
    flat: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def canonical_usage_name(name: str) -> str:
    """The canonical key a provider's or convention's usage name is read as (unknown names stay)."""
    return _ALIASES.get(name, name)


def normalise_usage(raw: dict[str, Any], *, inclusive: bool | None = None) -> dict[str, int | float]:
    """Canonical usage map from any convention's keys.

    ``inclusive`` says whether input/output already contain their detail parts; None decides from
    the names used (provider names are inclusive) and, for canonical names, from a provided total
    that only adds up when they are inclusive.
    """
    usage: dict[str, int | float] = {}
    saw_inclusive_name = False
    for key, value in _flatten(raw).items():
        number = _number(value)
        if number is None:
            continue
        canonical = _ALIASES.get(key)
        if canonical is None:
            if key.startswith("details."):  # Pydantic AI's gen_ai.usage.details.*: names as above
                key = key[8:]
                canonical = _ALIASES.get(key, key)
            else:
                canonical = key
        if key in _INCLUSIVE_SOURCES:
            saw_inclusive_name = True
        if canonical not in usage:  # the first (most specific) name wins, as in the alias order
            usage[canonical] = number
    if not usage:
        return usage
    if usage.keys().isdisjoint(_PARTS):  # the common case: no detail parts to subtract
        input_parts: int | float = 0
        output_parts: int | float = 0
    else:
        input_parts = sum(usage.get(k, 0) for k in _INPUT_PARTS)
        if "input_cache_creation" not in usage:
            input_parts += sum(usage.get(k, 0) for k in _SPLIT_CACHE_CREATION)
        output_parts = sum(usage.get(k, 0) for k in _OUTPUT_PARTS)
    if inclusive is None:
        inclusive = saw_inclusive_name
        total = usage.get("total")
        if not inclusive and total is not None and (input_parts or output_parts):
            # canonical names: inclusive exactly when the provided total only adds up that way
            inclusive = total == usage.get("input", 0) + usage.get("output", 0)
    # A count smaller than its own parts cannot include them: a raw Anthropic usage object, whose
    # input_tokens excludes cache reads and writes, must not lose its input to a subtraction.
    input_inclusive = inclusive and usage.get("input", 0) >= input_parts
    output_inclusive = inclusive and usage.get("output", 0) >= output_parts
    if input_inclusive and "input" in usage and input_parts:
        usage["input"] = usage["input"] - input_parts
    if output_inclusive and "output" in usage and output_parts:
        usage["output"] = usage["output"] - output_parts
    if "total" not in usage:
        usage["total"] = _sides_total(usage)
    return usage


def _sides_total(usage: dict[str, int | float]) -> int | float:
    """Input plus output, each with its detail parts (the keys naming their side)."""
    if usage.keys() <= _MAIN_KEYS:
        return usage.get("input", 0) + usage.get("output", 0)
    return sum(value for key, value in usage.items() if key.startswith(("input", "output")))


# OpenAI's usage objects (Chat Completions, Responses): the peer reads such an object as its
# provider's counts (input and output without their detail parts, each detail as input_/output_<k>)
# and keeps any other map as sent; both of its schemas are strict (no other key).
_OPENAI_OBJECTS = (
    (("prompt_tokens", "completion_tokens", "total_tokens"), ("prompt_tokens_details", "completion_tokens_details")),
    (("input_tokens", "output_tokens", "total_tokens"), ("input_tokens_details", "output_tokens_details")),
)


def is_openai_usage(raw: dict[str, Any]) -> bool:
    """Whether ``raw`` is exactly one of OpenAI's usage objects (then stored normalised)."""
    for counts, details in _OPENAI_OBJECTS:
        if not raw.keys() <= {*counts, *details}:
            continue
        if all(isinstance(raw.get(k), int) and not isinstance(raw.get(k), bool) and raw[k] >= 0 for k in counts):
            nested = [raw.get(k) for k in details if raw.get(k) is not None]
            return all(isinstance(d, dict) for d in nested)
    return False


def usage_as_sent(raw: dict[str, Any], usage: dict[str, int | float]) -> dict[str, int | float]:
    """A declared usage object as stored and returned: its own keys (nested objects flattened with
    dots, values that are no count dropped), and ``total`` from ``usage`` when it gave none; one of
    OpenAI's usage objects as ``usage`` (its normalised counts), as the peer stores it."""
    if usage.items() >= raw.items() or is_openai_usage(raw):
        return usage  # the usual case: every key was read as it was sent (``usage`` adds a total)
    sent: dict[str, int | float] = {}
    for key, value in _flatten(raw).items():
        number = _number(value)
        if number is not None:
            sent[key] = number
    if sent and "total" not in sent and "total" in usage:
        sent["total"] = usage["total"]
    return sent


def token_columns(usage: dict[str, int | float]) -> tuple[int, int, int]:
    """(input_tokens, output_tokens, total_tokens) columns: sums by key prefix, total as given."""
    if not usage:
        return 0, 0, 0
    if usage.keys() <= _MAIN_KEYS:  # the common case: no detail keys to add up
        input_tokens = int(usage.get("input", 0))
        output_tokens = int(usage.get("output", 0))
        return input_tokens, output_tokens, int(usage.get("total", input_tokens + output_tokens))
    input_tokens = 0
    output_tokens = 0
    for key, value in usage.items():
        if key.startswith("input"):
            input_tokens += int(value)
        elif key.startswith("output"):
            output_tokens += int(value)
    return input_tokens, output_tokens, int(usage.get("total", input_tokens + output_tokens))


def normalise_cost(raw: dict[str, Any]) -> dict[str, float]:
    """A provided cost map with numbers only; ``total`` kept if given (summed later otherwise)."""
    costs: dict[str, float] = {}
    for key, value in _flatten(raw).items():
        number = _number(value)
        if number is not None:
            costs[key] = float(number)
    return costs


def cost_columns(costs: dict[str, float]) -> tuple[float | None, float | None, float | None]:
    """(input_cost, output_cost, total_cost): sums by key prefix; total as given, else the sum."""
    if not costs:
        return None, None, None
    inputs: list[float] = []
    outputs: list[float] = []
    for key, value in costs.items():  # one pass; sum() below keeps the summation order and rounding
        if key.startswith("input"):
            inputs.append(value)
        elif key.startswith("output"):
            outputs.append(value)
    total = costs.get("total")
    if total is None:
        total = sum(costs.values())
    return (sum(inputs) if inputs else None), (sum(outputs) if outputs else None), total
