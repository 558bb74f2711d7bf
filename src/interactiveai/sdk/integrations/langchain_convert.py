"""LangChain values → observation fields: messages as the chat shape, run names and types, the
model and its parameters, and the output and usage of an ``LLMResult``.

Messages, prompt values and documents are turned into plain data here (``plain``): the chat shape
the UI renders, at a fraction of the cost of pydantic's ``model_dump`` (every run of a chain pays it).
Fields are read from the models' ``__dict__`` (``fields_of``), never through pydantic's slow
``__getattr__`` for a field a message type lacks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from langchain_core.documents import Document
from langchain_core.messages import BaseMessage
from langchain_core.prompt_values import ChatPromptValue, StringPromptValue

from interactiveai.sdk.integrations.usage import field, fields_of, langchain_usage

# LangChain message ``type`` → chat role.
_ROLES: Final = {
    "human": "user",
    "HumanMessageChunk": "user",
    "ai": "assistant",
    "AIMessageChunk": "assistant",
    "system": "system",
    "SystemMessageChunk": "system",
    "tool": "tool",
    "ToolMessageChunk": "tool",
    "function": "function",
    "FunctionMessageChunk": "function",
}
# invocation_params keys that name the model or the integration, not a parameter.
_NOT_PARAMETERS: Final = frozenset(
    ("_type", "model", "model_name", "model_id", "deployment_name", "stream", "streaming")
)
# Never recorded: anything that looks like a credential.
_SECRET: Final = re.compile(r"api_?key|secret|password|authorization|credential|access_token", re.IGNORECASE)
_TRACE_KEYS: Final = {
    "interactiveai_session_id": "session_id",
    "interactiveai_user_id": "user_id",
    "interactiveai_tags": "tags",
}
HIDDEN_TAG: Final = "langsmith:hidden"


_OTHER, _MESSAGE, _CHAT_PROMPT, _STRING_PROMPT, _DOCUMENT = 0, 1, 2, 3, 4
# What each class is, decided once per class: ``isinstance`` against pydantic models goes through
# their metaclass's Python-level check (~0.7-2 µs each), several per value otherwise.
_KINDS: dict[type, int] = {}


def _kind(cls: type) -> int:
    kind = _KINDS.get(cls)
    if kind is None:
        if issubclass(cls, BaseMessage):
            kind = _MESSAGE
        elif issubclass(cls, ChatPromptValue):
            kind = _CHAT_PROMPT
        elif issubclass(cls, StringPromptValue):
            kind = _STRING_PROMPT
        elif issubclass(cls, Document):
            kind = _DOCUMENT
        else:
            kind = _OTHER
        if len(_KINDS) < 1024:
            _KINDS[cls] = kind
    return kind


def message_dict(message: Any) -> Any:
    """A LangChain message as ``{"role", "content", ...}``; anything else as it is."""
    if _kind(type(message)) != _MESSAGE:
        return message
    values = fields_of(message)
    kind = values.get("type")
    role = values.get("role") if kind in ("chat", "ChatMessageChunk") else _ROLES.get(str(kind), kind)
    out: dict[str, Any] = {"role": role, "content": values.get("content")}
    for key in ("tool_calls", "tool_call_id", "name", "additional_kwargs"):
        value = values.get(key)
        if value:
            out[key] = value
    return out


_PRIMITIVES: Final = frozenset((str, int, float, bool, type(None)))


def plain(value: Any, depth: int = 0) -> Any:
    """Messages, prompt values and documents (also inside dicts and lists) as plain data.

    Anything else is returned as it is (the serializer copes with it); a container is copied only
    when something in it was converted.
    """
    kind = type(value)
    if kind in _PRIMITIVES or depth > 4:
        return value
    if kind is dict:
        converted = {key: plain(item, depth + 1) for key, item in value.items()}
        return value if all(converted[k] is value[k] for k in value) else converted
    if kind is list or kind is tuple:
        items = [plain(item, depth + 1) for item in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    category = _kind(kind)
    if category == _MESSAGE:
        return message_dict(value)
    if category == _CHAT_PROMPT:
        return {"messages": [message_dict(m) for m in value.messages]}
    if category == _STRING_PROMPT:
        return value.text
    if category == _DOCUMENT:
        return {"page_content": value.page_content, "metadata": value.metadata}
    return value


def run_name(serialized: Mapping[str, Any] | None, kwargs: Mapping[str, Any]) -> str:
    """The run's name: the ``name`` LangChain passes, else the serialized name or class."""
    name = kwargs.get("name")
    if name:
        return str(name)
    if isinstance(serialized, Mapping):
        if serialized.get("name"):
            return str(serialized["name"])
        ids = serialized.get("id")
        if isinstance(ids, list) and ids:
            return str(ids[-1])
    return "<unknown>"


_CHAIN_TYPES: dict[tuple[Any, ...], str] = {}


