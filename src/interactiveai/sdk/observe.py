"""``@observe``: one observation per call of a sync, async, generator or async-generator function.

Everything that can be decided once is decided at decoration time (function kind, name, type,
capture flags, whether the first argument is ``self``/``cls``). Per call the wrapper pops the
special keyword arguments, looks up the client (a dict read), starts a span, makes it current,
and ends it. Generators are always wrapped: the span stays open while they are iterated and
children created during iteration nest under it. The decorator's own failures never reach
user code; the user's exceptions are recorded and re-raised unchanged.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any, Final, TypeVar, cast, overload

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span
from opentelemetry.util.types import AttributeValue

from interactiveai.sdk import registry
from interactiveai.sdk.attributes import DECORATOR_TYPES, Attr, MaskFunction, ObservationTypeNoEvent, apply_mask
from interactiveai.sdk.distributed import remote_parent_context
from interactiveai.sdk.generators import AsyncGeneratorWrapper, GeneratorWrapper, Outcome, is_async_iter, is_sync_iter
from interactiveai.sdk.ids import normalize_observation_id
from interactiveai.sdk.observations import is_error, mark_error
from interactiveai.sdk.serialize import to_text
from interactiveai.sdk.settings import io_capture_enabled
from interactiveai.sdk.spans import start_span

logger = logging.getLogger("interactiveai")

F = TypeVar("F", bound=Callable[..., Any])

TRACE_ID_KWARG: Final = "interactiveai_trace_id"
PARENT_ID_KWARG: Final = "interactiveai_parent_observation_id"
PUBLIC_KEY_KWARG: Final = "interactiveai_public_key"
_SPECIAL: Final = frozenset((TRACE_ID_KWARG, PARENT_ID_KWARG, PUBLIC_KEY_KWARG))
# Exact built-in types: never generators, and they cannot carry a ``body_iterator``.
_PLAIN_RESULTS: Final = frozenset((type(None), bool, int, float, str, bytes, dict, list, tuple, set))


class _Plan:
    """What a decorated function needs per call, resolved once at decoration time."""

    __slots__ = ("name", "as_type", "capture_input", "capture_output", "transform", "skip_first")

    def __init__(
        self,
        name: str,
        as_type: str,
        capture_input: bool,
        capture_output: bool,
        transform: Callable[[list[Any]], str] | None,
        skip_first: bool,
    ) -> None:
        self.name = name
        self.as_type = as_type
        self.capture_input = capture_input
        self.capture_output = capture_output
        self.transform = transform
        self.skip_first = skip_first


def _skips_first_argument(func: Callable[..., Any]) -> bool:
    """True for functions defined in a class body whose first parameter is ``self``/``cls``."""
    try:
        params = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):
        return False
    if not params or params[0].kind not in (params[0].POSITIONAL_ONLY, params[0].POSITIONAL_OR_KEYWORD):
        return False
    qualname_parts = getattr(func, "__qualname__", "").split(".")
    in_class = len(qualname_parts) >= 2 and qualname_parts[-2] != "<locals>"
    return in_class and params[0].name in ("self", "cls")


class _Call:
    """The per-call state: the span, its context token and the public-key ContextVar token."""

    __slots__ = ("span", "token", "key_token", "mask")

    def __init__(self, span: Span, token: object, key_token: object | None, mask: MaskFunction | None) -> None:
        self.span = span
        self.mask = mask
        self.token = token
        self.key_token = key_token

    def detach(self) -> None:
        try:
            otel_context.detach(self.token)  # type: ignore[arg-type]
        except Exception:
            pass
        if self.key_token is not None:
            try:
                registry.current_public_key.reset(self.key_token)  # type: ignore[arg-type]
            except Exception:
                pass


def _begin(plan: _Plan, args: tuple[Any, ...], kwargs: dict[str, Any]) -> _Call | None:
    """Pop the special kwargs and start the span (made current); None when not tracing."""
    trace_id = parent_id = public_key = None
    if kwargs and not _SPECIAL.isdisjoint(kwargs):
        trace_id = kwargs.pop(TRACE_ID_KWARG, None)
        parent_id = kwargs.pop(PARENT_ID_KWARG, None)
        public_key = kwargs.pop(PUBLIC_KEY_KWARG, None)
    key_token = None
    try:
        client = registry.get_client(public_key=public_key)
        tracer = client._tracer
        if tracer is None:
            return None
        # Inlined equivalent of start_otel_span: this runs on every decorated call.
        attributes: dict[str, AttributeValue] = {Attr.OBSERVATION_TYPE: plan.as_type, **client._base_attributes}
        if plan.capture_input:
            payload = {"args": list(args[1:] if plan.skip_first else args), "kwargs": kwargs}
            mask = client._mask
            attributes[Attr.OBSERVATION_INPUT] = to_text(payload if mask is None else apply_mask(payload, mask))
        ctx = None
        if trace_id is not None:
            ctx = remote_parent_context(trace_id, parent_id)
            if ctx is not None:
                attributes[Attr.AS_ROOT] = True
                if normalize_observation_id(parent_id) is None:
                    attributes[Attr.SYNTHETIC_PARENT] = True
        elif parent_id is not None:
            logger.warning("interactiveai: %s needs %s; ignoring it", PARENT_ID_KWARG, TRACE_ID_KWARG)
        span = start_span(tracer, plan.name, ctx, attributes)
        if public_key:
            key_token = registry.current_public_key.set(public_key)
        token = otel_context.attach(trace.set_span_in_context(span))
        return _Call(span, token, key_token, client._mask)
    except Exception as exc:
        if key_token is not None:
            registry.current_public_key.reset(key_token)
        logger.warning("interactiveai: @observe could not start %r: %s", plan.name, exc)
        return None


def _set_output(call: _Call, plan: _Plan, result: Any) -> None:
    if plan.capture_output and result is not None:
        try:
            value = result if call.mask is None else apply_mask(result, call.mask)
            call.span.set_attribute(Attr.OBSERVATION_OUTPUT, to_text(value))
        except Exception as exc:
            logger.debug("interactiveai: could not record output: %s", exc)


def _finish_iteration(call: _Call, plan: _Plan) -> Callable[[Outcome], None]:
    """Callback for generator wrappers: record output or error, then end the span."""
    span = call.span

    def finish(outcome: Outcome) -> None:
        try:
            if outcome.error is not None:
                mark_error(span, outcome.error)
            elif plan.capture_output and outcome.items is not None:
                items = outcome.items
                if plan.transform is not None:
                    output: Any = plan.transform(items)
                elif items and all(isinstance(i, str) for i in items):
                    output = "".join(items)
                else:
                    output = items
                _set_output(call, plan, output)
        except Exception as exc:
            logger.debug("interactiveai: could not record generator output: %s", exc)
        finally:
            span.end()

    return finish


def _wrap_iterable(call: _Call, plan: _Plan, result: Any) -> Any:
    """A generator wrapper holding the span open, or None if ``result`` is not an iterator we wrap.

    Streaming HTTP responses (an object with a generator ``body_iterator``, as Starlette's
    ``StreamingResponse``) keep the span open until the body has been sent.
    """
    if type(result) in _PLAIN_RESULTS:  # most results: no attribute lookup that would raise
        return None
    if is_sync_iter(result):
        return GeneratorWrapper(result, _finish_iteration(call, plan), plan.capture_output)
    if is_async_iter(result):
        return AsyncGeneratorWrapper(result, _finish_iteration(call, plan), plan.capture_output)
    body = getattr(result, "body_iterator", None)
    if body is not None and (is_sync_iter(body) or is_async_iter(body)):
        try:
            result.body_iterator = _wrap_iterable(call, plan, body)
            return result
        except Exception:  # read-only attribute: fall back to a span that ends now
            return None
    return None


def _sync_wrapper(func: Callable[..., Any], plan: _Plan) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        call = _begin(plan, args, kwargs)
        if call is None:
            return func(*args, **kwargs)
        wrapped = None
        try:
            result = func(*args, **kwargs)
            # The copy of the context made in the wrapper keeps this span current while iterating.
            wrapped = _wrap_iterable(call, plan, result)
            if wrapped is not None:
                return wrapped
            _set_output(call, plan, result)
            return result
        except BaseException as exc:
            if is_error(exc):
                mark_error(call.span, exc)
            raise
        finally:
            call.detach()
            if wrapped is None:
                call.span.end()

    return wrapper


def _async_wrapper(func: Callable[..., Any], plan: _Plan) -> Callable[..., Any]:
    @functools.wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        call = _begin(plan, args, kwargs)
        if call is None:
            return await func(*args, **kwargs)
        wrapped = None
        try:
            result = await func(*args, **kwargs)
            wrapped = _wrap_iterable(call, plan, result)
            if wrapped is not None:
                return wrapped
            _set_output(call, plan, result)
            return result
        except BaseException as exc:
            if is_error(exc):
                mark_error(call.span, exc)
            raise
        finally:
            call.detach()
            if wrapped is None:
                call.span.end()

    return wrapper


def _decorate(func: F, plan: _Plan) -> F:
    if isinstance(func, staticmethod | classmethod):
        # Decorators listed above @staticmethod/@classmethod: wrap the function, keep the binding.
        inner = func.__func__
        plan.skip_first = isinstance(func, classmethod)
        return cast(F, type(func)(_decorate(inner, plan)))
    if inspect.iscoroutinefunction(func):
        return cast(F, _async_wrapper(func, plan))
    # Generator functions take the sync path: the call returns a generator that gets wrapped.
    return cast(F, _sync_wrapper(func, plan))


@overload
def observe(func: F) -> F: ...


@overload
def observe(
    func: None = None,
    *,
    name: str | None = None,
    as_type: ObservationTypeNoEvent | None = None,
    capture_input: bool | None = None,
    capture_output: bool | None = None,
    transform_to_string: Callable[[list[Any]], str] | None = None,
) -> Callable[[F], F]: ...


def observe(
    func: F | None = None,
    *,
    name: str | None = None,
    as_type: ObservationTypeNoEvent | None = None,
    capture_input: bool | None = None,
    capture_output: bool | None = None,
    transform_to_string: Callable[[list[Any]], str] | None = None,
) -> F | Callable[[F], F]:
    """Trace every call of the decorated function as an observation.

    Args:
        name: Observation name (default: the function's name).
        as_type: Any observation type except ``event`` (default ``span``).
        capture_input / capture_output: Record arguments / return value (default: on, unless
            ``INTERACTIVEAI_OBSERVE_DECORATOR_IO_CAPTURE_ENABLED=false``).
        transform_to_string: Turns the items a generator yielded into the recorded output.

    Calls accept ``interactiveai_trace_id``, ``interactiveai_parent_observation_id`` and
    ``interactiveai_public_key``; they are removed before the function is called.

    Example::

        @observe(as_type="generation")
        def complete(prompt: str) -> str: ...
    """

    def decorator(fn: F) -> F:
        try:
            if as_type is not None and as_type not in DECORATOR_TYPES:
                logger.warning("interactiveai: @observe as_type=%r is not valid; using 'span'", as_type)
                kind = "span"
            else:
                kind = as_type or "span"
            default_capture = io_capture_enabled()
            target = fn.__func__ if isinstance(fn, staticmethod | classmethod) else fn
            plan = _Plan(
                name or str(getattr(target, "__name__", "observation")),
                kind,
                default_capture if capture_input is None else capture_input,
                default_capture if capture_output is None else capture_output,
                transform_to_string,
                _skips_first_argument(target),
            )
            return _decorate(fn, plan)
        except Exception as exc:  # never break the decorated program
            logger.warning("interactiveai: @observe could not wrap %r: %s", fn, exc)
            return fn

    if func is not None:
        return decorator(func)
    return decorator
