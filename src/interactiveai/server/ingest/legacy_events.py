"""Events of the batch ingestion API (``POST /api/public/ingestion``) → trace and observation patches.

The reference SDK's older releases send everything as events, its newer ones every score:
``{id, type, timestamp, body}`` where ``body.id`` names the entity and later events with the same
id update it. This module checks each event on its own (a bad one is answered 400 alone, never
the batch) and folds the good ones, per entity, into one patch: creates before updates, each in
timestamp order, later values winning (metadata merged, tags united), as the reference does.
The patches are written by ``legacy_writes`` inside the ingestion writer's transaction, where
they meet what is stored. Scores go to the REST API's score writes unchanged.

The same hostile-input rules as OTLP ingestion apply: names and other indexed text are bounded
(``bounds``), JSON nested deeper than readers render is kept as its text (``json_values``), NUL
is dropped from text (``fields.text``), times lie in years 1-9999. Entity ids are refused instead
(400 for the event) when they are not text an id column holds (``writes.errors.checked_key``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from interactiveai.server import json_values
from interactiveai.server.clock import parse_iso_to_us, us_to_datetime
from interactiveai.server.ingest import fields
from interactiveai.server.ingest.records import TraceFacts
from interactiveai.server.ingest.usage import normalise_cost, normalise_usage, usage_as_sent
from interactiveai.server.writes.errors import MAX_ID, InvalidInputError, checked_key

TRACE = "trace-create"
SCORE = "score-create"
SDK_LOG = "sdk-log"
# event type → (observation type, is an update, takes the generation body's fields)
OBSERVATION_EVENTS: dict[str, tuple[str | None, bool, bool]] = {
    "span-create": ("SPAN", False, False),
    "span-update": ("SPAN", True, False),
    "event-create": ("EVENT", False, False),
    "generation-create": ("GENERATION", False, True),
    "generation-update": ("GENERATION", True, True),
    "agent-create": ("AGENT", False, True),
    "tool-create": ("TOOL", False, True),
    "chain-create": ("CHAIN", False, True),
    "retriever-create": ("RETRIEVER", False, True),
    "evaluator-create": ("EVALUATOR", False, True),
    "embedding-create": ("EMBEDDING", False, True),
    "guardrail-create": ("GUARDRAIL", False, True),
    # the legacy form: the body names its type (GENERATION, SPAN or EVENT)
    "observation-create": (None, False, True),
    "observation-update": (None, True, True),
}
EVENT_TYPES = (TRACE, SCORE, SDK_LOG, *OBSERVATION_EVENTS)
_LEGACY_TYPES = ("GENERATION", "SPAN", "EVENT")
_LEVELS = ("DEBUG", "DEFAULT", "WARNING", "ERROR")
_ID_NAMESPACE = uuid.UUID("6f1c2a4e-1d0b-4a52-9a57-3c1e7b1c0a11")  # ids made up for events that name none


class EventError(ValueError):
    """The event breaks a rule; answered 400 for this event only, the message says which."""


@dataclass(slots=True)
class Event:
    """An event that passed its checks: its envelope, and what its body becomes."""

    index: int
    id: str
    type: str
    timestamp_us: int
    update: bool = False
    score: dict[str, Any] | None = None  # score-create: the body for the score writes
    log: Any = None  # sdk-log: what the SDK logged


@dataclass(slots=True)
class TracePatch:
    """What a batch says about one trace: its facts, and the time it names (if any)."""

    id: str
    facts: TraceFacts = field(default_factory=TraceFacts)
    timestamp_us: int | None = None  # the body's own timestamp
    first_seen_us: int | None = None  # the earliest event's time: the timestamp of a trace new to the store
    event_indexes: list[int] = field(default_factory=list)


@dataclass(slots=True)
class ObservationPatch:
    """What a batch says about one observation: only the fields it gives (later events win)."""

    id: str
    trace_id: str | None
    type: str | None = None  # from a create event, which wins over an update's
    created: bool = False
    values: dict[str, Any] = field(default_factory=dict)  # observation column → value
    metadata: dict[str, Any] = field(default_factory=dict)
    usage: dict[str, int | float] | None = None  # normalised: what tokens and prices are computed from
    usage_stored: dict[str, int | float] | None = None  # what the usage column holds (see _usage)
    cost: dict[str, float] | None = None
    first_seen_us: int = 0  # the start time when no event gives one
    root: bool = False  # its trace is named after it (no event named a trace): it gives the trace's name and I/O
    event_indexes: list[int] = field(default_factory=list)


@dataclass
class ParsedBatch:
    events: list[Event] = field(default_factory=list)
    errors: dict[int, tuple[str, str]] = field(default_factory=dict)  # index → (event id, why)
    traces: dict[str, TracePatch] = field(default_factory=dict)
    observations: dict[tuple[str | None, str], ObservationPatch] = field(default_factory=dict)
    latest: dict[str, tuple[str | None, str]] = field(default_factory=dict)  # observation id → its key


def parse_batch(batch: list[Any], now_us: int) -> ParsedBatch:
    """Check every event, then fold the good ones per entity (creates first, then by time)."""
    parsed = ParsedBatch()
    bodies: dict[int, dict[str, Any]] = {}
    for index, raw in enumerate(batch):
        try:
            event, body = _envelope(index, raw, now_us)
            if event.type == SCORE:
                event.score = _score(event, body)
            elif event.type == SDK_LOG:
                event.log = body.get("log")
            parsed.events.append(event)
            bodies[index] = body
        except (EventError, InvalidInputError) as exc:
            parsed.errors[index] = (_event_id(raw), str(exc))
    ordered = sorted(parsed.events, key=lambda e: (e.update, e.timestamp_us, e.index))
    for event in ordered:
        if event.type in (SCORE, SDK_LOG):
            continue
        try:
            if event.type == TRACE:
                _fold_trace(parsed, event, bodies[event.index])
            else:
                _fold_observation(parsed, event, bodies[event.index])
        except (EventError, InvalidInputError) as exc:
            parsed.errors[event.index] = (event.id, str(exc))
    if parsed.errors:
        parsed.events = [event for event in parsed.events if event.index not in parsed.errors]
    return parsed


def _event_id(raw: Any) -> str:
    value = raw.get("id") if isinstance(raw, dict) else None
    return value if isinstance(value, str) else ""


def _envelope(index: int, raw: Any, now_us: int) -> tuple[Event, dict[str, Any]]:
    if not isinstance(raw, dict):
        raise EventError("an event must be a JSON object with id, type, timestamp and body")
    event_id = raw.get("id")
    if not isinstance(event_id, str) or not event_id:
        raise EventError("id (the event's id) must be a non-empty string")
    kind = raw.get("type")
    if kind not in EVENT_TYPES:
        raise EventError(f"type must be one of {', '.join(EVENT_TYPES)}")
    body = raw.get("body")
    if not isinstance(body, dict):
        raise EventError("body must be a JSON object")
    timestamp = _time(raw, "timestamp", "the event's ")
    update = kind in OBSERVATION_EVENTS and OBSERVATION_EVENTS[kind][1]
    return Event(index, event_id, kind, now_us if timestamp is None else timestamp, update), body


# --- field checks ---------------------------------------------------------------------------------


def _time(body: dict[str, Any], key: str, whose: str = "") -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise EventError(f"{whose}{key} must be an ISO 8601 date-time string")
    try:
        return parse_iso_to_us(value)
    except ValueError as exc:
        raise EventError(f"{whose}{key}: {exc}") from None


def _entity_id(body: dict[str, Any], key: str) -> str | None:
    """A trace or observation id: text an id column holds, usable as one segment of a URL path
    (the API's and the UI's pages name traces and observations so): no "/", not "." or ".."."""
    value = body.get(key)
    if value is None or value == "":
        return None
    checked = checked_key(value, key, MAX_ID)
    if "/" in checked or checked in (".", ".."):
        raise EventError(f'{key} must not contain "/" nor be "." or ".." (it names a URL path segment)')
    return checked


def _string(body: dict[str, Any], key: str) -> str | None:
    """A text field: a string (NUL dropped, as ingestion does) or null/absent."""
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise EventError(f"{key} must be a string")
    return fields.text(value)


def _version(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return _string(body, key)


def _object(body: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise EventError(f"{key} must be a JSON object")
    return value


def _payload(body: dict[str, Any], key: str) -> str | None:
    """input/output: any JSON value, stored as its JSON text within the readers' bounds."""
    value = body.get(key)
    return None if value is None else json_values.dumps(value)


