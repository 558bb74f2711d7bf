"""One span, read with its scope's conventions, → one observation row and its trace facts.

Every field is read the same way: a first-party declaration (ours, the peer SDK's) when present,
else the conventions' rules in rank order, the first answer winning (``registry``), else a
generic default. Conventions then ``refine`` the finished row when a rule needs the whole of it.
"""

from __future__ import annotations

from typing import Any

from interactiveai.server import json_values
from interactiveai.server.clock import now_us
from interactiveai.server.ingest import fields
from interactiveai.server.ingest.bounds import bound_span
from interactiveai.server.ingest.conventions import span_events
from interactiveai.server.ingest.conventions.catalog import FIRST_PARTY_SCOPES, profile
from interactiveai.server.ingest.conventions.scan import Scan
from interactiveai.server.ingest.conventions.trace_facts import (
    MAX_EXTRA_ATTRIBUTES,
    TELEMETRY_NOT_METADATA,
    is_root,
    object_value,
    resource_facts,
    trace_facts,
)
from interactiveai.server.ingest.conventions.vercel import MODEL_ID
from interactiveai.server.ingest.messages import json_text, maybe_json
from interactiveai.server.ingest.otlp import STATUS_ERROR, Span
from interactiveai.server.ingest.pricing import Pricing
from interactiveai.server.ingest.records import MappedSpan
from interactiveai.server.ingest.usage import normalise_cost, normalise_usage, token_columns, usage_as_sent

_AGENT_OPERATIONS = frozenset({"invoke_agent", "agent_step"})  # their children carry the usage
_METADATA_SLOTS = ("metadata_langfuse", "metadata_langfuse_observation", "metadata_ours")
_MAX_EXTRA_CHARS = 2_000  # third-party attributes copied into metadata are for inspection, not storage


def _dumps(value: Any) -> str:
    """A JSON column's text (metadata, usage, cost, parameters): any decoded attribute value, a part
    nested deeper than readers render kept as its text (``json_values.dumps``), never raising."""
    return json_values.dumps(value) if value else "{}"  # often empty


def _observation_type(scan: Scan, has_model: bool, legacy_generation: bool) -> str:
    """``legacy_generation``: old peer SDKs wrote type=span on generations (model or usage tell)."""
    declared = scan.found.get("type")
    if declared is not None:
        upper = str(declared).upper()
        if upper in fields.TYPES:
            return "GENERATION" if upper == "SPAN" and legacy_generation else upper
    found = None if scan.quiet else scan.profile.types.first(scan)
    if found is not None:
        return str(found)
    return "GENERATION" if has_model else "SPAN"


def _embedding_usage(usage: dict[str, int | float]) -> dict[str, int | float]:
    """An embedding reads input only: a count given as a total alone (the Vercel AI SDK's
    ``ai.usage.tokens``) is its input, so that it is priced."""
    if "total" in usage and not any(key.startswith(("input", "output")) for key in usage):
        return {**usage, "input": usage["total"]}
    return usage


def _usage(scan: Scan, provided: dict[str, Any] | None) -> tuple[dict[str, int | float], dict[str, Any]]:
    """(normalised usage, usage as stored): a provided usage object is stored with its own keys."""
    if provided is not None:
        usage = normalise_usage(provided)
        return usage, usage_as_sent(provided, usage)
    found = None if scan.quiet else scan.profile.usage.first(scan)
    if found is not None:
        raw, inclusive = found
        usage = normalise_usage(raw, inclusive=inclusive)
    else:
        counts = scan.families.get("usage")
        usage = normalise_usage(dict(counts), inclusive=True) if counts else {}
    if usage and scan.type == "EMBEDDING":
        usage = _embedding_usage(usage)
    return usage, usage


def _model_parameters(scan: Scan) -> str | None:
    declared = scan.found.get("model_parameters")
    if declared is not None:
        return json_text(declared)
    found = None if scan.quiet else scan.profile.parameters.first(scan)
    if found is not None:
        return str(found)
    params = scan.families.get("params")
    if params and "model" in params:
        params = {k: v for k, v in params.items() if k != "model"}
    return _dumps(params) if params else None


def _user_metadata(scan: Scan) -> dict[str, Any]:
    """Metadata the application gave (the whole-object attributes and the per-key families)."""
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
    families = scan.families
    if families:
        telemetry = families.get("telemetry")
        if telemetry:
            metadata.update((k, v) for k, v in telemetry.items() if k not in TELEMETRY_NOT_METADATA)
        obs_meta = families.get("obs_meta")
        if obs_meta:
            metadata.update(obs_meta)
    return metadata


