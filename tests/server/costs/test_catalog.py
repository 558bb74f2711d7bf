"""Catalog pricing, checked against costs worked out by hand from published per-token prices.

The per-million-token prices below are those of the genai-prices data bundled with the installed
package (``genai_prices.data``; they match the providers' public price pages). Writing them here
as constants is deliberate: the point is to check *our* mapping of usage buckets onto prices —
cached tokens priced once at the cache rate, cache writes by time to live, reasoning tokens at the
output rate, prompt-size tiers — not to re-read the library. If a provider changes a price and the
package is upgraded, the constant here is what to update.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest

from interactiveai.server.costs.calculator import CostCalculator
from interactiveai.server.costs.catalog import Catalog

M = 1_000_000
NOW_US = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z

# USD per million tokens (genai-prices data: providers openai, anthropic, google, mistral).
GPT_4O = {"input": 2.50, "cached": 1.25, "output": 10.00}
GPT_4O_MINI = {"input": 0.15, "cached": 0.075, "output": 0.60}
O3_MINI = {"input": 1.10, "cached": 0.55, "output": 4.40}
CLAUDE_SONNET = {"input": 3.00, "cache_write_5m": 3.75, "cache_write_1h": 6.00, "cached": 0.30, "output": 15.00}
GEMINI_15_PRO = {"input": 1.25, "input_over_128k": 2.50, "output": 5.00, "output_over_128k": 10.00}
GEMINI_20_FLASH = {"input": 0.10, "cached": 0.025, "audio_input": 0.70, "output": 0.40}
MISTRAL_LARGE = {"input": 2.00, "output": 6.00}


def approx(value: float) -> Any:
    return pytest.approx(value, rel=1e-9, abs=1e-15)


def test_gpt_4o_cached_tokens_are_priced_once_at_the_cache_rate(calc: CostCalculator) -> None:
    # A 2,000-token prompt of which 800 were read from the cache: "input" holds the other 1,200.
    usage = {"input": 1200, "input_cached_tokens": 800, "output": 300, "total": 2300}
    cost = calc.compute("p", "gpt-4o", usage, None, NOW_US)
    expected_input = 1200 * GPT_4O["input"] / M + 800 * GPT_4O["cached"] / M
    expected_output = 300 * GPT_4O["output"] / M
    assert cost.source == "catalog"
    assert cost.model_id == "openai/gpt-4o"
    assert cost.details["input"] == approx(0.003)
    assert cost.details["input_cached_tokens"] == approx(0.001)
    assert cost.details["output"] == approx(0.003)
    assert cost.input == approx(expected_input)
    assert cost.output == approx(expected_output)
    assert cost.total == approx(0.007)
    assert cost.details["total"] == approx(0.007)


def test_gpt_4o_mini_with_provider_prefix_and_any_case(calc: CostCalculator) -> None:
    usage = {"input": 10_000, "input_cached_tokens": 30_000, "output": 2_000}
    expected = (10_000 * GPT_4O_MINI["input"] + 30_000 * GPT_4O_MINI["cached"] + 2_000 * GPT_4O_MINI["output"]) / M
    for name in ("gpt-4o-mini", "openai/gpt-4o-mini", "GPT-4o-mini", "gpt-4o-mini-2024-07-18"):
        cost = calc.compute("p", name, usage, None, NOW_US)
        assert cost.total == approx(expected), name
        assert cost.model_id == "openai/gpt-4o-mini", name


def test_o3_mini_reasoning_tokens_are_billed_at_the_output_rate(calc: CostCalculator) -> None:
    usage = {"input": 500, "input_cached_tokens": 1500, "output": 200, "output_reasoning_tokens": 1800}
    cost = calc.compute("p", "o3-mini", usage, None, NOW_US)
    assert cost.details["output_reasoning_tokens"] == approx(1800 * O3_MINI["output"] / M)
    assert cost.output == approx(2000 * O3_MINI["output"] / M)
    assert cost.input == approx((500 * O3_MINI["input"] + 1500 * O3_MINI["cached"]) / M)
    assert cost.total == approx(cost.input + cost.output)
    assert cost.model_id == "openai/o3-mini"


def test_claude_sonnet_4_cache_writes_by_time_to_live_and_thinking(calc: CostCalculator) -> None:
    usage = {
        "input": 50,
        "input_cached_tokens": 10_000,
        "input_cache_creation_5m": 2_000,
        "input_cache_creation_1h": 1_000,
        "output": 400,
        "output_reasoning_tokens": 600,
    }
    cost = calc.compute("p", "claude-sonnet-4-20250514", usage, None, NOW_US)
    assert cost.details["input"] == approx(50 * 3.00 / M)
    assert cost.details["input_cached_tokens"] == approx(0.003)  # 10k x $0.30/M
    assert cost.details["input_cache_creation_5m"] == approx(0.0075)  # 2k x $3.75/M
    assert cost.details["input_cache_creation_1h"] == approx(0.006)  # 1k x $6/M
    assert cost.output == approx(1000 * CLAUDE_SONNET["output"] / M)
    assert cost.total == approx(0.00015 + 0.003 + 0.0075 + 0.006 + 0.015)
    assert cost.model_id is not None and cost.model_id.startswith("anthropic/claude-sonnet-4")


def test_claude_3_5_sonnet_unsplit_cache_creation_is_the_5_minute_rate(calc: CostCalculator) -> None:
    usage = {"input": 1_000, "input_cache_creation": 4_000, "output": 100}
    for name in ("claude-3-5-sonnet-20241022", "anthropic/claude-3-5-sonnet-20241022"):
        cost = calc.compute("p", name, usage, None, NOW_US)
        assert cost.details["input_cache_creation"] == approx(4_000 * CLAUDE_SONNET["cache_write_5m"] / M), name
        assert cost.total == approx((1_000 * 3.00 + 4_000 * 3.75 + 100 * 15.00) / M), name


def test_gemini_1_5_pro_prompt_size_tier_counts_every_input_bucket(calc: CostCalculator) -> None:
    small = calc.compute("p", "gemini-1.5-pro", {"input": 100_000, "output": 1_000}, None, NOW_US)
    assert small.total == approx((100_000 * GEMINI_15_PRO["input"] + 1_000 * GEMINI_15_PRO["output"]) / M)
    # 120k fresh + 10k cached = a 130k prompt: over the 128k threshold, so every token (output
    # included) is billed at the higher tier; no cache price is listed, so cached tokens pay input.
    big = calc.compute(
        "p", "gemini-1.5-pro", {"input": 120_000, "input_cached_tokens": 10_000, "output": 1_000}, None, NOW_US
    )
    assert big.input == approx(130_000 * GEMINI_15_PRO["input_over_128k"] / M)
    assert big.output == approx(1_000 * GEMINI_15_PRO["output_over_128k"] / M)


def test_gemini_2_0_flash_audio_input_and_cache(calc: CostCalculator) -> None:
    usage = {"input": 1_000, "input_cached_tokens": 4_000, "input_audio_tokens": 2_000, "output": 500}
    cost = calc.compute("p", "models/gemini-2.0-flash", usage, None, NOW_US)
    assert cost.details["input_audio_tokens"] == approx(2_000 * GEMINI_20_FLASH["audio_input"] / M)
    assert cost.input == approx((1_000 * 0.10 + 4_000 * 0.025 + 2_000 * 0.70) / M)
    assert cost.output == approx(500 * GEMINI_20_FLASH["output"] / M)
    assert cost.model_id == "google/gemini-2.0-flash"


def test_mistral_large(calc: CostCalculator) -> None:
    for name in ("mistral-large-latest", "mistral/mistral-large-latest"):
        cost = calc.compute("p", name, {"input": 3_000, "output": 1_500, "total": 4_500}, None, NOW_US)
        assert cost.total == approx((3_000 * MISTRAL_LARGE["input"] + 1_500 * MISTRAL_LARGE["output"]) / M), name
        assert cost.model_id == "mistral/mistral-large", name


def test_unknown_keys_are_not_priced(calc: CostCalculator) -> None:
    cost = calc.compute("p", "gpt-4o", {"input": 1_000, "foo_tokens": 5_000, "input_text_tokens": 999}, None, NOW_US)
    assert set(cost.details) == {"input", "total"}
    assert cost.total == approx(1_000 * GPT_4O["input"] / M)


def test_catalog_resolution_misses_are_none() -> None:
    catalog = Catalog()
    assert catalog.resolve("my-finetune-xyz") is None
    assert catalog.resolve("") is None
    assert catalog.resolve("x" * 1_000) is None
    assert catalog.resolve("gpt-4o") is not None


def test_catalog_never_uses_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the price catalog tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    catalog = Catalog()
    for name in ("gpt-4o", "claude-3-5-haiku", "gemini-2.5-pro", "deepseek-chat", "nobody-knows-this"):
        model = catalog.resolve(name)
        if model is not None:
            catalog.price(model, {"input": 10, "output": 10}, NOW_US)


@pytest.mark.parametrize(
    ("name", "provider"),
    [
        ("gpt-4.1", "openai"),
        ("o1-mini", "openai"),
        ("o4-mini", "openai"),
        ("azure/gpt-4o", "azure"),
        ("claude-3-5-sonnet-latest", "anthropic"),
        ("anthropic/claude-3-5-sonnet-20241022", "anthropic"),
        ("us.anthropic.claude-3-5-sonnet-20241022-v2:0", "aws"),  # Bedrock cross-region id
        ("gemini-2.5-flash", "google"),
        ("vertex_ai/gemini-1.5-pro", "google"),
        ("models/gemini-2.0-flash", "google"),
        ("codestral-latest", "mistral"),
        ("ministral-8b-latest", "mistral"),
        ("mistralai/mistral-large", "mistral"),
        ("command-r-plus", "cohere"),
        ("deepseek-chat", "deepseek"),
        ("grok-2", "x-ai"),
        ("llama-3.3-70b-versatile", "groq"),
    ],
)
def test_provider_inference(name: str, provider: str) -> None:
    model = Catalog().resolve(name)
    assert model is not None, name
    assert model.provider_id == provider


def test_catalog_prices_follow_the_observation_start_date(calc: CostCalculator) -> None:
    # ministral-8b: $0.10/M in and out until 2025-12-01, then $0.15/M with cache reads at $0.015/M
    # (genai-prices data, provider mistral, a dated price change).
    usage = {"input": 10_000, "input_cached_tokens": 20_000, "output": 1_000}
    june_2025 = 1_748_736_000_000_000  # 2025-06-01T00:00:00Z
    before = calc.compute("p", "ministral-8b-latest", usage, None, june_2025)
    after = calc.compute("p", "ministral-8b-latest", usage, None, NOW_US)
    # Before the change no cache price existed: cached tokens paid the input price.
    assert before.total == approx((10_000 + 20_000) * 0.10 / M + 1_000 * 0.10 / M)
    assert after.total == approx(10_000 * 0.15 / M + 20_000 * 0.015 / M + 1_000 * 0.15 / M)


def test_prices_per_million_for_display() -> None:
    catalog = Catalog()
    model = catalog.resolve("claude-sonnet-4")
    assert model is not None
    shown = catalog.prices_per_million(model, NOW_US)
    assert shown["input"] == CLAUDE_SONNET["input"]
    assert shown["input_cached_tokens"] == CLAUDE_SONNET["cached"]
    assert shown["input_cache_creation"] == CLAUDE_SONNET["cache_write_5m"]
    assert shown["input_cache_creation_1h"] == CLAUDE_SONNET["cache_write_1h"]
    assert shown["output"] == shown["output_reasoning_tokens"] == CLAUDE_SONNET["output"]
    gemini = catalog.resolve("gemini-1.5-pro")
    assert gemini is not None
    assert catalog.prices_per_million(gemini, NOW_US)["input"] == GEMINI_15_PRO["input"]  # the base tier