def _metadata(body: dict[str, Any]) -> dict[str, Any] | None:
    value = body.get("metadata")
    if value is None:
        return None
    bounded = json_values.bounded(value)
    return bounded if isinstance(bounded, dict) else {"metadata": bounded}


def _tags(body: dict[str, Any]) -> list[str] | None:
    value = body.get("tags")
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
        raise EventError("tags must be a list of strings")
    return fields.tags(value)


# --- traces -----------------------------------------------------------------------------------------


def _fold_trace(parsed: ParsedBatch, event: Event, body: dict[str, Any]) -> None:
    trace_id = _entity_id(body, "id") or str(uuid.uuid5(_ID_NAMESPACE, event.id))
    timestamp = _time(body, "timestamp")
    public = body.get("public")
    if public is not None and not isinstance(public, bool):
        raise EventError("public must be a boolean")
    facts = TraceFacts(
        name=_string(body, "name"),
        input=_payload(body, "input"),
        output=_payload(body, "output"),
        user_id=_string(body, "userId"),
        session_id=_string(body, "sessionId"),
        release=_string(body, "release"),
        version=_version(body, "version"),
        environment=fields.environment(body.get("environment")),
        tags=_tags(body),
        metadata=_metadata(body),
        public=public,
    )
    patch = parsed.traces.get(trace_id)
    if patch is None:
        patch = parsed.traces[trace_id] = TracePatch(trace_id, facts, timestamp, event.timestamp_us)
    else:
        fold_facts(patch.facts, facts)
        if timestamp is not None:
            patch.timestamp_us = timestamp if patch.timestamp_us is None else min(patch.timestamp_us, timestamp)
    patch.event_indexes.append(event.index)


