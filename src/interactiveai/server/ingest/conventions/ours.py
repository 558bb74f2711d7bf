"""Our SDK's convention (``interactiveai.*``, DESIGN §2), and the keys the peer SDK shares with it.

First-party spans declare everything explicitly: type, input/output, model, usage and cost
objects, trace facts. Their declared values outrank every third-party rule (rank 0).
"""

from __future__ import annotations

from interactiveai.server.ingest.conventions.registry import Convention

CONVENTION = Convention(
    name="interactiveai",
    rank=0,
    slots={
        "type": ("interactiveai.observation.type",),
        "input": ("interactiveai.observation.input",),
        "output": ("interactiveai.observation.output",),
        "level": ("interactiveai.observation.level",),
        "status_message": ("interactiveai.observation.status_message",),
        "model": ("interactiveai.observation.model.name",),
        "model_parameters": ("interactiveai.observation.model.parameters",),
        "usage": ("interactiveai.observation.usage_details",),
        "cost": ("interactiveai.observation.cost_details",),
        "completion_start": ("interactiveai.observation.completion_start_time",),
        "environment": ("interactiveai.environment",),
        "version": ("interactiveai.version",),
        "release": ("interactiveai.release",),
        "as_root": ("interactiveai.internal.as_root",),
        "synthetic_parent": ("interactiveai.internal.synthetic_parent",),
        "trace_name": ("interactiveai.trace.name",),
        "trace_input": ("interactiveai.trace.input",),
        "trace_output": ("interactiveai.trace.output",),
        "public": ("interactiveai.trace.public",),
        "tags": ("interactiveai.trace.tags",),
        "user": ("interactiveai.user.id",),
        "session": ("interactiveai.session.id",),
        "metadata_ours": ("interactiveai.observation.metadata",),
    },
    families={
        "interactiveai.observation.metadata.": "obs_meta",
        "interactiveai.trace.metadata.": "trace_meta",
    },
)
