"""``propagate_attributes``: trace attributes that every span started inside a block inherits.

Values live in the OTel context (and, with ``as_baggage=True``, in W3C baggage so they cross
service boundaries). A span processor (``apply_propagated``, called from ``on_start``) copies
them onto each new span, third-party spans included. The span current at entry is updated at
once; spans that already ended, or were started before, are not touched.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Final

from opentelemetry import baggage, trace
from opentelemetry import context as otel_context
from opentelemetry.context import Context
from opentelemetry.sdk.trace import Span
from opentelemetry.util.types import AttributeValue

from interactiveai.sdk.attributes import Attr
from interactiveai.sdk.context import detach_quietly
from interactiveai.sdk.serialize import to_json

logger = logging.getLogger("interactiveai")

MAX_VALUE_LENGTH: Final = 200
BAGGAGE_PREFIX: Final = "interactiveai_"
BAGGAGE_METADATA_PREFIX: Final = "interactiveai_metadata_"
_CONTEXT_KEY: Final = otel_context.create_key("interactiveai.propagated")
# OTel's own context key for baggage, read directly on the span-start hot path when available.
_BAGGAGE_KEY: Final[str | None] = getattr(baggage, "_BAGGAGE_KEY", None)
_get_current: Final = otel_context.get_current

_SCALARS: Final = {
    "user_id": Attr.TRACE_USER_ID,
    "session_id": Attr.TRACE_SESSION_ID,
    "trace_name": Attr.TRACE_NAME,
    "version": Attr.VERSION,
}


@dataclass(frozen=True)
class _Propagated:
    """The merged attribute set of the enclosing ``propagate_attributes`` blocks."""

    scalars: dict[str, str] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)

    def merged(self, inner: _Propagated) -> _Propagated:
        tags = self.tags + tuple(t for t in inner.tags if t not in self.tags)
        return _Propagated({**self.scalars, **inner.scalars}, tags, {**self.metadata, **inner.metadata})

    @functools.cached_property
    def attributes(self) -> dict[str, AttributeValue]:
        """Computed once per block, then shared by every span started in it (read-only)."""
        out: dict[str, AttributeValue] = {_SCALARS[k]: v for k, v in self.scalars.items()}
        if self.tags:
            out[Attr.TRACE_TAGS] = list(self.tags)
        for key, value in self.metadata.items():
            out[Attr.TRACE_METADATA_PREFIX + key] = to_json(value)
        return out


def _check(what: str, value: Any) -> str | None:
    """``value`` if it is a US-ASCII string of at most 200 characters, else None (with a warning)."""
    if not isinstance(value, str):
        logger.warning("interactiveai: propagate_attributes: %s must be a string, got %s; dropped", what, type(value))
    elif not value.isascii():
        logger.warning("interactiveai: propagate_attributes: %s must be US-ASCII; dropped", what)
    elif len(value) > MAX_VALUE_LENGTH:
        logger.warning("interactiveai: propagate_attributes: %s is longer than 200 characters; dropped", what)
    else:
        return value
    return None


def _validated(user_id: Any, session_id: Any, trace_name: Any, version: Any, tags: Any, metadata: Any) -> _Propagated:
    scalars: dict[str, str] = {}
    for key, value in (
        ("user_id", user_id),
        ("session_id", session_id),
        ("trace_name", trace_name),
        ("version", version),
    ):
        if value is not None and (checked := _check(key, value)) is not None:
            scalars[key] = checked
    valid_tags: list[str] = []
    if tags is not None:
        items: Sequence[Any] = [tags] if isinstance(tags, str) else list(tags)
        for tag in items:
            if (checked := _check("tag", tag)) is not None and checked not in valid_tags:
                valid_tags.append(checked)
    valid_metadata: dict[str, Any] = {}
    if metadata is not None:
        if not isinstance(metadata, Mapping):
            logger.warning("interactiveai: propagate_attributes: metadata must be a dict; dropped")
        else:
            for key, value in metadata.items():
                if value is None or _check(f"metadata key {key!r}", str(key)) is None:
                    continue
                # Non-string values are checked on their JSON text, the form that is sent.
                text = value if isinstance(value, str) else to_json(value)
                if _check(f"metadata[{key!r}]", text) is not None:
                    valid_metadata[str(key)] = value
    return _Propagated(scalars, tuple(valid_tags), valid_metadata)


def _with_baggage(ctx: Context, values: _Propagated) -> Context:
    for key, value in values.scalars.items():
        ctx = baggage.set_baggage(BAGGAGE_PREFIX + key, value, ctx)
    if values.tags:
        ctx = baggage.set_baggage(BAGGAGE_PREFIX + "tags", ",".join(values.tags), ctx)
    for key, meta in values.metadata.items():
        ctx = baggage.set_baggage(BAGGAGE_METADATA_PREFIX + key, meta if isinstance(meta, str) else to_json(meta), ctx)
    return ctx


def _from_baggage(ctx: Context | None) -> dict[str, AttributeValue]:
    """Attributes a service upstream sent as baggage (``as_baggage=True`` there)."""
    out: dict[str, AttributeValue] = {}
    for key, value in baggage.get_all(ctx).items():
        if not key.startswith(BAGGAGE_PREFIX) or not isinstance(value, str):
            continue
        name = key[len(BAGGAGE_PREFIX) :]
        if name in _SCALARS:
            out[_SCALARS[name]] = value
        elif name == "tags":
            out[Attr.TRACE_TAGS] = [t for t in value.split(",") if t]
        elif key.startswith(BAGGAGE_METADATA_PREFIX):
            out[Attr.TRACE_METADATA_PREFIX + key[len(BAGGAGE_METADATA_PREFIX) :]] = to_json(value)
    return out


def has_propagated(ctx: Context | None = None) -> bool:
    """Whether ``ctx`` (default: the current context) carries propagated values or any baggage."""
    if ctx is None:
        ctx = _get_current()
    return ctx.get(_CONTEXT_KEY) is not None or _BAGGAGE_KEY is None or bool(ctx.get(_BAGGAGE_KEY))


def propagated_attributes(ctx: Context | None = None) -> dict[str, AttributeValue]:
    """The attributes a span started in ``ctx`` (default: the current context) inherits."""
    if ctx is None:
        ctx = otel_context.get_current()
    values = ctx.get(_CONTEXT_KEY)
    # Fast path for every span start: nothing propagated and no baggage at all.
    if values is None and _BAGGAGE_KEY is not None and not ctx.get(_BAGGAGE_KEY):
        return {}
    out = _from_baggage(ctx)
    if isinstance(values, _Propagated):
        out.update(values.attributes)  # local values win over what arrived as baggage
    return out


def apply_propagated(span: Span, parent_context: Context | None) -> None:
    """Span-processor hook: copy the propagated attributes onto a span that is starting."""
    try:
        attrs = propagated_attributes(parent_context)
        if attrs:
            span.set_attributes(attrs)
    except Exception as exc:  # never break span creation
        logger.debug("interactiveai: could not apply propagated attributes: %s", exc)


class PropagationScope:
    """The context manager returned by ``propagate_attributes`` (usable with ``with`` and ``async with``)."""

    __slots__ = ("_values", "_as_baggage", "_token")

    def __init__(self, values: _Propagated, as_baggage: bool) -> None:
        self._values = values
        self._as_baggage = as_baggage
        self._token: object | None = None

    def __enter__(self) -> None:
        try:
            ctx = otel_context.get_current()
            outer = otel_context.get_value(_CONTEXT_KEY, ctx)
            merged = outer.merged(self._values) if isinstance(outer, _Propagated) else self._values
            ctx = otel_context.set_value(_CONTEXT_KEY, merged, ctx)
            if self._as_baggage:
                ctx = _with_baggage(ctx, self._values)
            current = trace.get_current_span(ctx)
            if current.is_recording():
                current.set_attributes(merged.attributes)
            self._token = otel_context.attach(ctx)
        except Exception as exc:
            logger.warning("interactiveai: propagate_attributes failed: %s", exc)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._token is None:
            return
        token, self._token = self._token, None
        detach_quietly(token)

    async def __aenter__(self) -> None:
        self.__enter__()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.__exit__(exc_type, exc, tb)


def propagate_attributes(
    *,
    user_id: str | None = None,
    session_id: str | None = None,
    trace_name: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    tags: Sequence[str] | None = None,
    version: str | None = None,
    as_baggage: bool = False,
) -> PropagationScope:
    """Give every span started inside the block these trace attributes.

    Strings, tags and metadata values must be US-ASCII and at most 200 characters; invalid
    values are dropped with a warning. Nested blocks merge (tags union, metadata merged, inner
    scalars win). ``as_baggage=True`` also puts them in W3C baggage, so they travel in the
    ``baggage`` header to downstream services (do not use it for secrets).

    Example::

        with propagate_attributes(user_id="u-1", session_id="s-1", tags=["prod"]):
            answer(question)
    """
    try:
        values = _validated(user_id, session_id, trace_name, version, tags, metadata)
    except Exception as exc:  # e.g. tags that are not iterable: drop everything, never raise
        logger.warning("interactiveai: propagate_attributes: invalid arguments dropped: %s", exc)
        values = _Propagated()
    return PropagationScope(values, as_baggage)
