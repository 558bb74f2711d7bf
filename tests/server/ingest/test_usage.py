"""Usage normalisation: inclusive counts made exclusive, never below their own parts."""

from __future__ import annotations

from interactiveai.server.ingest.usage import normalise_usage


def test_an_input_smaller_than_its_cache_parts_is_already_exclusive() -> None:
    # Anthropic's raw usage object: input_tokens excludes the cache reads and writes
    usage = normalise_usage({"input_tokens": 50, "cache_read_input_tokens": 1000, "output_tokens": 20})
    assert usage["input"] == 50 and usage["input_cached_tokens"] == 1000
    assert usage["total"] == 1070


def test_audio_and_split_cache_writes_are_parts_of_an_inclusive_input() -> None:
    usage = normalise_usage(
        {"prompt_tokens": 300, "prompt_tokens_details": {"audio_tokens": 100}, "completion_tokens": 5}
    )
    assert usage["input"] == 200 and usage["input_audio_tokens"] == 100
    split = normalise_usage(
        {"input": 1000, "input_cache_creation_5m": 100, "input_cache_creation_1h": 50, "output": 1, "total": 1001},
    )
    assert split["input"] == 850
