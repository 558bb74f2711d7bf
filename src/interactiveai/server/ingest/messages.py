"""Input and output of third-party spans: events, flattened message lists and plain attributes.

Each convention carries I/O differently (span events for OTel GenAI, ``gen_ai.prompt.N.*`` for
OpenLLMetry, ``llm.input_messages.N.message.*`` for OpenInference, JSON text for MLflow), so this
module turns each into one JSON-able value. The order of the sources is the reference's priority
order; the first source present wins, separately for input and for output.
"""

from __future__ import annotations

from typing import Any

import orjson

from interactiveai.server import json_values
from interactiveai.server.ingest.otlp import SpanEvent

_MESSAGE_EVENTS = {
    "gen_ai.system.message": "system",
    "gen_ai.user.message": "user",
    "gen_ai.assistant.message": "assistant",
    "gen_ai.tool.message": "tool",
}


def maybe_json(value: Any) -> Any:
    """Decode a string that holds JSON (many conventions JSON-encode into string attributes).

    JSON nested deeper than readers can render (``json_values.MAX_DEPTH``) stays the string it is.
    """
    if isinstance(value, str) and value[:1] in ("{", "[", '"'):
        try:
            return json_values.parse(value)
        except orjson.JSONDecodeError:
            return value
    return value


def decode_value(value: Any) -> Any:
    """A metadata value: JSON-encoded by the SDKs, so decode it; a string that is not JSON stays as is.

    Deep JSON stays a string too, and a native value (an OTLP array or key-value list) nested too
    deep keeps its deep parts as their JSON text (``json_values.bounded``).
    """
    if isinstance(value, str):
        try:
            return json_values.parse(value)
        except orjson.JSONDecodeError:
            return value
    return json_values.bounded(value) if isinstance(value, list | dict) else value


def json_text(value: Any) -> str | None:
    """The column value for input/output: JSON text as received, else the value JSON-encoded.

    Received JSON nested deeper than readers can render is stored as a JSON string holding that
    text, and a native value's deep parts as theirs (``json_values``): the span is kept, its
    payload readable by every endpoint and page, nothing of it lost.
    """
    if value is None:
        return None
    if isinstance(value, str):
        head = value.lstrip()[:1]
        if head in ("{", "[", '"') or head.isdigit() or value in ("true", "false", "null") or head == "-":
            try:
                parsed = orjson.loads(value)
            except orjson.JSONDecodeError:
                pass
            else:
                return value if json_values.fits(value, parsed) else json_values.stored_text(value)
        return orjson.dumps(value).decode()
    return json_values.dumps(value)


def events_io(events: list[SpanEvent]) -> tuple[Any, Any]:
    """(input, output) from OTel GenAI span events, or None for each side they do not give."""
    details_in: Any = None
    details_out: Any = None
    messages: list[Any] = []
    choices: list[Any] = []
    legacy_in: Any = None
    legacy_out: Any = None
    for event in events:
        name = event.name
        attrs = event.attributes
        if name == "gen_ai.client.inference.operation.details":
            details_in = maybe_json(attrs.get("gen_ai.input.messages"))
            details_out = maybe_json(attrs.get("gen_ai.output.messages"))
        elif name in _MESSAGE_EVENTS:
            message = {k: maybe_json(v) for k, v in attrs.items() if k != "gen_ai.system"}
            message.setdefault("role", _MESSAGE_EVENTS[name])
            messages.append(message)
        elif name == "gen_ai.choice":
            choice = {k: maybe_json(v) for k, v in attrs.items() if k != "gen_ai.system"}
            choices.append(choice)
        elif name == "gen_ai.content.prompt":
            legacy_in = maybe_json(attrs.get("gen_ai.prompt"))
        elif name == "gen_ai.content.completion":
            legacy_out = maybe_json(attrs.get("gen_ai.completion"))
    input_value = details_in if details_in is not None else (messages or legacy_in)
    output_value = details_out
    if output_value is None and choices:
        # one choice is shown as its message, the common case; several stay a list
        only = choices[0]
        output_value = only.get("message", only) if len(choices) == 1 else choices
    if output_value is None:
        output_value = legacy_out
    return (input_value if input_value else None), output_value


def unflatten_messages(flat: dict[str, Any], strip: str = "") -> list[dict[str, Any]] | None:
    """``{"0.role": "user", "0.content": "hi"}`` → ``[{"role": "user", "content": "hi"}]``.

    ``strip`` removes a per-message prefix such as OpenInference's ``message.``.
    """
    if not flat:
        return None
    by_index: dict[int, dict[str, Any]] = {}
    for key, value in flat.items():
        index_text, _, rest = key.partition(".")
        if not index_text.isdigit() or not rest:
            continue
        if strip and rest.startswith(strip):
            rest = rest[len(strip) :]
        by_index.setdefault(int(index_text), {})[rest] = maybe_json(value)
    if not by_index:
        return None
    return [by_index[i] for i in sorted(by_index)]


def with_system_instructions(messages: Any, instructions: Any) -> Any:
    """Prepend ``gen_ai.system_instructions`` to input messages as a system message."""
    if instructions is None:
        return messages
    system = {"role": "system", "content": maybe_json(instructions)}
    if isinstance(messages, list):
        return [system, *messages]
    if messages is None:
        return [system]
    return [system, messages]
