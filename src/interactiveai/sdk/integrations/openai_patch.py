"""Instrument the openai library: its resource methods record one observation per call.

As with the peer SDK's drop-in, importing ``interactiveai.openai`` instruments the library for the
whole process: ``OpenAI``, ``AsyncOpenAI``, the Azure clients, the module-level client and clients
other libraries create all record their chat completions (``create`` and ``parse``), legacy
completions, embeddings and Responses API calls (``create`` and ``parse``). Instrumenting twice is
a no-op, and a call made inside another instrumented call (a helper of the library calling its own
``create``) is recorded once. The original methods stay reachable as ``__wrapped__``.

Streams: OpenAI reports a stream's usage only when the request says
``stream_options={"include_usage": True}``. Asking for it adds a final usage-only chunk, which a
caller that did not ask may not expect, and servers that do not know the option refuse it, so it is
added only for hosts known to accept it (``STREAM_USAGE_HOSTS``, OpenAI's own API by default) when
the caller gave no ``stream_options``, and that extra chunk is then kept from the caller.
"""

from __future__ import annotations

import contextvars
import functools
import importlib
import logging
from collections.abc import Callable
from typing import Any, Final

from interactiveai.sdk.integrations.openai_calls import Call, traced_async_stream, traced_stream
from interactiveai.sdk.integrations.openai_request import OUR_KWARGS, split_kwargs

logger = logging.getLogger("interactiveai")

STREAM_USAGE_HOSTS: set[str] = {"api.openai.com"}
"""Hosts asked for a stream's usage on the caller's behalf (add an OpenAI-compatible server of yours)."""

# (module, class, method, kind). Kinds: chat, completion, embedding, response.
_METHODS: Final = (
    ("openai.resources.chat.completions", "Completions", "create", "chat"),
    ("openai.resources.chat.completions", "AsyncCompletions", "create", "chat"),
    ("openai.resources.chat.completions", "Completions", "parse", "chat"),
    ("openai.resources.chat.completions", "AsyncCompletions", "parse", "chat"),
    ("openai.resources.beta.chat.completions", "Completions", "parse", "chat"),
    ("openai.resources.beta.chat.completions", "AsyncCompletions", "parse", "chat"),
    ("openai.resources.completions", "Completions", "create", "completion"),
    ("openai.resources.completions", "AsyncCompletions", "create", "completion"),
    ("openai.resources.embeddings", "Embeddings", "create", "embedding"),
    ("openai.resources.embeddings", "AsyncEmbeddings", "create", "embedding"),
    ("openai.resources.responses", "Responses", "create", "response"),
    ("openai.resources.responses", "AsyncResponses", "create", "response"),
    ("openai.resources.responses", "Responses", "parse", "response"),
    ("openai.resources.responses", "AsyncResponses", "parse", "response"),
)
_MARK: Final = "__interactiveai_instrumented__"
# Set while an instrumented call runs: a nested instrumented call passes straight through.
_inside: contextvars.ContextVar[bool] = contextvars.ContextVar("interactiveai_openai_call", default=False)


def _stream_types() -> tuple[type, type]:
    import openai

    return openai.Stream, openai.AsyncStream


def _legacy_response_type() -> type | None:
    try:
        from openai._legacy_response import LegacyAPIResponse
    except ImportError:  # pragma: no cover - depends on the installed openai
        return None
    return LegacyAPIResponse


def _finish(call: Call, result: Any, hide: bool, streams: tuple[type, type], raw: type | None) -> Any:
    """Record the result; a stream (also inside a ``with_raw_response`` answer) is read as it is consumed."""
    answer = result
    if raw is not None and isinstance(result, raw):
        # ``with_raw_response`` (LangChain's ChatOpenAI uses it): parse() caches its result, so the
        # caller's own parse() returns the very object read here, a stream included.
        try:
            answer = result.parse()  # type: ignore[attr-defined]
        except Exception:
            answer = None
    if isinstance(answer, streams[0]):
        traced_stream(answer, call, hide)
    elif isinstance(answer, streams[1]):
        traced_async_stream(answer, call, hide)
    else:
        call.finish_response(answer)
    return result


def _ask_for_usage(resource: Any, kind: str, kwargs: dict[str, Any]) -> bool:
    """Add ``include_usage`` to a chat/completion stream request when that changes nothing the caller sees."""
    if kind not in ("chat", "completion") or kwargs.get("stream") is not True or "stream_options" in kwargs:
        return False
    try:
        host = resource._client.base_url.host
    except Exception:
        return False
    if host not in STREAM_USAGE_HOSTS:
        return False
    kwargs["stream_options"] = {"include_usage": True}
    return True


def _prepare(resource: Any, kind: str, kwargs: dict[str, Any]) -> tuple[Call | None, bool]:
    """Split our kwargs off (always: OpenAI would refuse them) and start the observation."""
    try:
        request = split_kwargs(kind, kwargs)
        hide = _ask_for_usage(resource, kind, request.kwargs)
        return Call.start(request), hide
    except Exception as exc:
        logger.warning("interactiveai: could not record an OpenAI call: %s", exc)
        for key in OUR_KWARGS.intersection(kwargs):
            kwargs.pop(key, None)
        return None, False


def _wrap_sync(original: Callable[..., Any], kind: str) -> Callable[..., Any]:
    streams, raw = _stream_types(), _legacy_response_type()

    @functools.wraps(original)
    def instrumented(self: Any, *args: Any, **kwargs: Any) -> Any:
        if _inside.get():
            return original(self, *args, **kwargs)
        call, hide = _prepare(self, kind, kwargs)
        if call is None:
            return original(self, *args, **kwargs)
        token = _inside.set(True)
        try:
            result = original(self, *args, **kwargs)
        except BaseException as exc:
            call.fail(exc)
            raise
        finally:
            _inside.reset(token)
        return _finish(call, result, hide, streams, raw)

    setattr(instrumented, _MARK, True)
    return instrumented


def _wrap_async(original: Callable[..., Any], kind: str) -> Callable[..., Any]:
    streams, raw = _stream_types(), _legacy_response_type()

    @functools.wraps(original)
    async def instrumented(self: Any, *args: Any, **kwargs: Any) -> Any:
        if _inside.get():
            return await original(self, *args, **kwargs)
        call, hide = _prepare(self, kind, kwargs)
        if call is None:
            return await original(self, *args, **kwargs)
        token = _inside.set(True)
        try:
            result = await original(self, *args, **kwargs)
        except BaseException as exc:
            call.fail(exc)
            raise
        finally:
            _inside.reset(token)
        return _finish(call, result, hide, streams, raw)

    setattr(instrumented, _MARK, True)
    return instrumented


def instrument_openai() -> list[str]:
    """Instrument every known method of the installed openai library; returns the ones patched now."""
    patched: list[str] = []
    for module_name, class_name, method, kind in _METHODS:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue  # an older or newer library without this API
        cls = getattr(module, class_name, None)
        original = cls.__dict__.get(method) if isinstance(cls, type) else None
        if original is None or getattr(original, _MARK, False) or not callable(original):
            continue
        wrap = _wrap_async if class_name.startswith("Async") else _wrap_sync
        setattr(cls, method, wrap(original, kind))
        patched.append(f"{module_name}.{class_name}.{method}")
    return patched
