"""Span attributes of every supported convention → one observation row and its trace facts.

Conventions, first match wins per field (exact names in keys.py and the reference research
§2.3): ours (``interactiveai.*``), the reference SDK's (``langfuse.*``), OTel GenAI (``gen_ai.*``
attributes and events), OpenInference (``openinference.*``, ``input.value``, ``llm.*``),
OpenLLMetry (``traceloop.*``, flattened ``gen_ai.prompt.N.*``), MLflow (``mlflow.*``) and the
Vercel AI SDK (``ai.*``, read only for spans of its instrumentation scope ``ai``).

Facts that come from the resource (environment, release, version, trace metadata) are derived
once per resource and shared by all of its spans.
"""

from __future__ import annotations

from typing import Any

from interactiveai.server import json_values
from interactiveai.server.clock import now_us
from interactiveai.server.ingest import fields, vercel
from interactiveai.server.ingest.bounds import bound_span
from interactiveai.server.ingest.keys import (
    AI_MODEL_RANK,
    TRACE_META_PREFIXES,
    VERCEL_FAMILIES,
    Scan,
    consumed_sets,
)
from interactiveai.server.ingest.messages import (
    decode_value,
    events_io,
    json_text,
    maybe_json,
    unflatten_messages,
    with_system_instructions,
)
from interactiveai.server.ingest.otlp import Resource, Span
from interactiveai.server.ingest.pricing import Pricing
from interactiveai.server.ingest.records import MappedSpan, TraceFacts
from interactiveai.server.ingest.usage import normalise_cost, normalise_usage, token_columns

_FIRST_PARTY_SCOPES = ("interactiveai", "langfuse")
_AGENT_OPERATIONS = frozenset({"invoke_agent", "agent_step"})  # their children carry the usage
_METADATA_SLOTS = ("metadata_langfuse", "metadata_langfuse_observation", "metadata_ours")
# What _trace_facts reads besides the resource: a span with none of these says nothing about its trace.
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
        "release",
        "tags",
        "tags_openinference",
    }
)
_TRACE_OBS_META = frozenset({"langfuse_user_id", "langfuse_session_id", "langfuse_tags"})
# Vercel ai.telemetry.metadata.* keys that are trace facts (or a prompt link), not observation metadata
_TELEMETRY_TRACE = frozenset({"userId", "sessionId", "tags"})
_TELEMETRY_NOT_METADATA = frozenset({*_TELEMETRY_TRACE, "langfusePrompt"})
_MODEL_CALLS = frozenset({"GENERATION", "EMBEDDING"})
# Third-party attributes copied into metadata are capped: they are for inspection, not storage.
_MAX_EXTRA_ATTRIBUTES = 64
_MAX_EXTRA_CHARS = 2_000


def _dumps(value: Any) -> str:
    """A JSON column's text (metadata, usage, cost, parameters): any decoded attribute value, a part
    nested deeper than readers render kept as its text (``json_values.dumps``), never raising."""
    return json_values.dumps(value) if value else "{}"  # often empty


def _object(value: Any) -> dict[str, Any] | None:
    decoded = maybe_json(value)
    return decoded if isinstance(decoded, dict) else None


def _resource_facts(resource: Resource) -> dict[str, Any]:
    """What a resource contributes to each of its spans, computed on its first span."""
    facts = resource.derived
    if facts:
        return facts
    scan = Scan(resource.attributes)
    trace_metadata: dict[str, Any] = _object(scan.found.get("trace_metadata_whole")) or {}
    trace_metadata.update(scan.trace_meta)
    for key, value in resource.attributes.items():
        if key.startswith(TRACE_META_PREFIXES):
            trace_metadata[key.split(".trace.metadata.", 1)[1]] = decode_value(value)
    facts["environment"] = scan.found.get("environment")
    facts["release"] = fields.text(scan.found.get("release"))
    facts["version"] = fields.text(scan.found.get("version") or resource.attributes.get("service.version"))
    facts["trace_metadata"] = trace_metadata
    facts["service_name"] = fields.text(resource.service_name)
    facts["attributes"] = dict(list(resource.attributes.items())[:_MAX_EXTRA_ATTRIBUTES])
    return facts


