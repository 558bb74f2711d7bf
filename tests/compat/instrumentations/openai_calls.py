"""The OpenAI calls every instrumentation scenario makes, with the plain ``openai`` client.

Chat, streaming (usage requested, as instrumentations advise), a tool call answered and
followed up, embeddings and a call the server rejects. Models are priced ones, so cost can be
checked; the fake server reports cached and reasoning tokens on every chat answer.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

from _scenario import expect_failure
from openai import OpenAI

CHAT_MODEL = "gpt-4o-mini"
EMBEDDING_MODEL = "text-embedding-3-small"
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def client() -> OpenAI:
    return OpenAI(base_url=os.environ["OPENAI_BASE_URL"], api_key="sk-fake", max_retries=0)


def chat(api: OpenAI) -> None:
    api.chat.completions.create(
        model=CHAT_MODEL,
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello chat"}],
        temperature=0.2,
        max_tokens=50,
    )


def stream(api: OpenAI) -> None:
    chunks = api.chat.completions.create(
        model=CHAT_MODEL,
        messages=[{"role": "user", "content": "Hello stream"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Echo: Hello stream", text


def tools(api: OpenAI) -> None:
    messages: list[Any] = [{"role": "user", "content": "Weather in Paris?"}]
    first = api.chat.completions.create(model=CHAT_MODEL, messages=messages, tools=[WEATHER_TOOL])
    call = first.choices[0].message.tool_calls[0]
    messages.append(first.choices[0].message.model_dump(exclude_none=True))
    result = {"city": json.loads(call.function.arguments)["city"], "sky": "sunny"}
    messages.append({"role": "tool", "tool_call_id": call.id, "content": json.dumps(result)})
    api.chat.completions.create(model=CHAT_MODEL, messages=messages, tools=[WEATHER_TOOL])


def embeddings(api: OpenAI) -> None:
    api.embeddings.create(model=EMBEDDING_MODEL, input=["Hello embeddings"])


def failure(api: OpenAI) -> None:
    expect_failure(
        lambda: api.chat.completions.create(model=CHAT_MODEL, messages=[{"role": "user", "content": "FAIL now"}])
    )


def scenarios() -> dict[str, Callable[[], Any]]:
    api = client()
    calls = {"chat": chat, "stream": stream, "tools": tools, "embeddings": embeddings, "failure": failure}
    return {name: (lambda call=call: call(api)) for name, call in calls.items()}
