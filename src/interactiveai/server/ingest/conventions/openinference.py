"""OpenInference (Arize Phoenix's conventions): ``openinference.span.kind``, ``input.value`` /
``output.value``, flattened ``llm.input_messages.*`` / ``llm.output_messages.*``, ``llm.*``.

Sent by ``openinference-instrumentation-*`` (OpenAI, LangChain, LlamaIndex, the OpenAI Agents
SDK, DSPy, CrewAI, Haystack, Bedrock, …). Embedding spans name their model in
``embedding.model_name``; a failed call names it only inside ``llm.invocation_parameters``; a
stream marks its first token with a span event.

``input.value`` / ``output.value`` hold whatever the framework's method took and returned: on a
model call that is often its own objects serialised (LangChain's ``lc`` constructors and
``LLMResult``, LlamaIndex's ``ChatMessage(...)`` reprs, the Agents SDK's Response object, or
the input without the system instructions), so a model call's messages win when they say
something, and a Responses object stands for its output messages. Retrieved (and reranked)
documents win over the framework's repr of them; an embedding without ``input.value`` shows the
texts it embedded. A tool span named after the framework's method
(``FunctionTool.acall``) takes its ``tool.name``.
"""

from __future__ import annotations

import re
from typing import Any

from interactiveai.server.ingest import fields
from interactiveai.server.ingest.conventions.registry import EVENTS, Convention
from interactiveai.server.ingest.conventions.scan import Scan
from interactiveai.server.ingest.fields import TYPES
from interactiveai.server.ingest.messages import (
    maybe_json,
    response_messages,
    unflatten_documents,
    unflatten_items,
    unflatten_messages,
)

_KINDS = {"LLM": "GENERATION", "RERANKER": "RETRIEVER", "UNKNOWN": "SPAN"}
FIRST_TOKEN_EVENT = "First Token Stream Event"
# llm.cost.* (USD) → our cost keys. Its *_details.* break the prompt and completion costs down; the
# columns add up keys by side, so reading them too would count those parts twice.
_COSTS = {"prompt": "input", "completion": "output", "total": "total"}
_METHOD_NAME = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+")  # Class.method, module.Class.method
_SAYS_SOMETHING = ("content", "tool_calls", "function_call")


def _type(scan: Scan) -> str | None:
    kind = scan.found.get("openinference_kind")
    if kind is None:
        return None
    upper = str(kind).upper()
    mapped = _KINDS.get(upper, upper)
    return mapped if mapped in TYPES else None


def _value_input(scan: Scan) -> Any:
    return scan.found.get("value_input")


def _value_output(scan: Scan) -> Any:
    return scan.found.get("value_output")


def _messages_input(scan: Scan) -> Any:
    return unflatten_messages(scan.family("oi_in"), "message.")


def _messages_output(scan: Scan) -> Any:
    return unflatten_messages(scan.family("oi_out"), "message.")