def fold_facts(into: TraceFacts, later: TraceFacts) -> None:
    """``later`` over ``into``: values it gives win, tags unite, metadata keys merge, public if ever true."""
    for name in ("name", "input", "output", "user_id", "session_id", "release", "version"):
        value = getattr(later, name)
        if value is not None:
            setattr(into, name, value)
    if later.environment != "default":
        into.environment = later.environment
    if later.tags:
        into.tags = sorted(set(into.tags or ()) | set(later.tags))
    if later.metadata:
        into.metadata = {**(into.metadata or {}), **later.metadata}
    if later.public:
        into.public = True
    into.is_root = into.is_root or later.is_root


# --- observations -----------------------------------------------------------------------------------


def _fold_observation(parsed: ParsedBatch, event: Event, body: dict[str, Any]) -> None:
    declared_type, _, generation_fields = OBSERVATION_EVENTS[event.type]
    observation_id = _entity_id(body, "id")
    if observation_id is None:
        raise EventError("body.id (the observation's id) is required")
    obs_type = declared_type
    if obs_type is None:
        raw_type = body.get("type")
        if raw_type is not None and raw_type not in _LEGACY_TYPES:
            raise EventError(f"body.type must be one of {', '.join(_LEGACY_TYPES)}")
        if raw_type is None and not event.update:
            raise EventError(f"body.type is required: one of {', '.join(_LEGACY_TYPES)}")
        obs_type = raw_type
        generation_fields = raw_type == "GENERATION" or raw_type is None
    values = _observation_values(body, generation_fields)
    usage, usage_stored, cost = _usage(body) if generation_fields else (None, None, None)
    metadata = _metadata(body) or {}
    if generation_fields:
        prompt_name, prompt_version = _string(body, "promptName"), body.get("promptVersion")
        if prompt_version is not None and (isinstance(prompt_version, bool) or not isinstance(prompt_version, int)):
            raise EventError("promptVersion must be an integer")
        if prompt_name is not None:  # no column of its own: kept where every reader shows it
            metadata["promptName"] = prompt_name
            if prompt_version is not None:
                metadata["promptVersion"] = prompt_version
    trace_id = _entity_id(body, "traceId")
    key = (trace_id, observation_id)
    patch = parsed.observations.get(key)
    if patch is None and trace_id is not None and (None, observation_id) in parsed.observations:
        patch = parsed.observations.pop((None, observation_id))  # an earlier event left the trace out
        patch.trace_id = trace_id
        parsed.observations[key] = patch
    elif patch is None and trace_id is None and observation_id in parsed.latest:
        key = parsed.latest[observation_id]  # an update that leaves the trace out: the one named before
        patch = parsed.observations[key]
    if patch is None:
        patch = parsed.observations[key] = ObservationPatch(observation_id, trace_id, first_seen_us=event.timestamp_us)
    parsed.latest[observation_id] = key
    if obs_type is not None and (patch.type is None or (not event.update and not patch.created)):
        patch.type = obs_type
    patch.created = patch.created or not event.update
    patch.values.update(values)
    patch.metadata.update(metadata)
    if usage:
        patch.usage, patch.usage_stored = usage, usage_stored
    if cost:
        patch.cost = cost
    patch.event_indexes.append(event.index)


