"""OpenInference (Arize Phoenix's conventions): ``openinference.span.kind``, ``input.value`` /
``output.value``, flattened ``llm.input_messages.*`` / ``llm.output_messages.*``, ``llm.*``.

Sent by ``openinference-instrumentation-*`` (OpenAI, LangChain, LlamaIndex, the OpenAI Agents
SDK, …). Embedding spans name their model in ``embedding.model_name``; a failed call names it only
inside ``llm.invocation_parameters``; a stream marks its first token with a span event.
"""

from __future__ import annotations

from typing import Any

from interactiveai.server.ingest.conventions.registry import EVENTS, Convention
from interactiveai.server.ingest.conventions.scan import Scan
from interactiveai.server.ingest.fields import TYPES
from interactiveai.server.ingest.messages import maybe_json, unflatten_messages

_KINDS = {"LLM": "GENERATION", "RERANKER": "RETRIEVER", "UNKNOWN": "SPAN"}
FIRST_TOKEN_EVENT = "First Token Stream Event"
# llm.cost.* (USD) → our cost keys. Its *_details.* break the prompt and completion costs down; the
# columns add up keys by side, so reading them too would count those parts twice.
_COSTS = {"prompt": "input", "completion": "output", "total": "total"}


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
        "model": (("llm.model_name", 62), ("embedding.model_name", 63)),
        "model_parameters": ("llm.invocation_parameters", "embedding.invocation_parameters"),
        "value_input": ("input.value",),
        "value_output": ("output.value",),
        "tags_openinference": ("tag.tags",),
    },
    families={
        "llm.token_count.": "usage",
        "llm.invocation_parameters.": "params",
        "llm.input_messages.": "oi_in",
        "llm.output_messages.": "oi_out",
        "llm.cost.": "oi_cost",
    },
    types=((20, _type, ("openinference_kind",)),),
    inputs=((50, _value_input, ("value_input",)), (75, _messages_input, ("oi_in",))),
    outputs=((50, _value_output, ("value_output",)), (75, _messages_output, ("oi_out",))),
    costs=((25, _costs, ("oi_cost",)),),
    first_token=((20, _first_token, (EVENTS,)),),
    prepare=_prepare,
    needs=("openinference_kind",),
)
