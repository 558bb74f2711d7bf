"""LangChain values → observation fields: messages as the chat shape, run names and types, the
model and its parameters, and the output and usage of an ``LLMResult``.

Everything is read through attributes and ``type`` strings rather than LangChain classes, so it
works across langchain-core versions and costs no imports.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from interactiveai.sdk.integrations.usage import field, langchain_usage

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


def message_dict(message: Any) -> Any:
    """A LangChain message as ``{"role", "content", ...}``; anything else as it is."""
    kind = getattr(message, "type", None)
    if not isinstance(kind, str) or not hasattr(message, "content"):
        return message
    role = getattr(message, "role", None) if kind in ("chat", "ChatMessageChunk") else _ROLES.get(kind, kind)
    out: dict[str, Any] = {"role": role, "content": message.content}
    tool_calls = getattr(message, "tool_calls", None)
    if tool_calls:
        out["tool_calls"] = tool_calls
    tool_call_id = getattr(message, "tool_call_id", None)
    if tool_call_id:
        out["tool_call_id"] = tool_call_id
    name = getattr(message, "name", None)
    if name:
        out["name"] = name
    extra = getattr(message, "additional_kwargs", None)
    if extra:
        out["additional_kwargs"] = extra
    return out


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


def chain_type(serialized: Mapping[str, Any] | None, name: str) -> str:
    """``agent`` for agent runnables (by class path or name, as the peer handler decides), else ``chain``."""
    if "agent" in name.lower():
        return "agent"
    ids = serialized.get("id") if isinstance(serialized, Mapping) else None
    if isinstance(ids, list) and any("agent" in str(part).lower() for part in ids):
        return "agent"
    return "chain"


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
        if value is not None and key not in _NOT_PARAMETERS and not _SECRET.search(str(key))
    }
    return out or None


def llm_input(messages: Any, params: Any) -> Any:
    """A chat model's messages (one conversation flattened), with the tools offered to it if any."""
    flat = [message_dict(m) for batch in messages for m in batch] if messages else []
    tools = params.get("tools") if isinstance(params, Mapping) else None
    return {"messages": flat, "tools": tools} if tools else flat


def llm_output(response: Any) -> tuple[Any, str | None, dict[str, int] | None]:
    """Output, model and usage of an ``LLMResult``."""
    generations = [g for batch in getattr(response, "generations", None) or () for g in batch]
    outputs: list[Any] = []
    usage: dict[str, int] | None = None
    model: str | None = None
    for generation in generations:
        message = getattr(generation, "message", None)
        if message is not None:
            outputs.append(message_dict(message))
            usage = usage or langchain_usage(getattr(message, "usage_metadata", None))
            metadata = getattr(message, "response_metadata", None)
            if isinstance(metadata, Mapping):
                found = metadata.get("model_name") or metadata.get("model")
                model = model or (found if isinstance(found, str) else None)
        else:
            outputs.append(getattr(generation, "text", None))
        info = getattr(generation, "generation_info", None)
        if usage is None and isinstance(info, Mapping):
            usage = langchain_usage(info.get("usage_metadata"))
    llm = getattr(response, "llm_output", None)
    if isinstance(llm, Mapping):
        if usage is None:
            usage = langchain_usage(llm.get("token_usage") or llm.get("usage"))
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