def _input_output(span: Span, scan: Scan, from_vercel: bool) -> tuple[Any, Any]:
    inp: Any = scan.found.get("input")
    out: Any = scan.found.get("output")
    if from_vercel:
        if inp is None:
            inp = scan.found.get("ai_input")
        if out is None:
            out = vercel.output(scan)
    if inp is not None and out is not None:
        return inp, out
    ev_in, ev_out = events_io(span.events) if span.events else (None, None)
    get = scan.found.get
    if inp is None:
        inp = _first_present(
            lambda: ev_in,
            lambda: get("mlflow_input"),
            lambda: get("traceloop_input"),
            lambda: get("value_input"),
            lambda: get("plain_input"),
            lambda: unflatten_messages(scan.prompt),
            lambda: unflatten_messages(scan.oi_in, "message."),
            lambda: _gen_ai_messages(scan),
            lambda: get("tool_arguments"),
        )
    if out is None:
        out = _first_present(
            lambda: ev_out,
            lambda: get("mlflow_output"),
            lambda: get("traceloop_output"),
            lambda: get("value_output"),
            lambda: get("plain_output"),
            lambda: unflatten_messages(scan.completion),
            lambda: unflatten_messages(scan.oi_out, "message."),
            lambda: maybe_json(get("gen_ai_output")),
            lambda: get("tool_result"),
        )
    return inp, out


def _gen_ai_messages(scan: Scan) -> Any:
    messages = maybe_json(scan.found.get("gen_ai_input"))
    instructions = scan.found.get("system_instructions")
    return with_system_instructions(messages, instructions) if (messages or instructions) else None


def _first_present(*sources: Any) -> Any:
    for source in sources:
        found = source()
        if found is not None and found != "":
            return found
    return None


def _model_parameters(scan: Scan, from_vercel: bool) -> str | None:
    declared = scan.found.get("model_parameters")
    if declared is not None:
        return json_text(declared)
    if from_vercel:
        return vercel.model_parameters(scan)
    return _dumps(scan.params) if scan.params else None


def _metadata(span: Span, scan: Scan, first_party: bool, resource: dict[str, Any], from_vercel: bool) -> dict[str, Any]:
    metadata: dict[str, Any] = {}
    found = scan.found
    for slot in _METADATA_SLOTS:
        if slot in found:
            decoded = maybe_json(found[slot])
            if isinstance(decoded, dict):
                metadata.update(decoded)
            else:
                metadata["metadata"] = decoded
    if "metadata_plain" in found:  # OpenInference: a JSON object of user metadata
        decoded = maybe_json(found["metadata_plain"])
        if isinstance(decoded, dict):
            metadata.update(decoded)
    if scan.telemetry:
        for key, value in scan.telemetry.items():
            if key not in _TELEMETRY_NOT_METADATA:
                metadata[key] = value
    metadata.update(scan.obs_meta)
    if not first_party:
        extra: dict[str, Any] = {}
        known, families = consumed_sets(from_vercel)
        for key, value in span.attributes.items():
            if key in known or key.startswith(families):  # keys.consumed, inlined: once per attribute
                continue
            if len(extra) >= _MAX_EXTRA_ATTRIBUTES:
                break
            extra[key] = value[:_MAX_EXTRA_CHARS] if isinstance(value, str) else value
        metadata["attributes"] = extra
        metadata["resourceAttributes"] = resource["attributes"]
        metadata["scope"] = {"name": span.scope.name, "version": span.scope.version}
    return metadata


