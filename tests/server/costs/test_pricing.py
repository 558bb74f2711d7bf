"""The cost arithmetic on its own: provided maps, definition prices with fallbacks, roll-ups."""

from __future__ import annotations

from interactiveai.server.costs.pricing import clean_provided, price_with_definition, provided_total, split, with_total
from interactiveai.server.costs.usage_keys import catalog_unit, direction


def test_clean_provided_keeps_finite_numbers_only() -> None:
    raw = {"input": 1, "output": 2.5, "bad": float("inf"), "flag": True, "": 1.0, "text": "3"}
    assert clean_provided(raw) == {"input": 1.0, "output": 2.5}  # type: ignore[arg-type]
    assert clean_provided(None) == {}


def test_provided_total_never_adds_a_total_to_its_parts() -> None:
    assert provided_total({"input": 1.0, "output": 2.0}) == 3.0
    assert provided_total({"input": 1.0, "output": 2.0, "total": 2.5}) == 2.5


def test_definition_prices_fall_back_to_the_direction_base_price() -> None:
    prices = {"input": 1.0, "output": 10.0, "input_cached_tokens": 0.1}
    usage = {
        "input": 2,
        "input_cached_tokens": 10,
        "input_cache_creation": 3,
        "output_reasoning_tokens": 4,
        "total": 19,
    }
    costs = price_with_definition(prices, usage)
    assert costs == {
        "input": 2.0,
        "input_cached_tokens": 1.0,
        "input_cache_creation": 3.0,
        "output_reasoning_tokens": 40.0,
    }
    assert "total" not in costs  # no total price: total is the sum, not priced again


def test_definition_total_price_and_bad_counts() -> None:
    assert price_with_definition({"total": 2.0}, {"input": 1, "output": 2, "total": 3}) == {"total": 6.0}
    assert price_with_definition({"input": 1.0}, {"input": -5, "input_x": True}) == {}  # type: ignore[dict-item]
    assert price_with_definition({"input": 1.0}, {"input": float("nan")}) == {}  # type: ignore[dict-item]
    # Fractional counts (a SECONDS or CHARACTERS unit) are priced as they are.
    assert price_with_definition({"input": 0.5}, {"input": 2.5}) == {"input": 1.25}  # type: ignore[dict-item]


def test_with_total_and_split() -> None:
    details, total = with_total({"input": 1.0, "input_cached_tokens": 0.5, "output": 2.0})
    assert total == 3.5 and details["total"] == 3.5
    assert split(details) == (1.5, 2.0)
    assert split({"total": 1.0}) == (None, None)
    details, total = with_total({"input": 1.0, "total": 7.0})
    assert total == 7.0


def test_usage_key_mapping() -> None:
    assert catalog_unit("input") == "input_tokens"
    assert catalog_unit("input_cached_tokens") == "cache_read_tokens"
    assert catalog_unit("input_cache_read") == "cache_read_tokens"
    assert catalog_unit("input_cache_creation_1h") == "cache_write_1h_tokens"
    assert catalog_unit("output_reasoning_tokens") == "output_reasoning_tokens"
    assert catalog_unit("output_audio_tokens") == "output_audio_tokens"
    # Not buckets of ours: totals, inclusive counts and unknown keys are never priced.
    for key in ("total", "input_tokens", "output_tokens", "input_text_tokens", "prompt_tokens", "whatever"):
        assert catalog_unit(key) is None, key
    assert (direction("input_cached_tokens"), direction("output"), direction("total")) == ("input", "output", None)
