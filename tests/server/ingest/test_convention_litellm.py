"""LiteLLM's OpenTelemetry callback spans (``litellm.callbacks = ["otel"]``), with the attributes
LiteLLM 1.110 writes, posted through the endpoint and read back from the database: its own cost
(``gen_ai.cost.*``), the cached and reasoning tokens of its usage object, its tool calls.
(tests/compat/test_frameworks.py drives the real library.)"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from tests.server.ingest.conftest import Ingest
from tests.server.ingest.otlp_builders import SpanSpec, span_id, trace_id

USAGE_OBJECT = (
    "{'completion_tokens': 17, 'prompt_tokens': 42, 'total_tokens': 59, 'completion_tokens_details': "
    "{'accepted_prediction_tokens': None, 'audio_tokens': 0, 'reasoning_tokens': 5, 'rejected_prediction_tokens': "
    "None}, 'prompt_tokens_details': {'audio_tokens': 0, 'cached_tokens': 10, 'text_tokens': None, "
    "'image_tokens': None}}"
)
CHAT = {
    "metadata.user_api_key_hash": "",
    "metadata.applied_guardrails": "[]",
    "metadata.usage_object": USAGE_OBJECT,
    "hidden_params": '{"model_id": null, "response_cost": 1.575e-05}',
    "litellm.provider.model": "openai/gpt-4o-mini",
    "gen_ai.cost.total_cost": 1.575e-05,
    "gen_ai.cost.input_cost": 5.55e-06,
    "gen_ai.cost.output_cost": 1.02e-05,
    "gen_ai.cost.tool_usage_cost": 0.0,
    "gen_ai.cost.cache_read_cost": 7.5e-07,
    "gen_ai.cost.reasoning_cost": 3e-06,
    "gen_ai.cost.original_cost": 1.575e-05,
    "gen_ai.cost.discount_percent": 0.0,
    "litellm.cache_hit": False,
    "gen_ai.request.model": "gpt-4o-mini",
    "llm.request.type": "completion",
    "gen_ai.system": "openai",
    "gen_ai.request.temperature": 0.2,
    "llm.is_streaming": "False",
    "gen_ai.response.id": "chatcmpl-1",
    "litellm.call_id": "38cbca03-91ae-4606-82fb-a4860ceb2a35",
    "gen_ai.response.model": "gpt-4o-mini",
    "gen_ai.usage.total_tokens": 59,
    "gen_ai.usage.output_tokens": 17,
    "gen_ai.usage.input_tokens": 42,
    "gen_ai.input.messages": '[{"role": "user", "parts": [{"type": "text", "content": "Hello"}]}]',
    "gen_ai.operation.name": "chat",
    "gen_ai.output.messages": '[{"role": "assistant", "parts": [{"type": "text", "content": "Hi"}]}]',
    "gen_ai.response.finish_reasons": ["stop"],
}


def _post(ingest: Ingest, attributes: dict[str, Any], scope: str = "litellm") -> dict[str, Any]:
    tid, sid = trace_id(), span_id()
    ingest.ok([SpanSpec(tid, sid, "litellm_request", attributes=attributes)], scope=scope)
    return ingest.observation(tid, sid)


def test_its_cost_wins_split_by_usage_type(ingest: Ingest) -> None:
    obs = _post(ingest, CHAT)
    assert obs["type"] == "GENERATION" and obs["model"] == "gpt-4o-mini"
    assert obs["cost_source"] == "provided"
    assert obs["total_cost"] == pytest.approx(1.575e-05)
    costs = obs["cost_details"]
    assert costs["input"] == pytest.approx(4.8e-06) and costs["input_cached_tokens"] == pytest.approx(7.5e-07)
    assert costs["output"] == pytest.approx(7.2e-06) and costs["output_reasoning_tokens"] == pytest.approx(3e-06)
    assert obs["input_cost"] == pytest.approx(5.55e-06) and obs["output_cost"] == pytest.approx(1.02e-05)


def test_cached_and_reasoning_tokens_come_from_its_usage_object(ingest: Ingest) -> None:
    obs = _post(ingest, CHAT)
    assert obs["usage_details"] == {
        "input": 32,
        "input_cached_tokens": 10,
        "input_audio_tokens": 0,
        "output": 12,
        "output_reasoning_tokens": 5,
        "output_audio_tokens": 0,
        "total": 59,
    }
    assert (obs["input_tokens"], obs["output_tokens"], obs["total_tokens"]) == (42, 17, 59)


def test_its_keys_are_read_on_an_application_span_it_wrote_onto(ingest: Ingest) -> None:
    # Under a parent span LiteLLM sets its attributes on that span (the application's scope).
    obs = _post(ingest, CHAT, scope="my-app")
    assert obs["usage_details"]["input_cached_tokens"] == 10
    assert obs["cost_source"] == "provided"


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('echo owned')",
        "{'prompt_tokens': __import__('os')}",
        "{" * 3000 + "}" * 3000,
        "{'prompt_tokens': " + "9" * 4000 + "}",
        "{'prompt_tokens': " + "9" * 5000 + "}",
        "{'prompt_tokens': 1" + " " * 5000 + "}",
        "[1, 2]",
        "{}",
        "{'prompt_tokens': 'many'}",
        "not a dict",
    ],
)
def test_an_unreadable_usage_object_leaves_the_plain_counts(ingest: Ingest, text: str) -> None:
    obs = _post(ingest, {**CHAT, "metadata.usage_object": text})
    assert (obs["input_tokens"], obs["output_tokens"], obs["total_tokens"]) == (42, 17, 59)
    assert "input_cached_tokens" not in obs["usage_details"]


def test_cost_parts_larger_than_their_side_are_not_taken_out(ingest: Ingest) -> None:
    attributes = {**CHAT, "gen_ai.cost.cache_read_cost": 1.0, "gen_ai.cost.reasoning_cost": "NaN"}
    costs = _post(ingest, attributes)["cost_details"]
    assert costs["input"] == pytest.approx(5.55e-06) and "input_cached_tokens" not in costs
    assert costs["output"] == pytest.approx(1.02e-05) and "output_reasoning_tokens" not in costs
    assert costs["total"] == pytest.approx(1.575e-05)


def test_a_failed_call_without_cost_is_priced_by_us(ingest: Ingest) -> None:
    attributes = {k: v for k, v in CHAT.items() if not k.startswith("gen_ai.cost.")}
    obs = _post(ingest, {**attributes, "metadata.usage_object": "{}"})
    assert obs["cost_source"] != "provided"


def test_a_tool_call_is_an_assistant_message_with_its_calls(ingest: Ingest) -> None:
    attributes = {
        **CHAT,
        "gen_ai.output.messages": '[{"role": "assistant", "parts": [], "finish_reason": "tool_calls"}]',
        "gen_ai.response.finish_reasons": ["tool_calls"],
        "gen_ai.completion.0.function_call.arguments": '{"city": "Paris"}',
        "gen_ai.completion.0.function_call.name": "get_weather",
    }
    obs = _post(ingest, attributes)
    assert obs["output"] is not None
    assert orjson.loads(obs["output"]) == [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}],
        }
    ]


def test_the_same_flattened_completion_from_another_library_is_left_to_its_convention(ingest: Ingest) -> None:
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.completion.0.function_call.name": "get_weather",
        "gen_ai.completion.0.function_call.arguments": "{}",
    }
    obs = _post(ingest, attributes, scope="opentelemetry.instrumentation.openai")
    assert "tool_calls" not in str(obs["output"])
