"""Span attributes of every supported convention → one observation row and its trace facts.

Conventions, first match wins per field (the exact names are in the reference research, §2.3):
ours (``interactiveai.*``), the reference SDK's (``langfuse.*``), OTel GenAI (``gen_ai.*``
attributes and events), OpenInference (``openinference.*``, ``input.value``, ``llm.*``),
OpenLLMetry (``traceloop.*``, flattened ``gen_ai.prompt.N.*``) and MLflow (``mlflow.*``).

The attribute dict is walked once to collect the prefixed families (metadata keys, usage keys,
flattened messages); everything else is a dict lookup, which keeps the per-span cost low.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from interactiveai.server.clock import now_us, parse_iso_to_us
from interactiveai.server.ingest.messages import (
    decode_value,
    events_io,
    json_text,
    maybe_json,
    unflatten_messages,
    with_system_instructions,
)
from interactiveai.server.ingest.otlp import STATUS_ERROR, Span
from interactiveai.server.ingest.pricing import Pricing
from interactiveai.server.ingest.records import MappedSpan, TraceFacts
from interactiveai.server.ingest.usage import normalise_cost, normalise_usage, token_columns

OURS = ("interactiveai.", "langfuse.")
_FIRST_PARTY_SCOPES = ("interactiveai", "langfuse")

_TYPES = frozenset(
    {"SPAN", "GENERATION", "EVENT", "AGENT", "TOOL", "CHAIN", "RETRIEVER", "EMBEDDING", "EVALUATOR", "GUARDRAIL"}
)
_OPENINFERENCE_KINDS = {"LLM": "GENERATION", "RERANKER": "RETRIEVER", "UNKNOWN": "SPAN"}
_GEN_AI_OPERATIONS = {
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
_TRACELOOP_KINDS = {"agent": "AGENT", "tool": "TOOL", "workflow": "CHAIN", "task": "SPAN"}
_TRACELOOP_REQUESTS = {"chat": "GENERATION", "completion": "GENERATION", "embedding": "EMBEDDING"}
_MLFLOW_TYPES = {"LLM": "GENERATION", "CHAT_MODEL": "GENERATION", "RERANKER": "RETRIEVER", "PARSER": "SPAN"}
_AGENT_OPERATIONS = frozenset({"invoke_agent", "agent_step"})  # their children carry the usage
_LEVEL_ALIASES = {
    "TRACE": "DEBUG",
    "VERBOSE": "DEBUG",
    "DEBUG": "DEBUG",
    "INFO": "DEFAULT",
    "LOG": "DEFAULT",
    "NOTICE": "DEFAULT",
    "OK": "DEFAULT",
    "SUCCESS": "DEFAULT",
    "DEFAULT": "DEFAULT",
    "WARN": "WARNING",
    "WARNING": "WARNING",
    "ERROR": "ERROR",
    "FATAL": "ERROR",
    "CRITICAL": "ERROR",
}
_MODEL_KEYS = (
    "interactiveai.observation.model.name",
    "langfuse.observation.model.name",
    "gen_ai.response.model",
    "gen_ai.request.model",
    "llm.response.model",
    "llm.model_name",
    "model",
)
_ENVIRONMENT_KEYS = (
    "interactiveai.environment",
    "langfuse.environment",
    "deployment.environment.name",
    "deployment.environment",
)
_ENVIRONMENT_RE = re.compile(r"[a-z0-9_-]{1,40}")

# Prefixed families, collected in one pass over the attribute keys.
_FAMILIES = (
    "interactiveai.observation.metadata.",
    "langfuse.observation.metadata.",
    "langfuse.metadata.",
    "interactiveai.trace.metadata.",
    "langfuse.trace.metadata.",
    "gen_ai.usage.",
    "llm.token_count.",
    "llm.usage.",
    "gen_ai.request.",
    "llm.invocation_parameters.",
    "gen_ai.prompt.",
    "gen_ai.completion.",
    "llm.input_messages.",
    "llm.output_messages.",
)
_OBS_META = frozenset(_FAMILIES[:3])
_TRACE_META = frozenset(_FAMILIES[3:5])
_USAGE = frozenset(_FAMILIES[5:8])
_PARAMS = frozenset(_FAMILIES[8:10])
# Third-party attributes copied into metadata are capped: they are for inspection, not storage.
_MAX_EXTRA_ATTRIBUTES = 64
_MAX_EXTRA_CHARS = 2_000


def _first(attrs: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        value = attrs.get(key)
        if value is not None and value != "":
            return value
    return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        value = orjson.dumps(value).decode() if isinstance(value, (list, dict)) else str(value)
    # PostgreSQL text cannot hold NUL; dropping it keeps both engines storing the same thing
    return (value.replace("\x00", "") if "\x00" in value else value) or None


def _strip_quotes(value: Any) -> str:
    text = str(value)
    return text[1:-1] if len(text) >= 2 and text[0] == '"' and text[-1] == '"' else text


def normalise_environment(value: Any) -> str:
    if value is None:
        return "default"
    text = str(value).strip().lower()
    return text if _ENVIRONMENT_RE.fullmatch(text) and not text.startswith("langfuse") else "default"


def parse_tags(value: Any) -> list[str] | None:
    """Tags as an array, a JSON-array string, a comma-separated string or a single string."""
    if value is None:
        return None
    if isinstance(value, str):
        stripped = value.strip()
        if stripped.startswith("["):
            decoded = maybe_json(stripped)
            if isinstance(decoded, list):
                value = decoded
        if isinstance(value, str):
            value = [part for part in (p.strip() for p in stripped.split(",")) if part]
    if not isinstance(value, list):
        value = [value]
    return sorted({text[:200] for text in (_text(tag) for tag in value) if text})


def _time_us(value: Any) -> int | None:
    """A completion start time: an ISO string (possibly JSON-encoded twice) or an epoch number."""
    value = maybe_json(value)
    if isinstance(value, str):
        try:
            return parse_iso_to_us(value)
        except ValueError:
            return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        if value > 1e17:
            return int(value // 1000)  # nanoseconds
        if value > 1e14:
            return int(value)  # microseconds
        if value > 1e11:
            return int(value * 1000)  # milliseconds
        return int(value * 1_000_000)  # seconds
    return None


def _observation_type(attrs: dict[str, Any], has_model: bool, has_usage: bool) -> str:
    declared = _first(attrs, "interactiveai.observation.type", "langfuse.observation.type")
    if declared is not None:
        upper = str(declared).upper()
        if upper in _TYPES:
            # old reference SDKs wrote type=span on generations; model or usage reveal them
            if upper == "SPAN" and "langfuse.observation.type" in attrs and (has_model or has_usage):
                return "GENERATION"
            return upper
    kind = attrs.get("openinference.span.kind")
    if kind is not None:
        upper = str(kind).upper()
        mapped = _OPENINFERENCE_KINDS.get(upper, upper)
        if mapped in _TYPES:
            return mapped
    operation = attrs.get("gen_ai.operation.name")
    if operation is not None and str(operation) in _GEN_AI_OPERATIONS:
        return _GEN_AI_OPERATIONS[str(operation)]
    mlflow_type = attrs.get("mlflow.spanType")
    if mlflow_type is not None:
        upper = _strip_quotes(mlflow_type).upper()
        mapped = _MLFLOW_TYPES.get(upper, upper)
        if mapped in _TYPES:
            return mapped
    traceloop = attrs.get("traceloop.span.kind")
    if traceloop is not None and str(traceloop) in _TRACELOOP_KINDS:
        return _TRACELOOP_KINDS[str(traceloop)]
    request_type = attrs.get("llm.request.type")
    if request_type is not None and str(request_type) in _TRACELOOP_REQUESTS:
        return _TRACELOOP_REQUESTS[str(request_type)]
    if "gen_ai.tool.name" in attrs or "gen_ai.tool.call.id" in attrs:
        return "TOOL"
    return "GENERATION" if has_model else "SPAN"


def _level(attrs: dict[str, Any], status_code: int) -> str:
    declared = _first(attrs, "interactiveai.observation.level", "langfuse.observation.level")
    if declared is not None:
        level = _LEVEL_ALIASES.get(str(declared).upper())
        if level is not None:
            return level
    return "ERROR" if status_code == STATUS_ERROR else "DEFAULT"


class _Families:
    """The prefixed attribute families of one span, gathered in a single pass."""

    __slots__ = ("obs_meta", "trace_meta", "usage", "params", "prompt", "completion", "oi_in", "oi_out")

    def __init__(self, attrs: dict[str, Any]) -> None:
        self.obs_meta: dict[str, Any] = {}
        self.trace_meta: dict[str, Any] = {}
        self.usage: dict[str, Any] = {}
        self.params: dict[str, Any] = {}
        self.prompt: dict[str, Any] = {}
        self.completion: dict[str, Any] = {}
        self.oi_in: dict[str, Any] = {}
        self.oi_out: dict[str, Any] = {}
        for key, value in attrs.items():
            if not key.startswith(_FAMILIES):
                continue
            for prefix in _FAMILIES:
                if key.startswith(prefix):
                    self._add(prefix, key[len(prefix) :], value)
                    break

    def _add(self, prefix: str, rest: str, value: Any) -> None:
        if prefix in _OBS_META:
            self.obs_meta[rest] = decode_value(value)
        elif prefix in _TRACE_META:
            self.trace_meta[rest] = decode_value(value)
        elif prefix in _USAGE:
            if rest != "cost":
                self.usage[rest] = value
        elif prefix in _PARAMS:
            if rest != "model":
                self.params[rest] = value
        elif prefix == "gen_ai.prompt.":
            self.prompt[rest] = value
        elif prefix == "gen_ai.completion.":
            self.completion[rest] = value
        elif prefix == "llm.input_messages.":
            self.oi_in[rest] = value
        else:
            self.oi_out[rest] = value


def _object(value: Any) -> dict[str, Any] | None:
    decoded = maybe_json(value)
    return decoded if isinstance(decoded, dict) else None


def _input_output(span: Span, fam: _Families) -> tuple[Any, Any]:
    attrs = span.attributes
    inp: Any = _first(attrs, "interactiveai.observation.input", "langfuse.observation.input")
    out: Any = _first(attrs, "interactiveai.observation.output", "langfuse.observation.output")
    if inp is not None and out is not None:
        return inp, out
    ev_in, ev_out = events_io(span.events) if span.events else (None, None)
    inp = _first_present(
        inp,
        lambda: ev_in,
        lambda: attrs.get("mlflow.spanInputs"),
        lambda: attrs.get("traceloop.entity.input"),
        lambda: attrs.get("input.value"),
        lambda: attrs.get("input"),
        lambda: unflatten_messages(fam.prompt),
        lambda: unflatten_messages(fam.oi_in, "message."),
        lambda: _genai_messages(attrs),
        lambda: attrs.get("gen_ai.tool.call.arguments"),
    )
    out = _first_present(
        out,
        lambda: ev_out,
        lambda: attrs.get("mlflow.spanOutputs"),
        lambda: attrs.get("traceloop.entity.output"),
        lambda: attrs.get("output.value"),
        lambda: attrs.get("output"),
        lambda: unflatten_messages(fam.completion),
        lambda: unflatten_messages(fam.oi_out, "message."),
        lambda: maybe_json(attrs.get("gen_ai.output.messages")),
        lambda: attrs.get("gen_ai.tool.call.result"),
    )
    return inp, out


def _genai_messages(attrs: dict[str, Any]) -> Any:
    messages = maybe_json(attrs.get("gen_ai.input.messages"))
    instructions = attrs.get("gen_ai.system_instructions")
    return with_system_instructions(messages, instructions) if (messages or instructions) else None


def _first_present(value: Any, *sources: Any) -> Any:
    if value is not None:
        return value
    for source in sources:
        found = source()
        if found is not None and found != "":
            return found
    return None


def _model_parameters(attrs: dict[str, Any], fam: _Families) -> str | None:
    declared = _first(attrs, "interactiveai.observation.model.parameters", "langfuse.observation.model.parameters")
    if declared is None:
        declared = attrs.get("llm.invocation_parameters")
    if declared is not None:
        return json_text(declared)
    if fam.params:
        return orjson.dumps({k: v for k, v in fam.params.items()}).decode()
    return None


def _consumed(key: str) -> bool:
    return key.startswith(_FAMILIES) or key in _CONSUMED


_CONSUMED = frozenset(
    {
        *_MODEL_KEYS,
        "input.value",
        "output.value",
        "input",
        "output",
        "mlflow.spanInputs",
        "mlflow.spanOutputs",
        "traceloop.entity.input",
        "traceloop.entity.output",
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.system_instructions",
        "llm.invocation_parameters",
        "metadata",
        "user.id",
        "session.id",
        "tag.tags",
        "gen_ai.conversation.id",
    }
)


def _extra_metadata(span: Span) -> dict[str, Any]:
    """For third-party spans: unconsumed attributes, resource attributes and scope, size-capped."""
    attributes: dict[str, Any] = {}
    for key, value in span.attributes.items():
        if _consumed(key):
            continue
        if len(attributes) >= _MAX_EXTRA_ATTRIBUTES:
            break
        attributes[key] = value[:_MAX_EXTRA_CHARS] if isinstance(value, str) else value
    resource = dict(list(span.resource.attributes.items())[:_MAX_EXTRA_ATTRIBUTES])
    scope = {"name": span.scope.name, "version": span.scope.version}
    return {"attributes": attributes, "resourceAttributes": resource, "scope": scope}


def map_span(span: Span, project_id: str, pricing: Pricing) -> MappedSpan:
    attrs = span.attributes
    res = span.resource.attributes
    fam = _Families(attrs)
    first_party = span.scope.name.startswith(_FIRST_PARTY_SCOPES) or "interactiveai.observation.type" in attrs

    model_value = _first(attrs, *_MODEL_KEYS)
    model = _text(model_value)
    provided_usage = _object(
        _first(attrs, "interactiveai.observation.usage_details", "langfuse.observation.usage_details")
    )
    obs_type = _observation_type(attrs, model is not None, bool(provided_usage) or bool(fam.usage))
    agent_operation = str(attrs.get("gen_ai.operation.name")) in _AGENT_OPERATIONS

    if agent_operation:
        usage: dict[str, int | float] = {}
        provided_cost = None
    else:
        if provided_usage is not None:
            usage = normalise_usage(provided_usage)
        elif fam.usage:
            usage = normalise_usage(fam.usage, inclusive=True)
        else:
            usage = {}
        cost_object = _object(
            _first(attrs, "interactiveai.observation.cost_details", "langfuse.observation.cost_details")
        )
        if cost_object is None:
            single = _first(attrs, "gen_ai.usage.cost", "llm.cost.total")
            cost_object = {"total": single} if single is not None else None
        provided_cost = normalise_cost(cost_object) if cost_object is not None else None

    start_us = span.start_ns // 1000 if span.start_ns else 0
    end_us = span.end_ns // 1000 if span.end_ns else 0
    if not start_us:
        start_us = end_us or now_us()
    end_time_us: int | None = max(end_us, start_us) if end_us else None
    cost = pricing.cost(project_id, model, usage, provided_cost, start_us)

    metadata: dict[str, Any] = {}
    for key in ("langfuse.metadata", "langfuse.observation.metadata", "interactiveai.observation.metadata", "metadata"):
        if key in attrs:
            decoded = maybe_json(attrs[key])
            if isinstance(decoded, dict):
                metadata.update(decoded)
            elif key != "metadata":
                metadata["metadata"] = decoded
    metadata.update(fam.obs_meta)
    if not first_party:
        metadata.update(_extra_metadata(span))

    inp, out = _input_output(span, fam)
    input_tokens, output_tokens, total_tokens = token_columns(usage)
    environment = normalise_environment(_first(attrs, *_ENVIRONMENT_KEYS) or _first(res, *_ENVIRONMENT_KEYS))
    version = _text(_first(attrs, "interactiveai.version", "langfuse.version")) or _text(
        _first(res, "interactiveai.version", "langfuse.version", "service.version")
    )
    completion_start = _first(
        attrs, "interactiveai.observation.completion_start_time", "langfuse.observation.completion_start_time"
    )
    name = _text(attrs.get("gen_ai.tool.name")) if obs_type == "TOOL" else None
    row: dict[str, Any] = {
        "trace_id": span.trace_id,
        "id": span.span_id,
        "parent_observation_id": span.parent_id,
        "type": obs_type,
        "name": name or _text(span.name),
        "start_time_us": start_us,
        "end_time_us": end_time_us,
        "completion_start_time_us": _time_us(completion_start) if completion_start is not None else None,
        "level": _level(attrs, span.status_code),
        "status_message": _text(
            _first(attrs, "interactiveai.observation.status_message", "langfuse.observation.status_message")
        )
        or _text(span.status_message),
        "version": version,
        "environment": environment,
        "input": json_text(inp),
        "output": json_text(out),
        "metadata": orjson.dumps(metadata, option=orjson.OPT_NON_STR_KEYS, default=str).decode(),
        "model": model,
        "model_parameters": None if agent_operation else _model_parameters(attrs, fam),
        "usage_details": orjson.dumps(usage).decode(),
        "cost_details": orjson.dumps(cost.details).decode(),
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "total_tokens": total_tokens,
        "input_cost": cost.input,
        "output_cost": cost.output,
        "total_cost": cost.total,
        "cost_source": cost.source,
        "matched_model_id": cost.model_id,
        "service_name": _text(span.resource.service_name),
        "scope_name": _text(span.scope.name),
    }
    return MappedSpan(row, _trace_facts(span, fam, environment, version))


def _trace_facts(span: Span, fam: _Families, environment: str, version: str | None) -> TraceFacts:
    attrs = span.attributes
    res = span.resource.attributes
    as_root = _first(attrs, "interactiveai.internal.as_root", "langfuse.internal.as_root")
    meta = fam.trace_meta
    obs_meta = fam.obs_meta
    trace_metadata: dict[str, Any] = {}
    for source in (res, attrs):
        whole = _object(_first(source, "langfuse.trace.metadata"))
        if whole:
            trace_metadata.update(whole)
    for key, value in res.items():
        if key.startswith(("interactiveai.trace.metadata.", "langfuse.trace.metadata.")):
            trace_metadata[key.split(".trace.metadata.", 1)[1]] = decode_value(value)
    trace_metadata.update(meta)
    public = _first(attrs, "interactiveai.trace.public", "langfuse.trace.public", "langfuse.public")
    input_value = _first(attrs, "interactiveai.trace.input", "langfuse.trace.input")
    output_value = _first(attrs, "interactiveai.trace.output", "langfuse.trace.output")
    return TraceFacts(
        is_root=span.parent_id is None or as_root is True or str(as_root).lower() == "true",
        name=_text(_first(attrs, "interactiveai.trace.name", "langfuse.trace.name")),
        input=json_text(input_value),
        output=json_text(output_value),
        user_id=_text(
            _first(attrs, "interactiveai.user.id", "langfuse.user.id", "user.id")
            or obs_meta.get("langfuse_user_id")
            or meta.get("langfuse_user_id")
        ),
        session_id=_text(
            _first(attrs, "interactiveai.session.id", "langfuse.session.id", "session.id", "gen_ai.conversation.id")
            or obs_meta.get("langfuse_session_id")
            or meta.get("langfuse_session_id")
        ),
        release=_text(_first(attrs, "interactiveai.release", "langfuse.release"))
        or _text(_first(res, "interactiveai.release", "langfuse.release")),
        version=version,
        environment=environment,
        tags=parse_tags(
            _first(attrs, "interactiveai.trace.tags", "langfuse.trace.tags", "langfuse.tags")
            or obs_meta.get("langfuse_tags")
            or meta.get("langfuse_tags")
            or attrs.get("tag.tags")
        ),
        metadata=trace_metadata or None,
        public=None if public is None else (public is True or str(public).lower() == "true"),
    )
