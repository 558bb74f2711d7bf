"""Pydantic AI (scope ``pydantic-ai``, with ``Agent.instrument_all()`` or Logfire): agent runs,
model requests, tools and embeddings, mostly in the GenAI conventions (read by ``gen_ai``).

An agent run's span holds the whole conversation in ``pydantic_ai.all_messages`` and the answer
in ``final_result``; an embedding span its texts in ``inputs``. Counts come as ``gen_ai.usage.*``
including ``details.*`` (normalised in ``usage.py``), the cost it estimated as
``operation.cost`` and a stream's time to first chunk as an attribute (``gen_ai``).

Releases before 1.x named the agent run's span ``agent run`` with no operation, and wrote the
run's summed usage on it as ``gen_ai.usage.*`` (later ``gen_ai.aggregated_usage.*``): such a span is
read as the agent run it is (an agent observation, whose usage its model requests carry).

Sessions: every run carries ``gen_ai.conversation.id``. Pydantic AI reuses the id of the history
a run continues (``message_history``), or the one given as ``conversation_id``; otherwise it mints
a fresh UUIDv7 for the run, in the same millisecond as the run's own id (``gen_ai.agent.call.id``).
A fresh id on a run that continues nothing names no conversation a user has, and made every
one-off run its own session; it is kept in the metadata, not as the session. A conversation that
continues becomes a session from its second run on (its first run cannot be told from a lone
one when it arrives); an application that names its conversations has them from the first.
"""

from __future__ import annotations

from typing import Any

from interactiveai.server.ingest.conventions.registry import Convention
from interactiveai.server.ingest.conventions.scan import Scan
from interactiveai.server.ingest.messages import maybe_json, with_system_instructions

SCOPE = "pydantic-ai"


def _uuid7_millis(value: Any) -> int | None:
    """The creation time (ms) a UUIDv7 holds, None for anything else."""
    if not isinstance(value, str) or len(value) != 36 or value[14] != "7":
        return None
    try:
        return int(value[:8] + value[9:13], 16)
    except ValueError:
        return None


def _prepare(scan: Scan) -> None:
    found = scan.found
    if "operation" not in found and ("all_messages" in found or "final_result" in found):
        found["operation"] = "invoke_agent"  # an agent run of a release that did not say so
    conversation = found.get("conversation")
    if conversation is None or "new_message_index" in scan.found:
        return  # none, or a run continuing its history: a conversation indeed
    minted = _uuid7_millis(conversation)
    run = _uuid7_millis(scan.found.get("agent_call_id"))
    if minted is not None and run is not None and minted >= run:
        # minted for this run alone (see the module doc): metadata, not a session
        del scan.found["conversation"]
        scan.families.setdefault("obs_meta", {})["gen_ai.conversation.id"] = conversation


def _all_messages(scan: Scan) -> Any:
    messages = maybe_json(scan.found.get("all_messages"))
    instructions = scan.found.get("system_instructions")
    return with_system_instructions(messages, instructions) if messages else None


def _final_result(scan: Scan) -> Any:
    return scan.found.get("final_result")


def _embedding_inputs(scan: Scan) -> Any:
    return scan.found.get("embedding_inputs")


CONVENTION = Convention(
    name="pydantic_ai",
    rank=32,
    scopes=(SCOPE,),
    slots={
        "all_messages": ("pydantic_ai.all_messages",),
        "final_result": ("final_result",),
        "embedding_inputs": ("inputs",),
        "new_message_index": ("pydantic_ai.new_message_index",),
        "agent_call_id": ("gen_ai.agent.call.id",),
    },
    inputs=((60, _all_messages, ("all_messages",)), (90, _embedding_inputs, ("embedding_inputs",))),
    outputs=((60, _final_result, ("final_result",)),),
    prepare=_prepare,
    needs=("conversation", "all_messages", "final_result"),
)
