"""OpenLLMetry (Traceloop's ``opentelemetry-instrumentation-*``): ``traceloop.*`` entities and the
flattened ``gen_ai.prompt.N.*`` / ``gen_ai.completion.N.*`` messages of its older releases.

Recent releases write the GenAI conventions (``gen_ai.input.messages``, ``gen_ai.usage.*``,
read by ``gen_ai``) and mark each streamed chunk with a ``gen_ai.content.completion.chunk``
event: the first one is the time to first token.
"""

from __future__ import annotations

from typing import Any

from interactiveai.server.ingest.conventions.registry import EVENTS, Convention
from interactiveai.server.ingest.conventions.scan import Scan
from interactiveai.server.ingest.messages import unflatten_messages

_KINDS = {"agent": "AGENT", "tool": "TOOL", "workflow": "CHAIN", "task": "SPAN"}
_REQUESTS = {"chat": "GENERATION", "completion": "GENERATION", "embedding": "EMBEDDING"}
CHUNK_EVENT = "gen_ai.content.completion.chunk"


def _kind_type(scan: Scan) -> str | None:
    kind = scan.found.get("traceloop_kind")
    return None if kind is None else _KINDS.get(str(kind))


def _request_type(scan: Scan) -> str | None:
    request = scan.found.get("request_type")
    return None if request is None else _REQUESTS.get(str(request))


def _entity_input(scan: Scan) -> Any:
    return scan.found.get("traceloop_input")


def _entity_output(scan: Scan) -> Any:
    return scan.found.get("traceloop_output")


def _prompt(scan: Scan) -> Any:
    return unflatten_messages(scan.family("prompt"))


def _completion(scan: Scan) -> Any:
    return unflatten_messages(scan.family("completion"))


def _first_chunk(scan: Scan) -> int | None:
    for event in scan.span.events:
        if event.name == CHUNK_EVENT and event.time_ns:
            return event.time_ns // 1000
    return None


CONVENTION = Convention(
    name="openllmetry",
    rank=60,
    slots={
        "model": ("llm.response.model",),
        "traceloop_kind": ("traceloop.span.kind",),
        "request_type": ("llm.request.type",),
        "traceloop_input": ("traceloop.entity.input",),
        "traceloop_output": ("traceloop.entity.output",),
    },
    families={"llm.usage.": "usage", "gen_ai.prompt.": "prompt", "gen_ai.completion.": "completion"},
    types=((60, _kind_type, ("traceloop_kind",)), (61, _request_type, ("request_type",))),
    inputs=((40, _entity_input, ("traceloop_input",)), (70, _prompt, ("prompt",))),
    outputs=((40, _entity_output, ("traceloop_output",)), (70, _completion, ("completion",))),
    first_token=((70, _first_chunk, (EVENTS,)),),
)
