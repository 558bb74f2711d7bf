"""Span attribute keys the SDK writes (DESIGN §2) and the builders that encode values for them.

Encoding rules: input/output are a string as is, anything else JSON; every metadata value is
JSON-encoded so the server decodes it unambiguously; model parameters, usage and cost details
are JSON objects; completion start time is an ISO-8601 UTC string; tags a string array.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, Literal, Protocol, get_args

from opentelemetry.util.types import AttributeValue

from interactiveai.sdk.serialize import to_json, to_text

logger = logging.getLogger("interactiveai")

ObservationType = Literal[
    "span", "generation", "agent", "tool", "chain", "retriever", "embedding", "evaluator", "guardrail", "event"
]
ObservationTypeNoEvent = Literal[
    "span", "generation", "agent", "tool", "chain", "retriever", "embedding", "evaluator", "guardrail"
]
Level = Literal["DEBUG", "DEFAULT", "WARNING", "ERROR"]

OBSERVATION_TYPES: Final[frozenset[str]] = frozenset(get_args(ObservationType))
DECORATOR_TYPES: Final[frozenset[str]] = frozenset(get_args(ObservationTypeNoEvent))
LEVELS: Final[frozenset[str]] = frozenset(get_args(Level))

FAILED_MASK: Final = "<fully masked due to failed mask function>"


class MaskFunction(Protocol):
    """``mask(data=value)`` returns the value to record instead (e.g. with secrets redacted)."""

    def __call__(self, *, data: Any) -> Any: ...


class Attr:
    """Attribute keys (namespace ``interactiveai.``, plus the standard ``user.id``/``session.id``)."""

    OBSERVATION_TYPE: Final = "interactiveai.observation.type"
    OBSERVATION_INPUT: Final = "interactiveai.observation.input"
    OBSERVATION_OUTPUT: Final = "interactiveai.observation.output"
    OBSERVATION_LEVEL: Final = "interactiveai.observation.level"
    OBSERVATION_STATUS_MESSAGE: Final = "interactiveai.observation.status_message"
    OBSERVATION_MODEL: Final = "interactiveai.observation.model.name"
    OBSERVATION_MODEL_PARAMETERS: Final = "interactiveai.observation.model.parameters"
    OBSERVATION_USAGE_DETAILS: Final = "interactiveai.observation.usage_details"
    OBSERVATION_COST_DETAILS: Final = "interactiveai.observation.cost_details"
    OBSERVATION_COMPLETION_START_TIME: Final = "interactiveai.observation.completion_start_time"
    OBSERVATION_METADATA_PREFIX: Final = "interactiveai.observation.metadata."

    TRACE_NAME: Final = "interactiveai.trace.name"
    TRACE_TAGS: Final = "interactiveai.trace.tags"
    TRACE_INPUT: Final = "interactiveai.trace.input"
    TRACE_OUTPUT: Final = "interactiveai.trace.output"
    TRACE_PUBLIC: Final = "interactiveai.trace.public"
    TRACE_METADATA_PREFIX: Final = "interactiveai.trace.metadata."
    TRACE_USER_ID: Final = "user.id"
    TRACE_SESSION_ID: Final = "session.id"

    VERSION: Final = "interactiveai.version"
    RELEASE: Final = "interactiveai.release"
    ENVIRONMENT: Final = "interactiveai.environment"
    AS_ROOT: Final = "interactiveai.internal.as_root"
    # The remote parent's id was made up (a trace id given without a parent id): not an observation.
    SYNTHETIC_PARENT: Final = "interactiveai.internal.synthetic_parent"


def apply_mask(value: Any, mask: MaskFunction | None) -> Any:
    """``mask(data=value)``; a failing mask hides the value completely rather than leak it."""
    if mask is None:
        return value
    try:
        return mask(data=value)
    except Exception as exc:
        logger.warning("interactiveai: mask function failed (%s); value fully masked", type(exc).__name__)
        return FAILED_MASK


def iso_utc(value: dt.datetime) -> str:
    """ISO-8601 UTC with a ``Z``; naive datetimes are taken as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _metadata(prefix: str, metadata: Any, mask: MaskFunction | None, out: dict[str, AttributeValue]) -> None:
    if mask is not None:
        metadata = apply_mask(metadata, mask)
    if type(metadata) is dict or isinstance(metadata, Mapping):
        for key, value in metadata.items():
            if value is not None:
                out[prefix + str(key)] = to_json(value)
    elif metadata is not None:
        # A non-dict metadata value still has to land somewhere the server reads.
        out[prefix + "value"] = to_json(metadata)


