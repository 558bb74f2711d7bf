"""OpenTelemetry GenAI semantic conventions (``gen_ai.*`` attributes and span events).

Sent by OpenTelemetry's own instrumentations (``opentelemetry-instrumentation-openai-v2`` and
the ``util-genai`` handler), and partly by most other libraries (OpenLLMetry, Logfire, Pydantic
AI). The operation names the observation type; messages come as span events (older semantic
conventions, the ``operation.details`` event) or as ``gen_ai.input/output.messages`` attributes;
usage as ``gen_ai.usage.*`` (inclusive counts, normalised by ``usage.py``).
"""

from __future__ import annotations

from typing import Any

from interactiveai.server.ingest import fields
from interactiveai.server.ingest.conventions.registry import EVENTS as EVENTS_NEED
from interactiveai.server.ingest.conventions.registry import Convention
from interactiveai.server.ingest.conventions.scan import Scan
from interactiveai.server.ingest.messages import events_io, maybe_json, with_system_instructions

OPERATION_TYPES = {
    "chat": "GENERATION",
    "completion": "GENERATION",
    "text_completion": "GENERATION",
    "generate_content": "GENERATION",
    "generate": "GENERATION",
    "embeddings": "EMBEDDING",
    "invoke_agent": "AGENT",
    "create_agent": "AGENT",
    "execute_tool": "TOOL",
}
EVENTS = 20  # span events outrank every attribute source, as in the reference order
MESSAGES = 80  # gen_ai.input/output.messages: after every library's own message attributes


def _type(scan: Scan) -> str | None:
    operation = scan.found.get("operation")
    return None if operation is None else OPERATION_TYPES.get(str(operation))


def _tool_type(scan: Scan) -> str | None:
    return "TOOL" if "tool_name" in scan.found or "tool_call_id" in scan.found else None


def _tool_name(scan: Scan) -> str | None:
    return fields.text(scan.found.get("tool_name")) if scan.type == "TOOL" else None


def _event_input(scan: Scan) -> Any:
    return events_io(scan.span.events)[0] if scan.span.events else None


def _event_output(scan: Scan) -> Any:
    return events_io(scan.span.events)[1] if scan.span.events else None


def _messages_input(scan: Scan) -> Any:
    messages = maybe_json(scan.found.get("gen_ai_input"))
    instructions = scan.found.get("system_instructions")
    return with_system_instructions(messages, instructions) if (messages or instructions) else None


def _messages_output(scan: Scan) -> Any:
    return maybe_json(scan.found.get("gen_ai_output"))


def _tool_arguments(scan: Scan) -> Any:
    return scan.found.get("tool_arguments")


def _tool_result(scan: Scan) -> Any:
    return scan.found.get("tool_result")


def _provided_cost(scan: Scan) -> dict[str, Any] | None:
    total = scan.found.get("cost_total")
    return None if total is None else {"total": total}


def _first_chunk(scan: Scan) -> int | None:
    """Time to first chunk, in seconds after the start."""
    seconds = scan.found.get("first_chunk_seconds")
    return None if seconds is None else fields.offset_us(scan.start_us, seconds, 1_000_000)


CONVENTION = Convention(
    name="gen_ai",
    rank=30,
    slots={
        "model": ("gen_ai.response.model", ("gen_ai.request.model", 36)),
        "operation": ("gen_ai.operation.name",),
        "conversation": ("gen_ai.conversation.id",),
        "tool_name": ("gen_ai.tool.name",),
        "tool_call_id": ("gen_ai.tool.call.id",),
        "gen_ai_input": ("gen_ai.input.messages",),
        "gen_ai_output": ("gen_ai.output.messages",),
        "system_instructions": ("gen_ai.system_instructions",),
        "tool_arguments": ("gen_ai.tool.call.arguments",),
        "tool_result": ("gen_ai.tool.call.result",),
        "cost_total": ("gen_ai.usage.cost",),
        # seconds after the request: the semantic conventions' span attribute, and the name of their
        # metric, which Pydantic AI writes as a span attribute
        "first_chunk_seconds": ("gen_ai.response.time_to_first_chunk", "gen_ai.client.operation.time_to_first_chunk"),
    },
    families={"gen_ai.usage.": "usage", "gen_ai.request.": "params"},
    types=((30, _type, ("operation",)), (65, _tool_type, ("tool_name", "tool_call_id"))),
    names=((30, _tool_name, ("tool_name",)),),
    inputs=(
        (EVENTS, _event_input, (EVENTS_NEED,)),
        (MESSAGES, _messages_input, ("gen_ai_input", "system_instructions")),
        (85, _tool_arguments, ("tool_arguments",)),
    ),
    outputs=(
        (EVENTS, _event_output, (EVENTS_NEED,)),
        (MESSAGES, _messages_output, ("gen_ai_output",)),
        (85, _tool_result, ("tool_result",)),
    ),
    costs=((30, _provided_cost, ("cost_total",)),),
    first_token=((60, _first_chunk, ("first_chunk_seconds",)),),
)