def chain_type(serialized: Mapping[str, Any] | None, name: str) -> str:
    """``agent`` for agent runnables (by class path or name, as the peer handler decides), else ``chain``."""
    ids = serialized.get("id") if isinstance(serialized, Mapping) else None
    key: tuple[Any, ...] | None = (name, *ids) if type(ids) is list else (name,)
    try:
        found = _CHAIN_TYPES.get(key)  # type: ignore[arg-type]  # a chain's runs repeat a few names and classes
    except TypeError:  # an unhashable part: not cached
        found = key = None
    if found is not None:
        return found
    agent = "agent" in name.lower() or (isinstance(ids, list) and any("agent" in str(part).lower() for part in ids))
    found = "agent" if agent else "chain"
    if key is not None and len(_CHAIN_TYPES) < 1024:
        _CHAIN_TYPES[key] = found
    return found


def split_metadata(
    tags: Sequence[str] | None, metadata: Mapping[str, Any] | None
) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """The observation metadata (tags under ``tags``) and the trace attributes named in it."""
    out: dict[str, Any] = {}
    trace: dict[str, Any] = {}
    if tags:
        out["tags"] = list(tags)
    if metadata:
        for key, value in metadata.items():
            attribute = _TRACE_KEYS.get(key)
            if attribute is None:
                out[key] = value
            elif value is not None:
                trace[attribute] = [value] if attribute == "tags" and isinstance(value, str) else value
    return out or None, trace


def model_name(serialized: Mapping[str, Any] | None, metadata: Mapping[str, Any] | None, params: Any) -> str | None:
    """The model a chat model or LLM run calls."""
    for source, keys in (
        (metadata, ("ls_model_name",)),
        (params, ("model", "model_name", "model_id", "deployment_name")),
        (serialized.get("kwargs") if isinstance(serialized, Mapping) else None, ("model", "model_name")),
    ):
        if isinstance(source, Mapping):
            for key in keys:
                value = source.get(key)
                if isinstance(value, str) and value:
                    return value
    return None


def model_parameters(params: Any) -> dict[str, Any] | None:
    """The invocation parameters that configure the model (set, and not credentials)."""
    if not isinstance(params, Mapping):
        return None
    out = {
        key: value
        for key, value in params.items()
        if value is not None and key not in _NOT_PARAMETERS and not _is_secret(key)
    }
    return out or None


_SECRETS: dict[Any, bool] = {}


def _is_secret(key: Any) -> bool:
    """Whether a parameter's name looks like a credential (decided once per name)."""
    found = _SECRETS.get(key)
    if found is None:
        found = _SECRET.search(str(key)) is not None
        if len(_SECRETS) < 1024:
            _SECRETS[key] = found
    return found


def llm_input(messages: Any, params: Any) -> Any:
    """A chat model's messages (one conversation flattened), with the tools offered to it if any."""
    flat = [message_dict(m) for batch in messages for m in batch] if messages else []
    tools = params.get("tools") if isinstance(params, Mapping) else None
    return {"messages": flat, "tools": tools} if tools else flat


def _richer(first: dict[str, int] | None, second: dict[str, int] | None) -> dict[str, int] | None:
    """The usage with more detail: older LangChain versions' ``usage_metadata`` lacks the cached and
    reasoning counts that the provider's raw ``token_usage`` has."""
    if first is None or (second is not None and len(second) > len(first)):
        return second
    return first


def llm_output(response: Any) -> tuple[Any, str | None, dict[str, int] | None]:
    """Output, model and usage of an ``LLMResult``."""
    generations = [g for batch in field(response, "generations") or () for g in batch]
    outputs: list[Any] = []
    usage: dict[str, int] | None = None
    model: str | None = None
    for generation in generations:
        values = fields_of(generation)
        message = values.get("message")
        if message is not None:
            outputs.append(message_dict(message))
            usage = usage or langchain_usage(field(message, "usage_metadata"))
            metadata = field(message, "response_metadata")
            if isinstance(metadata, Mapping):
                found = metadata.get("model_name") or metadata.get("model")
                model = model or (found if isinstance(found, str) else None)
        else:
            outputs.append(values.get("text"))
        info = values.get("generation_info")
        if usage is None and isinstance(info, Mapping):
            usage = langchain_usage(info.get("usage_metadata"))
    llm = field(response, "llm_output")
    if isinstance(llm, Mapping):
        usage = _richer(usage, langchain_usage(llm.get("token_usage") or llm.get("usage")))
        found = llm.get("model_name") or llm.get("model")
        model = (found if isinstance(found, str) and found else None) or model
    output = outputs[0] if len(outputs) == 1 else (outputs or None)
    return output, model, usage


def is_control_flow(error: BaseException) -> bool:
    """LangGraph's interrupts and hand-offs travel as exceptions; they are not failures."""
    return any(cls.__name__ == "GraphBubbleUp" for cls in type(error).__mro__)


def has_hidden_tag(tags: Sequence[str] | None) -> bool:
    return bool(tags) and HIDDEN_TAG in tags  # type: ignore[operator]


def first_token_event(event: Any) -> bool:
    """A v3 stream event that carries output (a content delta)."""
    kind = field(event, "event")
    return isinstance(kind, str) and kind.endswith("delta")