def _json_object(value: Any) -> str:
    return to_json(dict(value) if isinstance(value, Mapping) else value)


def observation_attributes(
    *,
    mask: MaskFunction | None = None,
    input: Any = None,
    output: Any = None,
    metadata: Any = None,
    version: str | None = None,
    level: str | None = None,
    status_message: str | None = None,
    model: str | None = None,
    model_parameters: Mapping[str, Any] | None = None,
    usage_details: Mapping[str, Any] | None = None,
    cost_details: Mapping[str, Any] | None = None,
    completion_start_time: dt.datetime | None = None,
) -> dict[str, AttributeValue]:
    """Observation attributes for the fields given; ``None`` means "leave unchanged"."""
    out: dict[str, AttributeValue] = {}
    if input is not None:
        out[Attr.OBSERVATION_INPUT] = to_text(input if mask is None else apply_mask(input, mask))
    if output is not None:
        out[Attr.OBSERVATION_OUTPUT] = to_text(output if mask is None else apply_mask(output, mask))
    if metadata is not None:
        _metadata(Attr.OBSERVATION_METADATA_PREFIX, metadata, mask, out)
    if version is not None:
        out[Attr.VERSION] = str(version)
    if level is not None:
        if str(level).upper() in LEVELS:
            out[Attr.OBSERVATION_LEVEL] = str(level).upper()
        else:
            logger.warning("interactiveai: unknown level %r ignored (use DEBUG, DEFAULT, WARNING or ERROR)", level)
    if status_message is not None:
        out[Attr.OBSERVATION_STATUS_MESSAGE] = str(status_message)
    if model is not None:
        out[Attr.OBSERVATION_MODEL] = str(model)
    if model_parameters is not None:
        out[Attr.OBSERVATION_MODEL_PARAMETERS] = _json_object(model_parameters)
    if usage_details is not None:
        out[Attr.OBSERVATION_USAGE_DETAILS] = _json_object(usage_details)
    if cost_details is not None:
        out[Attr.OBSERVATION_COST_DETAILS] = _json_object(cost_details)
    if completion_start_time is not None:
        if isinstance(completion_start_time, dt.datetime):
            out[Attr.OBSERVATION_COMPLETION_START_TIME] = iso_utc(completion_start_time)
        else:
            out[Attr.OBSERVATION_COMPLETION_START_TIME] = str(completion_start_time)
    return out


def _tags(tags: Sequence[str] | str) -> list[str]:
    if isinstance(tags, str):
        return [tags]
    return [str(t) for t in tags if t is not None]


def trace_attributes(
    *,
    mask: MaskFunction | None = None,
    name: str | None = None,
    user_id: str | None = None,
    session_id: str | None = None,
    version: str | None = None,
    input: Any = None,
    output: Any = None,
    metadata: Any = None,
    tags: Sequence[str] | None = None,
    public: bool | None = None,
) -> dict[str, AttributeValue]:
    """Trace-level attributes (written on one span; the server merges them into the trace)."""
    out: dict[str, AttributeValue] = {}
    if name is not None:
        out[Attr.TRACE_NAME] = str(name)
    if user_id is not None:
        out[Attr.TRACE_USER_ID] = str(user_id)
    if session_id is not None:
        out[Attr.TRACE_SESSION_ID] = str(session_id)
    if version is not None:
        out[Attr.VERSION] = str(version)
    if input is not None:
        out[Attr.TRACE_INPUT] = to_text(apply_mask(input, mask))
    if output is not None:
        out[Attr.TRACE_OUTPUT] = to_text(apply_mask(output, mask))
    if metadata is not None:
        _metadata(Attr.TRACE_METADATA_PREFIX, metadata, mask, out)
    if tags is not None:
        out[Attr.TRACE_TAGS] = _tags(tags)
    if public is not None:
        out[Attr.TRACE_PUBLIC] = bool(public)
    return out


def safe_attributes(build: Callable[..., dict[str, AttributeValue]], **fields: Any) -> dict[str, AttributeValue]:
    """``build(**fields)``, or nothing if building fails: a bad value never reaches user code."""
    try:
        return build(**fields)
    except Exception as exc:
        logger.warning("interactiveai: could not record attributes: %s", exc)
        return {}