def _with_attributes(
    scan: Scan, metadata: dict[str, Any], resource: dict[str, Any], exception: dict[str, Any] | None
) -> dict[str, Any]:
    """A third-party span's metadata also keeps what no convention read, for inspection, and the
    exception it recorded (``span_events``)."""
    extra: dict[str, Any] = {}
    known, prefixes = scan.profile.consumed, scan.profile.prefixes
    for key, value in scan.span.attributes.items():
        if key in known or key.startswith(prefixes):
            continue
        if len(extra) >= MAX_EXTRA_ATTRIBUTES:
            break
        extra[key] = value[:_MAX_EXTRA_CHARS] if isinstance(value, str) else value
    span = scan.span
    kept = {
        **metadata,
        "attributes": extra,
        "resourceAttributes": resource["attributes"],
        "scope": {"name": span.scope.name, "version": span.scope.version},
    }
    if exception is not None:
        kept["exception"] = exception
    return kept


def map_span(span: Span, project_id: str, pricing: Pricing) -> MappedSpan:
    scope = span.scope.name
    tables = profile(scope)
    scan = Scan(span, tables)
    quiet = scan.quiet
    if not quiet:
        for prepare, needs in tables.prepare:
            if needs is None or scan.meets(needs):
                prepare(scan)
    get = scan.found.get
    resource = resource_facts(span.resource)
    first_party = scope.startswith(FIRST_PARTY_SCOPES) or "type" in scan.found

    start_us = span.start_ns // 1000 if span.start_ns else 0
    end_us = span.end_ns // 1000 if span.end_ns else 0
    events = span.events
    if events and end_us:
        end_us = span_events.end_us(events, end_us)  # a span ends no earlier than its own events
    if not start_us:
        start_us = end_us or now_us()
    scan.start_us = start_us

    model = fields.text(get("model"))
    # ai.model.id names the model of a Vercel span without making it a generation (its outer spans)
    has_model = model is not None and not scan.won_by("model", MODEL_ID)
    provided_usage = object_value(get("usage"))
    legacy = get("type") == "span" and scan.won_by("type", "langfuse.observation.type")
    obs_type = _observation_type(
        scan, has_model, legacy and (has_model or bool(provided_usage) or "usage" in scan.families)
    )
    scan.type = obs_type
    agent_operation = str(get("operation")) in _AGENT_OPERATIONS

    usage: dict[str, int | float] = {}
    stored_usage: dict[str, Any] = {}
    provided_cost: dict[str, float] | None = None
    if not agent_operation:
        usage, stored_usage = _usage(scan, provided_usage)
        cost_object = object_value(get("cost"))
        if cost_object is None:
            cost_object = None if quiet else tables.costs.first(scan)
        provided_cost = normalise_cost(cost_object) if cost_object is not None else None

    cost = pricing.cost(project_id, model, usage, provided_cost, start_us)
    inp = get("input")
    if inp is None and not quiet:
        inp = tables.inputs.first(scan)
    out = get("output")
    if out is None and not quiet:
        out = tables.outputs.first(scan)
    input_tokens, output_tokens, total_tokens = token_columns(usage)
    environment = fields.environment(get("environment") or resource["environment"])
    version = fields.text(get("version")) or resource["version"]
    completion_start = get("completion_start")
    completion_start_us = fields.time_us(completion_start) if completion_start is not None else None
    if completion_start_us is None and not quiet:
        completion_start_us = tables.first_token.first(scan)
    metadata = _user_metadata(scan)
    exception = span_events.last_exception(events) if events and not first_party else None
    status_message = fields.text(get("status_message"))
    if status_message is None:
        status_message = fields.text(span.status_message)
        if exception is not None and span.status_code == STATUS_ERROR:
            status_message = span_events.status_message(status_message, exception)
    row: dict[str, Any] = {
        "trace_id": span.trace_id,
        "id": span.span_id,
        # A made-up remote parent (trace id given without a parent id) is no observation: a root.
        "parent_observation_id": None if fields.truthy(get("synthetic_parent")) else span.parent_id,
        "type": obs_type,
        "name": (None if quiet else tables.names.first(scan)) or fields.text(span.name),
        "start_time_us": start_us,
        "end_time_us": max(end_us, start_us) if end_us else None,
        "completion_start_time_us": completion_start_us,
        "level": fields.level(get("level"), span.status_code),
        "status_message": status_message,
        "version": version,
        "environment": environment,
        "input": json_text(inp),
        "output": json_text(out),
        "metadata": _dumps(metadata if first_party else _with_attributes(scan, metadata, resource, exception)),
        "model": model,
        "model_parameters": None if agent_operation else _model_parameters(scan),
        "usage_details": _dumps(stored_usage),
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
        "scope_name": fields.text(scope),
    }
    if not quiet:
        for refine, needs in tables.refine:
            if needs is None or scan.meets(needs):
                refine(scan, row)
    root_metadata = metadata if metadata and is_root(scan) else None
    facts = trace_facts(scan, resource, environment, version, root_metadata)
    # indexed text bounded here, once, the same on both engines (bounds.py)
    return bound_span(MappedSpan(row, facts))
