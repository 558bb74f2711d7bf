"""A basic trace with whatever versions of our dependencies the running environment holds: nested
``@observe`` functions, a generation with usage, an event, an exception, trace attributes; exported
by the SDK's own pipeline to INTERACTIVEAI_HOST. Prints the versions and the trace id as JSON."""

from __future__ import annotations

import importlib.metadata
import json

from interactiveai import InteractiveAI, get_client, observe

client = InteractiveAI()  # keys and host from the environment


@observe(as_type="generation")
def answer(question: str) -> str:
    get_client().update_current_generation(model="gpt-4o-mini", usage_details={"input": 12, "output": 3})
    return "Echo: " + question


@observe
def fails() -> None:
    raise ValueError("expected failure")


@observe(name="lowest-dependencies")
def scenario(question: str) -> str:
    get_client().update_current_trace(user_id="user-1", tags=["lowest"])
    client.create_event(name="checkpoint", metadata={"step": 1})
    try:
        fails()
    except ValueError:
        pass
    return answer(question)


assert scenario("Hello") == "Echo: Hello"
assert client.flush(timeout=30), "not every span was delivered"
versions = {name: importlib.metadata.version(name) for name in ("opentelemetry-api", "opentelemetry-sdk", "orjson")}
print(json.dumps({"versions": versions}))
