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


def unflatten_items(flat: dict[str, Any], strip: str = "") -> list[dict[str, Any]] | None:
    """``{"0.a.b": 1, "0.c.0.d": 2}`` → ``[{"a": {"b": 1}, "c": [{"d": 2}]}]``: a flattened list of
    objects rebuilt, every dotted path nested and every run of numbered keys a list again.

    ``strip`` removes a per-item prefix such as OpenInference's ``message.`` or ``document.``.
    Values stay as sent; a path that collides with a value already placed is skipped.
    """
    if not flat:
        return None
    by_index: dict[int, dict[str, Any]] = {}
    nested: set[int] = set()
    for key, value in flat.items():
        index_text, _, rest = key.partition(".")
        if not index_text.isdigit() or not rest:
            continue
        if strip and rest.startswith(strip):
            rest = rest[len(strip) :]
        index = int(index_text)
        item = by_index.get(index)
        if item is None:
            item = by_index[index] = {}
        if "." not in rest:
            item.setdefault(rest, value)
        else:
            _place(item, rest.split("."), value)
            nested.add(index)
    if not by_index:
        return None
    return [_listed(by_index[i]) if i in nested else by_index[i] for i in sorted(by_index)]


def _place(node: dict[str, Any], path: list[str], value: Any) -> None:
    for part in path[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            return  # a value sits where the path goes on
        node = child
    node.setdefault(path[-1], value)


def _listed(node: dict[str, Any]) -> dict[str, Any]:
    """Nested objects whose keys are all numbers become lists in their order (changed in place)."""
    for key, value in node.items():
        if value.__class__ is dict:
            _listed(value)
            if all(map(str.isdigit, value)):  # never empty: _place made it for a key
                node[key] = list(value.values()) if len(value) == 1 else [value[k] for k in sorted(value, key=int)]
    return node


def unflatten_messages(flat: dict[str, Any], strip: str = "") -> list[dict[str, Any]] | None:
    """``{"0.role": "user", "0.content": "hi"}`` → ``[{"role": "user", "content": "hi"}]``.

    ``strip`` removes a per-message prefix such as OpenInference's ``message.``. Tool calls and
    content parts sent flattened inside a message (OpenInference's ``tool_calls.N.tool_call.*``
    and ``contents.N.message_content.*``, OpenLLMetry's ``tool_calls.N.*``) become the OpenAI
    shapes, ``tool_calls: [{id, type, function: {name, arguments}}]`` and content parts.
    """
    items = unflatten_items(flat, strip)
    return None if items is None else [chat_message(item) for item in items]


_RESHAPED = frozenset({"tool_calls", "contents", "function_call_name", "function_call_arguments_json"})


def chat_message(item: dict[str, Any]) -> dict[str, Any]:
    """One rebuilt message in the OpenAI chat shape (keys it does not know kept as they are)."""
    if _RESHAPED.isdisjoint(item):  # the common case: role and content (changed in place)
        if "content" in item:
            item["content"] = maybe_json(item["content"])  # some libraries JSON-encode a list of parts
        return item
    message: dict[str, Any] = {}
    parts: list[Any] | None = None
    function_call: dict[str, Any] = {}
    for key, value in item.items():
        if key == "content":
            message["content"] = maybe_json(value)
        elif key == "tool_calls" and isinstance(value, list):
            message["tool_calls"] = [_tool_call(call) for call in value]
        elif key == "contents" and isinstance(value, list):
            parts = [_content_part(part) for part in value]
        elif key == "function_call_name":
            function_call["name"] = value
        elif key == "function_call_arguments_json":
            function_call["arguments"] = value
        else:
            message[key] = value
    if parts:
        content = message.get("content")
        if content is None or content == "" or any(part.get("type") != "text" for part in parts):
            only_text = len(parts) == 1 and parts[0].get("type") == "text"
            message["content"] = parts[0].get("text", "") if only_text else parts
    if function_call:
        message["function_call"] = function_call
    return message


def _tool_call(value: Any) -> Any:
    call = value.get("tool_call", value) if isinstance(value, dict) else value
    if not isinstance(call, dict):
        return call
    function = call.get("function")
    if not isinstance(function, dict):  # the name and arguments on the call itself (OpenLLMetry)
        function = {key: call[key] for key in ("name", "arguments") if key in call}
    shaped = {"id": call["id"]} if "id" in call else {}
    shaped["type"] = call.get("type", "function")
    shaped["function"] = function
    shaped.update((k, v) for k, v in call.items() if k not in ("id", "type", "function", "name", "arguments"))
    return shaped


def _content_part(value: Any) -> dict[str, Any]:
    part = value.get("message_content", value) if isinstance(value, dict) else {"text": value}
    if not isinstance(part, dict):
        return {"type": "text", "text": part}
    kind = part.get("type")
    if kind == "text" or (kind is None and "text" in part):
        return {"type": "text", "text": part.get("text", "")}
    image = part.get("image")
    if isinstance(image, dict):  # OpenInference: message_content.image.image.url
        inner = image.get("image", image)
        url = inner.get("url") if isinstance(inner, dict) else None
        if url is not None:
            return {"type": "image_url", "image_url": {"url": url}}
    return part


def response_messages(value: Any) -> list[dict[str, Any]] | None:
    """An OpenAI Responses API object (or a list holding one) → its output as assistant messages
    (text parts joined, function calls as ``tool_calls``); None for anything else."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if not isinstance(value, dict) or value.get("object") != "response" or not isinstance(value.get("output"), list):
        return None
    messages: list[dict[str, Any]] = []
    calls: list[dict[str, Any]] = []
    for item in value["output"]:
        if not isinstance(item, dict):
            continue
        kind = item.get("type")
        if kind == "message":
            parts = item.get("content")
            texts = [p.get("text") for p in parts if isinstance(p, dict)] if isinstance(parts, list) else []
            content: Any = parts
            if all(isinstance(text, str) for text in texts):
                content = "".join(str(text) for text in texts)  # output_text parts: the answer's text
            messages.append({"role": item.get("role", "assistant"), "content": content})
        elif kind == "function_call":
            function = {"name": item.get("name"), "arguments": item.get("arguments")}
            calls.append({"id": item.get("call_id", item.get("id")), "type": "function", "function": function})
    if calls:
        messages.append({"role": "assistant", "tool_calls": calls})
    return messages or None


def unflatten_documents(flat: dict[str, Any]) -> list[dict[str, Any]] | None:
    """OpenInference's ``N.document.{id,content,score,metadata}`` → a list of documents (metadata,
    sent as JSON text, decoded)."""
    documents = unflatten_items(flat, "document.")
    if documents is None:
        return None
    for document in documents:
        if "metadata" in document:
            document["metadata"] = maybe_json(document["metadata"])
    return documents


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