def _readable(messages: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    """The messages when one of them carries text or a call (not only roles), else None."""
    if messages and any(message.get(key) is not None for message in messages for key in _SAYS_SOMETHING):
        return messages
    return None


def _model_input(scan: Scan) -> Any:
    return _readable(_messages_input(scan)) if scan.type == "GENERATION" else None


def _model_output(scan: Scan) -> Any:
    return _readable(_messages_output(scan)) if scan.type == "GENERATION" else None


def _response_output(scan: Scan) -> Any:
    """A model call whose output is an OpenAI Responses object (the Agents SDK's streamed chat
    completions): its messages. Parsed only when the text names that object."""
    value = scan.found.get("value_output")
    if scan.type != "GENERATION" or not isinstance(value, str) or '"object":' not in value or '"response"' not in value:
        return None
    return response_messages(maybe_json(value))


def _documents(scan: Scan) -> Any:
    """Retrieved documents, else a reranker's output documents."""
    return unflatten_documents(scan.family("oi_docs")) or unflatten_documents(scan.family("oi_rerank_out"))


def _reranker_input(scan: Scan) -> Any:
    query = scan.found.get("reranker_query")
    documents = unflatten_documents(scan.family("oi_rerank_in"))
    if query is None and documents is None:
        return None
    return {key: value for key, value in (("query", query), ("documents", documents)) if value is not None}


def _embedded_texts(scan: Scan) -> Any:
    """An embedding span without ``input.value``: the texts of its ``embedding.embeddings.N``."""
    items = unflatten_items(scan.family("oi_embeddings"), "embedding.")
    texts = [item["text"] for item in items or () if item.get("text") is not None]
    return texts or None


def _tool_name(scan: Scan) -> str | None:
    """``tool.name`` for a tool span named after a framework method (``FunctionTool.acall``)."""
    if scan.type != "TOOL" or not _METHOD_NAME.fullmatch(scan.span.name):
        return None
    return fields.text(scan.found.get("oi_tool_name"))


def _costs(scan: Scan) -> dict[str, Any] | None:
    costs = scan.family("oi_cost")
    if not costs:
        return None
    mapped = {name: costs[key] for key, name in _COSTS.items() if key in costs}
    return mapped or None


def _first_token(scan: Scan) -> int | None:
    for event in scan.span.events:
        if event.name == FIRST_TOKEN_EVENT and event.time_ns:
            return event.time_ns // 1000
    return None


def _prepare(scan: Scan) -> None:
    """A failed call has no ``llm.model_name``: its invocation parameters still name the model."""
    if "model" in scan.found or "openinference_kind" not in scan.found:
        return
    parameters = maybe_json(scan.found.get("model_parameters"))
    if isinstance(parameters, dict) and isinstance(parameters.get("model"), str) and parameters["model"]:
        scan.found["model"] = parameters["model"]


CONVENTION = Convention(
    name="openinference",
    rank=20,
    slots={
        "openinference_kind": ("openinference.span.kind",),
        "model": (("llm.model_name", 62), ("embedding.model_name", 63), ("reranker.model_name", 64)),
        "model_parameters": ("llm.invocation_parameters", "embedding.invocation_parameters"),
        "value_input": ("input.value",),
        "value_output": ("output.value",),
        "tags_openinference": ("tag.tags",),
        "oi_tool_name": ("tool.name",),
        "reranker_query": ("reranker.query",),
    },
    families={
        "llm.token_count.": "usage",
        "llm.invocation_parameters.": "params",
        "llm.input_messages.": "oi_in",
        "llm.output_messages.": "oi_out",
        "llm.cost.": "oi_cost",
        "retrieval.documents.": "oi_docs",
        "reranker.input_documents.": "oi_rerank_in",
        "reranker.output_documents.": "oi_rerank_out",
        "embedding.embeddings.": "oi_embeddings",  # texts and vectors (the vectors are not kept)
    },
    types=((20, _type, ("openinference_kind",)),),
    names=((20, _tool_name, ("oi_tool_name",)),),
    # before input.value / output.value (50): what they stand for, readable
    inputs=(
        (45, _model_input, ("oi_in",)),
        (46, _reranker_input, ("reranker_query", "oi_rerank_in")),
        (50, _value_input, ("value_input",)),
        (75, _messages_input, ("oi_in",)),
        (76, _embedded_texts, ("oi_embeddings",)),
    ),
    outputs=(
        (45, _model_output, ("oi_out",)),
        (46, _documents, ("oi_docs", "oi_rerank_out")),
        (47, _response_output, ("value_output",)),
        (50, _value_output, ("value_output",)),
        (75, _messages_output, ("oi_out",)),
    ),
    costs=((25, _costs, ("oi_cost",)),),
    first_token=((20, _first_token, (EVENTS,)),),
    prepare=_prepare,
    needs=("openinference_kind",),
)