def _observation_values(body: dict[str, Any], generation_fields: bool) -> dict[str, Any]:
    level = body.get("level")
    if level is not None and (not isinstance(level, str) or level.upper() not in _LEVELS):
        raise EventError(f"level must be one of {', '.join(_LEVELS)}")
    candidates: dict[str, Any] = {
        "parent_observation_id": _entity_id(body, "parentObservationId"),
        "name": _string(body, "name"),
        "start_time_us": _time(body, "startTime"),
        "end_time_us": _time(body, "endTime"),
        "level": level.upper() if isinstance(level, str) else None,
        "status_message": _string(body, "statusMessage"),
        "version": _version(body, "version"),
        "input": _payload(body, "input"),
        "output": _payload(body, "output"),
    }
    if body.get("environment") is not None:
        candidates["environment"] = fields.environment(body["environment"])
    if generation_fields:
        parameters = _object(body, "modelParameters")
        candidates["completion_start_time_us"] = _time(body, "completionStartTime")
        candidates["model"] = _string(body, "model")
        candidates["model_parameters"] = None if parameters is None else json_values.dumps(parameters)
    return {column: value for column, value in candidates.items() if value is not None}


# Legacy ``usage`` names → canonical usage keys, and its cost fields → cost keys.
_LEGACY_USAGE = {
    "input": "input",
    "output": "output",
    "total": "total",
    "promptTokens": "input",
    "completionTokens": "output",
    "totalTokens": "total",
}
_LEGACY_COST = {"inputCost": "input", "outputCost": "output", "totalCost": "total"}


def _usage(
    body: dict[str, Any],
) -> tuple[dict[str, int | float] | None, dict[str, int | float] | None, dict[str, float] | None]:
    """(usage, usage as stored, provided cost): ``usageDetails`` over the legacy ``usage``,
    ``costDetails`` over its costs.

    As the reference stores them: an OpenAI usage object (Chat Completions' ``prompt_tokens``,
    ``completion_tokens``, ``total_tokens``, or the Responses API's ``input_tokens``,
    ``output_tokens``, ``total_tokens``, with their ``*_details``) in the canonical keys, its
    detail counts apart from input and output; any other map with its own keys (plus ``total``),
    as OTLP ingestion stores a declared usage object; the legacy ``usage`` as input, output, total.
    """
    legacy = _object(body, "usage")
    details = _object(body, "usageDetails")
    cost_details = _object(body, "costDetails")
    usage: dict[str, int | float] | None = None
    stored: dict[str, int | float] | None = None
    cost: dict[str, float] | None = None
    if details:
        usage = normalise_usage(details)
        stored = usage if _openai_usage(details) else usage_as_sent(details, usage)
    elif legacy:
        counts = {_LEGACY_USAGE[k]: v for k, v in legacy.items() if k in _LEGACY_USAGE and v is not None}
        usage = stored = normalise_usage(counts, inclusive=False) if counts else None
    if cost_details:
        cost = normalise_cost(cost_details)
    elif legacy:
        costs = {_LEGACY_COST[k]: v for k, v in legacy.items() if k in _LEGACY_COST and v is not None}
        cost = normalise_cost(costs) if costs else None
    if not usage:
        return None, None, cost or None
    return usage, stored, cost or None


_OPENAI_USAGE = (
    ("prompt_tokens", "completion_tokens", "total_tokens"),
    ("input_tokens", "output_tokens", "total_tokens"),
)


def _openai_usage(details: dict[str, Any]) -> bool:
    return any(all(isinstance(details.get(key), int | float) for key in keys) for keys in _OPENAI_USAGE)


# --- scores -----------------------------------------------------------------------------------------


def _score(event: Event, body: dict[str, Any]) -> dict[str, Any]:
    """The body for the score writes: the event's id and time when the body names neither."""
    score = dict(body)
    if score.get("id") in (None, ""):
        score["id"] = event.id if len(event.id) <= MAX_ID else str(uuid.uuid5(_ID_NAMESPACE, event.id))
    if score.get("timestamp") is None:
        score["timestamp"] = us_to_datetime(event.timestamp_us).isoformat().replace("+00:00", "Z")
    return score