def map_span(span: Span, project_id: str, pricing: Pricing) -> MappedSpan:
    attrs = span.attributes
    from_vercel = span.scope.name == "ai"  # keys.VERCEL_SCOPE, a literal on the hot path
    scan = Scan(attrs, VERCEL_FAMILIES) if from_vercel else Scan(attrs)
    get = scan.found.get
    resource = _resource_facts(span.resource)
    first_party = span.scope.name.startswith(_FIRST_PARTY_SCOPES) or "type" in scan.found

    model = fields.text(get("model"))
    # ai.model.id names the model of a Vercel span without making it a generation (its outer spans)
    has_model = model is not None and scan.ranks["model"] != AI_MODEL_RANK
    provided_usage = _object(get("usage"))
    legacy = attrs.get("langfuse.observation.type") == "span" and "interactiveai.observation.type" not in attrs
    obs_type = fields.observation_type(
        scan,
        has_model,
        legacy and (has_model or bool(provided_usage) or bool(scan.usage)),
        vercel.observation_type(scan) if from_vercel else None,
    )
    agent_operation = str(get("operation")) in _AGENT_OPERATIONS

    usage: dict[str, int | float] = {}
    provided_cost: dict[str, float] | None = None
    if not agent_operation:
        if provided_usage is not None:
            usage = normalise_usage(provided_usage)
        elif from_vercel and obs_type in _MODEL_CALLS:
            # The SDK's own ai.usage.* are read on its model calls only: the outer ai.generateText
            # (etc.) span repeats its children's counts, and a trace sums its observations.
            raw = vercel.usage(scan.usage, scan.found, vercel.provider_metadata(scan))
            usage = normalise_usage(raw, inclusive=True)
        elif scan.usage:
            usage = normalise_usage(scan.usage, inclusive=True)
        cost_object = _object(get("cost"))
        if cost_object is None and "cost_total" in scan.found:
            cost_object = {"total": scan.found["cost_total"]}
        provided_cost = normalise_cost(cost_object) if cost_object is not None else None

    start_us = span.start_ns // 1000 if span.start_ns else 0
    end_us = span.end_ns // 1000 if span.end_ns else 0
    if not start_us:
        start_us = end_us or now_us()
    cost = pricing.cost(project_id, model, usage, provided_cost, start_us)
    inp, out = _input_output(span, scan, from_vercel)
    input_tokens, output_tokens, total_tokens = token_columns(usage)
    environment = fields.environment(get("environment") or resource["environment"])
    version = fields.text(get("version")) or resource["version"]
    completion_start = get("completion_start")
    completion_start_us = fields.time_us(completion_start) if completion_start is not None else None
    tool_name = fields.text(get("tool_name")) if obs_type == "TOOL" else None
    if from_vercel:
        tool_name = tool_name or vercel.name(scan, attrs)
        if completion_start_us is None and "ai_first_chunk" in scan.found:
            completion_start_us = fields.offset_us(start_us, scan.found["ai_first_chunk"])
    row: dict[str, Any] = {
        "trace_id": span.trace_id,
        "id": span.span_id,
        # A made-up remote parent (trace id given without a parent id) is no observation: a root.
        "parent_observation_id": None if fields.truthy(get("synthetic_parent")) else span.parent_id,
        "type": obs_type,
        "name": tool_name or fields.text(span.name),
        "start_time_us": start_us,
        "end_time_us": max(end_us, start_us) if end_us else None,
        "completion_start_time_us": completion_start_us,
        "level": fields.level(scan, span.status_code),
        "status_message": fields.text(get("status_message")) or fields.text(span.status_message),
        "version": version,
        "environment": environment,
        "input": json_text(inp),
        "output": json_text(out),
        "metadata": _dumps(_metadata(span, scan, first_party, resource, from_vercel)),
        "model": model,
        "model_parameters": None if agent_operation else _model_parameters(scan, from_vercel),
        "usage_details": _dumps(usage),
        "cost_details": _dumps(cost.details),
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "total_tokens": total_tokens,
        "input_cost": cost.input,
        "output_cost": cost.output,
        "total_cost": cost.total,
        "cost_source": cost.source,
        "matched_model_id": cost.model_id,
        "service_name": resource["service_name"],
        "scope_name": fields.text(span.scope.name),
    }
    # indexed text bounded here, once, the same on both engines (bounds.py)
    return bound_span(MappedSpan(row, _trace_facts(span, scan, resource, environment, version)))


def _trace_facts(span: Span, scan: Scan, resource: dict[str, Any], environment: str, version: str | None) -> TraceFacts:
    get = scan.found.get
    meta = scan.trace_meta
    obs_meta = scan.obs_meta
    telemetry = scan.telemetry
    if (
        not meta
        and scan.found.keys().isdisjoint(_TRACE_SLOTS)
        and obs_meta.keys().isdisjoint(_TRACE_OBS_META)
        and (telemetry is None or telemetry.keys().isdisjoint(_TELEMETRY_TRACE))
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
    whole = _object(get("trace_metadata_whole"))
    if resource["trace_metadata"] or whole or meta:
        trace_metadata = dict(resource["trace_metadata"])
        if whole:
            trace_metadata.update(whole)
        trace_metadata.update(meta)
    public = get("public")
    as_root = get("as_root")
    telemetry = telemetry or {}
    return TraceFacts(
        is_root=span.parent_id is None or (as_root is not None and fields.truthy(as_root)),
        name=fields.text(get("trace_name")),
        input=json_text(get("trace_input")),
        output=json_text(get("trace_output")),
        user_id=fields.text(
            get("user") or obs_meta.get("langfuse_user_id") or meta.get("langfuse_user_id") or telemetry.get("userId")
        ),
        session_id=fields.text(
            get("session")
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
