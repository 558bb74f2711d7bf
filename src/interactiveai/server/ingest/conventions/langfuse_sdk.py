"""The peer SDK's convention (``langfuse.*``, reference research §2.3 and the SDK notes §6), so its
users switch by changing a URL. Its keys mirror ours one for one and rank right after them.

Older releases (≤ 3.3) typed generations ``span``; ``mapping`` reads a model or usage on such a
span as a generation, as the peer server does.
"""

from __future__ import annotations

from interactiveai.server.ingest.conventions.registry import Convention

CONVENTION = Convention(
    name="langfuse",
    rank=10,
    slots={
        "type": ("langfuse.observation.type",),
        "input": ("langfuse.observation.input",),
        "output": ("langfuse.observation.output",),
        "level": ("langfuse.observation.level",),
        "status_message": ("langfuse.observation.status_message",),
        "model": ("langfuse.observation.model.name",),
        "model_parameters": ("langfuse.observation.model.parameters",),
        "usage": ("langfuse.observation.usage_details",),
        "cost": ("langfuse.observation.cost_details",),
        "completion_start": ("langfuse.observation.completion_start_time",),
        "environment": ("langfuse.environment",),
        "version": ("langfuse.version",),
        "release": ("langfuse.release",),
        "as_root": ("langfuse.internal.as_root",),
        "trace_name": ("langfuse.trace.name",),
        "trace_input": ("langfuse.trace.input",),
        "trace_output": ("langfuse.trace.output",),
        "public": ("langfuse.trace.public", "langfuse.public"),
        "tags": ("langfuse.trace.tags", "langfuse.tags"),
        "user": ("langfuse.user.id",),
        "session": ("langfuse.session.id",),
        "metadata_langfuse": ("langfuse.metadata",),
        "metadata_langfuse_observation": ("langfuse.observation.metadata",),
        "trace_metadata_whole": ("langfuse.trace.metadata",),
    },
    families={
        "langfuse.observation.metadata.": "obs_meta",
        "langfuse.metadata.": "obs_meta",
        "langfuse.trace.metadata.": "trace_meta",
    },
)
