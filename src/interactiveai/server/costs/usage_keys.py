"""Our canonical usage keys, and how each maps onto a catalog unit and a cost direction.

Ingestion normalises usage into disjoint buckets: ``input`` (input tokens that were neither read
from nor written to a cache), ``output`` (output tokens that are not reasoning/audio), ``total``,
and detail buckets such as ``input_cached_tokens`` or ``output_reasoning_tokens``. Because the
buckets are disjoint, each one is priced exactly once, at its own rate, and input cost is the sum
of the ``input*`` costs (the rule the trace roll-ups and the UI use).

A few spellings of the same buckets (Bedrock's ``input_cache_read``, ``input_cache_write``) are
recognised as aliases so that a cache read is never charged at the full input rate just because of
its spelling. Every alias starts with ``input``/``output``, so its cost lands on the right side.

Unknown keys are not priced: we cannot tell whether an unknown key is a separate bucket or a part
of ``input``/``output``, and pricing a part would charge those tokens twice (the double counting
users of the reference complained about).
"""

from __future__ import annotations

from functools import lru_cache

from genai_prices.data_units import unit_data as _UNIT_DATA

# Our key (and aliases) → the genai-prices usage unit pricing that bucket.
_ALIASES: dict[str, str] = {
    "input": "input_tokens",
    "output": "output_tokens",
    # cache reads
    "input_cached_tokens": "cache_read_tokens",
    "input_cache_read": "cache_read_tokens",
    "input_cached": "cache_read_tokens",
    "input_cached_audio_tokens": "cache_audio_read_tokens",
    "input_cached_text_tokens": "cache_text_read_tokens",
    "input_cached_image_tokens": "cache_image_read_tokens",
    # cache writes (Anthropic splits them by time to live; the 1h writes cost more)
    "input_cache_creation": "cache_write_tokens",
    "input_cache_write": "cache_write_tokens",
    "input_cache_creation_5m": "cache_write_5m_tokens",
    "input_cache_creation_1h": "cache_write_1h_tokens",
    "input_cache_write_5m": "cache_write_5m_tokens",
    "input_cache_write_1h": "cache_write_1h_tokens",
    # modalities
    "input_audio": "input_audio_tokens",
    "input_audio_tokens": "input_audio_tokens",
    "input_image": "input_image_tokens",
    "input_image_tokens": "input_image_tokens",
    "input_video_tokens": "input_video_tokens",
    "output_audio": "output_audio_tokens",
    "output_audio_tokens": "output_audio_tokens",
    "output_image": "output_image_tokens",
    "output_image_tokens": "output_image_tokens",
    "output_video_tokens": "output_video_tokens",
    # reasoning ("thinking") tokens: billed as output unless a model lists its own rate
    "output_reasoning_tokens": "output_reasoning_tokens",
    "output_reasoning": "output_reasoning_tokens",
}


# Never bucket names of ours: the catalog's inclusive totals, and the text-modality counts some
# providers report *inside* the prompt count (text is what plain "input"/"output" already are).
_INCLUSIVE = frozenset({"input_tokens", "output_tokens", "input_text_tokens", "output_text_tokens"})


@lru_cache(maxsize=4096)
def catalog_unit(key: str) -> str | None:
    """The genai-prices usage unit that prices our usage key ``key``, or None (not priced)."""
    found = _ALIASES.get(key)
    if found is not None:
        return found
    # Detail keys already spelled the catalog's way ("input_audio_tool_tokens"). Only input_*/output_*
    # keys qualify, so that every priced key also counts towards input or output cost by its prefix.
    if not key.startswith(("input_", "output_")) or key in _INCLUSIVE:
        return None
    if key in _UNIT_DATA:
        return key
    if key + "_tokens" in _UNIT_DATA and key + "_tokens" not in _INCLUSIVE:
        return key + "_tokens"
    return None


def direction(key: str) -> str | None:
    """ "input" or "output" for a usage/cost key by its prefix (the roll-up rule), else None."""
    if key.startswith("input"):
        return "input"
    if key.startswith("output"):
        return "output"
    return None
