"""What an instrumented OpenAI call records before it is sent: our keyword arguments, taken out of
the request, and the observation's name, input, model and model parameters.

Our keyword arguments are the peer SDK's: ``name``, ``metadata``, ``session_id``, ``user_id``,
``tags``, ``trace_id``, ``parent_observation_id``, plus ``interactiveai_public_key``. They are
removed before the request goes out; ``metadata`` is passed on to OpenAI too when the call sets
``store=True`` (OpenAI keeps it with the stored completion). Metadata keys
``interactiveai_session_id``, ``interactiveai_user_id`` and ``interactiveai_tags`` set the trace's
session, user and tags, as the peer's ``langfuse_*`` keys do.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from interactiveai.sdk.distributed import TraceContext

logger = logging.getLogger("interactiveai")

OUR_KWARGS: Final = frozenset(
    (
        "name",
        "metadata",
        "session_id",
        "user_id",
        "tags",
        "trace_id",
        "parent_observation_id",
        "interactiveai_public_key",
    )
)
# Keys the request carries that are the payload or transport options, not model parameters.
_NOT_PARAMETERS: Final = frozenset(
    (
        "messages",
        "model",
        "input",
        "prompt",
        "instructions",
        "stream",
        "stream_options",
        "extra_headers",
        "extra_query",
        "extra_body",
        "timeout",
        "metadata",
        "text_format",
    )
)
_TRACE_METADATA: Final = {
    "interactiveai_session_id": "session_id",
    "interactiveai_user_id": "user_id",
    "interactiveai_tags": "tags",
}
DEFAULT_NAMES: Final = {"embedding": "OpenAI-embedding"}
DEFAULT_NAME: Final = "OpenAI-generation"

_SENTINELS: tuple[type, ...] = ()
try:  # openai's "argument not given" markers (``Omit`` is newer than ``NotGiven``)
    from openai._types import NotGiven as _NotGiven

    _SENTINELS = (_NotGiven,)
    from openai._types import Omit as _Omit

    _SENTINELS = (_NotGiven, _Omit)
except ImportError:  # pragma: no cover - depends on the installed openai
    pass

# JSON schemas of response_format classes, computed once per class (pydantic's is slow).
_SCHEMAS: dict[type, dict[str, Any]] = {}


class Request:
    """The observation fields of one call, and the keyword arguments to send."""

    __slots__ = (
        "name",
        "kind",
        "kwargs",
        "public_key",
        "input",
        "model",
        "model_parameters",
        "metadata",
        "trace",
        "trace_context",
    )

    def __init__(self, name: str, kind: str, kwargs: dict[str, Any]) -> None:
        self.name = name
        self.kind = kind
        self.kwargs = kwargs
        self.public_key: str | None = None
        self.input: Any = None
        self.model: str | None = None
        self.model_parameters: dict[str, Any] | None = None
        self.metadata: dict[str, Any] | None = None
        self.trace: dict[str, Any] | None = None
        self.trace_context: TraceContext | None = None


def is_given(value: Any) -> bool:
    return value is not None and not isinstance(value, _SENTINELS)


def split_kwargs(kind: str, kwargs: dict[str, Any]) -> Request:
    """Take our keyword arguments out of ``kwargs`` (what is left goes to OpenAI). Never raises."""
    if OUR_KWARGS.isdisjoint(kwargs):  # the common case: nothing of ours to take out
        return Request(DEFAULT_NAMES.get(kind, DEFAULT_NAME), kind, kwargs)
    ours = {key: kwargs.pop(key) for key in OUR_KWARGS.intersection(kwargs)}
    metadata = ours.get("metadata")
    if metadata is not None and is_given(kwargs.get("store")) and kwargs.get("store"):
        kwargs["metadata"] = metadata  # OpenAI stores it with the completion
    name = ours.get("name")
    request = Request(name if isinstance(name, str) and name else DEFAULT_NAMES.get(kind, DEFAULT_NAME), kind, kwargs)
    public_key = ours.get("interactiveai_public_key")
    request.public_key = public_key if isinstance(public_key, str) else None
    trace: dict[str, Any] = {}
    if isinstance(metadata, Mapping):
        metadata = dict(metadata)
        for key, attribute in _TRACE_METADATA.items():
            if key in metadata:
                trace[attribute] = metadata.pop(key)
        request.metadata = metadata or None
    elif is_given(metadata):
        request.metadata = {"value": metadata}
    for attribute in ("session_id", "user_id", "tags"):
        if ours.get(attribute) is not None:
            trace[attribute] = ours[attribute]
    if isinstance(trace.get("tags"), str):
        trace["tags"] = [trace["tags"]]
    request.trace = trace or None
    trace_id, parent_id = ours.get("trace_id"), ours.get("parent_observation_id")
    if isinstance(trace_id, str) and trace_id:
        request.trace_context = {"trace_id": trace_id}
        if isinstance(parent_id, str) and parent_id:
            request.trace_context["parent_span_id"] = parent_id
    elif parent_id is not None:
        logger.warning("interactiveai: parent_observation_id needs trace_id; ignoring it")
    return request


def _listed(kwargs: dict[str, Any], key: str) -> Any:
    """The argument as a list when it is a one-shot iterable (a generator): read once, sent as read."""
    value = kwargs.get(key)
    if value is None or type(value) is list:  # the common cases, without the ABC checks (~1 µs each)
        return value
    if not isinstance(value, Sequence | Mapping | str | bytes) and isinstance(value, Iterable):
        value = kwargs[key] = list(value)
    return value


def _schema_of(value: Any) -> Any:
    """A response_format/text_format given as a pydantic class: its name and JSON schema."""
    if not isinstance(value, type):
        return value
    schema = _SCHEMAS.get(value)
    if schema is None:
        try:
            body = value.model_json_schema()  # type: ignore[attr-defined]
        except Exception:
            body = None
        schema = {"type": "json_schema", "json_schema": {"name": value.__name__, "schema": body}}
        if len(_SCHEMAS) < 256:
            _SCHEMAS[value] = schema
    return schema


def describe(request: Request) -> None:
    """Fill the request's input, model and model parameters from the arguments. Never raises."""
    kwargs = request.kwargs
    kind = request.kind
    model = kwargs.get("model")
    request.model = model if isinstance(model, str) and model else None
    if kind == "chat":
        messages = _listed(kwargs, "messages")
        tools = _listed(kwargs, "tools")
        functions = _listed(kwargs, "functions")
        if is_given(tools) or is_given(functions):
            payload: dict[str, Any] = {"messages": messages}
            if is_given(tools):
                payload["tools"] = tools
            if is_given(functions):
                payload["functions"] = functions
            request.input = payload
        else:
            request.input = messages
    elif kind == "completion":
        request.input = kwargs.get("prompt")
    elif kind == "embedding":
        request.input = kwargs.get("input")
    else:  # the Responses API
        _listed(kwargs, "tools")
        value = _listed(kwargs, "input")
        instructions = kwargs.get("instructions")
        request.input = {"instructions": instructions, "input": value} if is_given(instructions) else value
    parameters: dict[str, Any] = {}
    for key, value in kwargs.items():
        if key in _NOT_PARAMETERS or not is_given(value):
            continue
        parameters[key] = _schema_of(value) if key == "response_format" else value
    if is_given(kwargs.get("text_format")):
        parameters["text_format"] = _schema_of(kwargs["text_format"])
    request.model_parameters = parameters or None
