"""What a span says about its trace (and what its resource says about all of its spans).

Resource facts (environment, release, version, trace metadata) are derived once per resource and
shared by its spans. A span's trace facts come from the trace-level keys of each convention; a
root span also lends its observation metadata to the trace (the peer SDK's experiment runs
write ``experiment_name``, ``dataset_id``, … on the root span and read them from the trace),
below any metadata declared for the trace itself.
"""

from __future__ import annotations

from typing import Any

from interactiveai.server.ingest import fields
from interactiveai.server.ingest.conventions.scan import Scan
from interactiveai.server.ingest.messages import decode_value, json_text, maybe_json
from interactiveai.server.ingest.otlp import Resource
from interactiveai.server.ingest.records import TraceFacts

# What trace_facts reads besides the resource: a span with none of these says nothing about its trace.
_TRACE_SLOTS = frozenset(
    {
        "trace_metadata_whole",
        "public",
        "as_root",
        "trace_name",
        "trace_input",
        "trace_output",
        "user",
        "session",
        "conversation",
        "release",
        "tags",
        "tags_openinference",
    }
)
# Trace facts the peer SDK propagates as metadata keys: read as facts, not copied as metadata.
TRACE_OBS_META = frozenset({"langfuse_user_id", "langfuse_session_id", "langfuse_tags"})
# Vercel ai.telemetry.metadata.* keys that are trace facts (or a prompt link), not observation metadata
TELEMETRY_TRACE = frozenset({"userId", "sessionId", "tags"})
TELEMETRY_NOT_METADATA = frozenset({*TELEMETRY_TRACE, "langfusePrompt"})
_RESOURCE_TRACE_META = ("interactiveai.trace.metadata.", "langfuse.trace.metadata.")
_RESOURCE_SLOTS = {
    "environment": (
        "interactiveai.environment",
        "langfuse.environment",
        "deployment.environment.name",
        "deployment.environment",
    ),
    "release": ("interactiveai.release", "langfuse.release"),
    "version": ("interactiveai.version", "langfuse.version", "service.version"),
}
MAX_EXTRA_ATTRIBUTES = 64
_EMPTY: dict[str, Any] = {}


def object_value(value: Any) -> dict[str, Any] | None:
    decoded = maybe_json(value)
    return decoded if isinstance(decoded, dict) else None


def resource_facts(resource: Resource) -> dict[str, Any]:
    """What a resource contributes to each of its spans, computed on its first span."""
    facts = resource.derived
    if facts:
        return facts
    attrs = resource.attributes
    trace_metadata: dict[str, Any] = object_value(attrs.get("langfuse.trace.metadata")) or {}
    for key, value in attrs.items():
        if key.startswith(_RESOURCE_TRACE_META):
            trace_metadata[key.split(".trace.metadata.", 1)[1]] = decode_value(value)
    for slot, keys in _RESOURCE_SLOTS.items():
        facts[slot] = next((attrs[key] for key in keys if attrs.get(key) not in (None, "")), None)
    facts["release"] = fields.text(facts["release"])
    facts["version"] = fields.text(facts["version"])
    facts["trace_metadata"] = trace_metadata
    facts["service_name"] = fields.text(resource.service_name)
    facts["attributes"] = dict(list(attrs.items())[:MAX_EXTRA_ATTRIBUTES])
    return facts


def trace_facts(
    scan: Scan,
    resource: dict[str, Any],
    environment: str,
    version: str | None,
    root_metadata: dict[str, Any] | None,
) -> TraceFacts:
    """``root_metadata``: the span's own observation metadata, given when it is a root."""
    get = scan.found.get
    families = scan.families
    meta = families.get("trace_meta", _EMPTY)
    obs_meta = families.get("obs_meta", _EMPTY)
    telemetry = families.get("telemetry", _EMPTY)
    span = scan.span
    if (
        not meta
        and not root_metadata
        and scan.found.keys().isdisjoint(_TRACE_SLOTS)
        and obs_meta.keys().isdisjoint(TRACE_OBS_META)
        and telemetry.keys().isdisjoint(TELEMETRY_TRACE)
    ):
        # Most spans say nothing about their trace: only the resource's and the span's own facts.
        return TraceFacts(
            is_root=span.parent_id is None,
            release=resource["release"],
            version=version,
            environment=environment,
            metadata=dict(resource["trace_metadata"]) if resource["trace_metadata"] else None,
        )
    trace_metadata: dict[str, Any] | None = None
    whole = object_value(get("trace_metadata_whole"))
    if resource["trace_metadata"] or whole or meta or root_metadata:
        trace_metadata = dict(resource["trace_metadata"])
        if root_metadata:
            trace_metadata.update((k, v) for k, v in root_metadata.items() if k not in TRACE_OBS_META)
        if whole:
            trace_metadata.update(whole)
        trace_metadata.update(meta)
    public = get("public")
    return TraceFacts(
        is_root=is_root(scan),
        name=fields.text(get("trace_name")),
        input=json_text(get("trace_input")),
        output=json_text(get("trace_output")),
        user_id=fields.text(
            get("user") or obs_meta.get("langfuse_user_id") or meta.get("langfuse_user_id") or telemetry.get("userId")
        ),
        session_id=fields.text(
            get("session")
            or get("conversation")
            or obs_meta.get("langfuse_session_id")
            or meta.get("langfuse_session_id")
            or telemetry.get("sessionId")
        ),
        release=fields.text(get("release")) or resource["release"],
        version=version,
        environment=environment,
        tags=fields.tags(
            get("tags")
            or obs_meta.get("langfuse_tags")
            or meta.get("langfuse_tags")
            or telemetry.get("tags")
            or get("tags_openinference")
        ),
        metadata=trace_metadata,
        public=None if public is None else fields.truthy(public),
    )


def is_root(scan: Scan) -> bool:
    """No parent, or a span the SDK marked as the root of the trace it joins."""
    as_root = scan.found.get("as_root")
    return scan.span.parent_id is None or (as_root is not None and fields.truthy(as_root))
