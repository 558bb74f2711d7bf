"""LiteLLM's own OpenTelemetry callback (``litellm.callbacks = ["otel"]``), as its docs set it up.

The callback builds its tracer provider and OTLP/HTTP exporter from ``OTEL_EXPORTER``,
``OTEL_ENDPOINT`` and ``OTEL_HEADERS`` (passed by the test: our server and key). Scenarios: a chat
call; a streamed chat with usage; a tool call; an embedding; a call nested under an application's
own span; a call the provider refuses.
"""

from __future__ import annotations

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no price list download at import (no network)

import litellm
from _export import Session, openai_base_url
from opentelemetry import trace

litellm.callbacks = ["otel"]
base_url = openai_base_url()
MESSAGES = [{"role": "system", "content": "You answer briefly."}, {"role": "user", "content": "Hello LiteLLM"}]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "The current weather in a city.",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
]


def chat(**kwargs: object) -> object:
    options = {"model": "openai/gpt-4o-mini", "api_base": base_url, "api_key": "sk-fake", "messages": MESSAGES}
    return litellm.completion(**{**options, **kwargs})


session = Session("litellm-app", library_provider=True)

with session.scenario("chat"):
    chat(temperature=0.2, max_tokens=50)
    session.settle(1)

with session.scenario("stream"):
    text = "".join(
        chunk.choices[0].delta.content or ""
        for chunk in chat(stream=True, stream_options={"include_usage": True}, messages=[MESSAGES[1]])
        if chunk.choices
    )
    assert text == "Echo: Hello LiteLLM", text
    session.settle(1)

with session.scenario("tool"):
    chat(messages=[{"role": "user", "content": "What is the weather in Paris?"}], tools=TOOLS)
    session.settle(1)

with session.scenario("embedding"):
    litellm.embedding(
        model="openai/text-embedding-3-small", input=["Paris is in France."], api_base=base_url, api_key="sk-fake"
    )
    session.settle(1)

with session.scenario("nested"):
    with trace.get_tracer("my-app").start_as_current_span("answer-question"):
        chat(messages=[{"role": "user", "content": "Nested call"}])
        # LiteLLM writes onto the open parent span from its logging thread: let it finish first
        session.settle(1)
    session.settle(2)

with session.scenario("failure", expect_error=True):
    try:
        chat(model="openai/fail-model", num_retries=0)
    finally:
        session.settle(1)

session.finish()
