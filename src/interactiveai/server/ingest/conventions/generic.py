"""Keys no single library owns: OpenTelemetry's general ones and plain names several libraries use.

``user.id`` and ``session.id`` (OpenTelemetry, OpenInference, the peer SDK), the deployment
environment, and plain ``input`` / ``output`` / ``model`` / ``metadata`` (Pydantic, Pipecat,
OpenInference) as the reference research lists them; they rank below every library's own key.
"""

from __future__ import annotations

from typing import Any

from interactiveai.server.ingest.conventions.registry import Convention
from interactiveai.server.ingest.conventions.scan import Scan

PLAIN_IO = 55  # plain input/output: after the libraries that say more (events, entity, input.value)


def _provided_cost(scan: Scan) -> dict[str, Any] | None:
    total = scan.found.get("cost_total")
    return None if total is None else {"total": total}


def _plain_input(scan: Scan) -> Any:
    return scan.found.get("plain_input")


def _plain_output(scan: Scan) -> Any:
    return scan.found.get("plain_output")


def _tool_arguments(scan: Scan) -> Any:
    return scan.found.get("tool_arguments_plain")


def _tool_response(scan: Scan) -> Any:
    return scan.found.get("tool_response_plain")


CONVENTION = Convention(
    name="generic",
    rank=15,
    slots={
        "environment": ("deployment.environment.name", "deployment.environment"),
        "user": ("user.id",),
        "session": ("session.id",),
        # the Vercel AI SDK's model id names a model on any scope (alone it makes no generation)
        "model": (("ai.model.id", 35), ("model", 90)),
        "plain_input": ("input",),
        "plain_output": ("output",),
        "tool_arguments_plain": ("tool_arguments",),
        "tool_response_plain": ("tool_response",),
        "metadata_plain": ("metadata",),
        # an estimate the library computed (Pydantic AI, from genai-prices): below a cost it was told
        "cost_total": (("operation.cost", 70),),
    },
    inputs=((PLAIN_IO, _plain_input, ("plain_input",)), (65, _tool_arguments, ("tool_arguments_plain",))),
    outputs=((PLAIN_IO, _plain_output, ("plain_output",)), (65, _tool_response, ("tool_response_plain",))),
    costs=((70, _provided_cost, ("cost_total",)),),
)
