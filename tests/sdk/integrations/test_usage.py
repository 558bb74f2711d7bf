"""Token usage and provider-reported cost read from the openai library's own models (and plain
dicts), in the disjoint keys the server prices."""

from __future__ import annotations

from typing import Any

import pytest
from openai.types import CompletionUsage
from openai.types.responses import ResponseUsage

from interactiveai.sdk.integrations.usage import langchain_usage, openai_usage_and_cost

CHAT = {
    "prompt_tokens": 42,
    "completion_tokens": 17,
    "total_tokens": 59,
    "prompt_tokens_details": {"cached_tokens": 10, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 5, "audio_tokens": 0},
}
EXPECTED = {"input_cached_tokens": 10, "input": 32, "output_reasoning_tokens": 5, "output": 12, "total": 59}


@pytest.mark.parametrize("as_model", [True, False])
def test_chat_usage_with_a_provider_cost(as_model: bool) -> None:
    raw: dict[str, Any] = {**CHAT, "cost": 0.0012}  # OpenRouter's extra field
    usage = CompletionUsage.model_validate(raw) if as_model else raw
    assert openai_usage_and_cost(usage) == (EXPECTED, {"total": 0.0012})


@pytest.mark.parametrize("cost", [None, -1, True, "0.5"])
def test_no_cost_unless_a_non_negative_number(cost: Any) -> None:
    usage = CompletionUsage.model_validate({**CHAT, "cost": cost})
    assert openai_usage_and_cost(usage) == (EXPECTED, None)


def test_responses_api_usage_and_missing_usage() -> None:
    usage = ResponseUsage.model_validate(
        {
            "input_tokens": 42,
            "output_tokens": 17,
            "total_tokens": 59,
            "input_tokens_details": {"cached_tokens": 10, "cache_write_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": 5},
        }
    )
    assert openai_usage_and_cost(usage) == (EXPECTED, None)
    assert openai_usage_and_cost(None) == (None, None)
    assert openai_usage_and_cost({"prompt_tokens": 3}) == ({"input": 3, "total": 3}, None)


def test_langchain_usage_metadata_and_raw_token_usage() -> None:
    metadata = {
        "input_tokens": 42,
        "output_tokens": 17,
        "total_tokens": 59,
        "input_token_details": {"cache_read": 10},
        "output_token_details": {"reasoning": 5},
    }
    assert langchain_usage(metadata) == EXPECTED
    assert langchain_usage(CHAT) == EXPECTED  # an OpenAI-shaped token_usage from llm_output
