"""Where our spans go: the TracerProvider policy and one routing processor per provider.

Policy: a provider passed in is used as is; else the global provider if it is already an SDK
``TracerProvider`` (the app's processors and exporters are left alone); else we create one and
set it globally, so LLM instrumentations are captured too. A provider we create names the
service after the entry script when the user named none (``OTEL_SERVICE_NAME`` and
``OTEL_RESOURCE_ATTRIBUTES`` win): OpenTelemetry's own default, ``unknown_service:python``, is the
same for every application and says nothing.

Each provider gets exactly one ``SpanRouter``. It applies ``propagate_attributes`` values in
``on_start`` and hands ended spans to one export processor per public key. A second client with
the same key *replaces* that key's processor instead of piling up another one, so re-creating a
client with a new configuration works and costs nothing per span.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import weakref
from collections.abc import Callable
from typing import Final

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter

from interactiveai.sdk.api_client import sdk_headers
from interactiveai.sdk.propagation import apply_propagated, has_propagated
from interactiveai.sdk.settings import ClientSettings

logger = logging.getLogger("interactiveai")

TRACES_PATH: Final = "/api/public/otel/v1/traces"
_LOCK = threading.RLock()
_ROUTERS: weakref.WeakKeyDictionary[TracerProvider, SpanRouter] = weakref.WeakKeyDictionary()


class SpanRouter(SpanProcessor):
    """Propagated attributes on start; ended spans to each public key's export processor."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_key: dict[str, SpanProcessor] = {}
        self._targets: tuple[SpanProcessor, ...] = ()  # snapshot read lock-free on the hot path

    def set_target(self, public_key: str, processor: SpanProcessor | None) -> SpanProcessor | None:
        """Install (or, with None, remove) the processor of ``public_key``; returns the old one."""
        with self._lock:
            old = self._by_key.pop(public_key, None)
            if processor is not None:
                self._by_key[public_key] = processor
            self._targets = tuple(self._by_key.values())
        return old

    def target(self, public_key: str) -> SpanProcessor | None:
        """The processor currently exporting the spans of ``public_key``."""
        return self._by_key.get(public_key)

    def remove_target(self, public_key: str, processor: SpanProcessor) -> bool:
        """Remove ``processor`` if it is still the one installed for ``public_key``."""
        with self._lock:
            if self._by_key.get(public_key) is not processor:
                return False
            del self._by_key[public_key]
            self._targets = tuple(self._by_key.values())
        return True

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        if has_propagated(parent_context):  # every span start asks: the common answer is no
            apply_propagated(span, parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        for target in self._targets:
            try:
                target.on_end(span)
            except Exception as exc:  # one project's processor must not break another's
                logger.debug("interactiveai: export processor failed in on_end: %s", exc)

    def shutdown(self) -> None:
        with self._lock:
            targets, self._by_key, self._targets = self._targets, {}, ()
        for target in targets:
            try:
                target.shutdown()
            except Exception as exc:
                logger.debug("interactiveai: export processor shutdown failed: %s", exc)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        ok = True
        for target in self._targets:
            try:
                ok = target.force_flush(timeout_millis) and ok
            except Exception:
                ok = False
        return ok


def _after_fork_in_child() -> None:
    global _LOCK
    _LOCK = threading.RLock()
    for router in list(_ROUTERS.values()):
        router._lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)


def choose_provider(given: TracerProvider | None, settings: ClientSettings) -> TracerProvider:
    """The provider our spans are created on (see the module docstring for the policy)."""
    if given is not None:
        return given
    with _LOCK:
        current = trace.get_tracer_provider()
        if isinstance(current, TracerProvider):
            return current
        attributes = {
            k: v
            for k, v in (
                ("interactiveai.environment", settings.environment),
                ("interactiveai.release", settings.release),
            )
            if v
        }
        provider = TracerProvider(resource=_resource(attributes))
        trace.set_tracer_provider(provider)
        current = trace.get_tracer_provider()
        # Another thread may have won the race to set the global provider: use the winner.
        return current if isinstance(current, TracerProvider) else provider


def _resource(attributes: dict[str, str]) -> Resource:
    resource = Resource.create(attributes)
    if _service_name_configured():
        return resource
    name = entry_service_name(sys.argv[0] if sys.argv else "", getattr(sys.modules.get("__main__"), "__spec__", None))
    return resource.merge(Resource({"service.name": name})) if name else resource


def _service_name_configured() -> bool:
    if os.environ.get("OTEL_SERVICE_NAME", "").strip():
        return True
    pairs = os.environ.get("OTEL_RESOURCE_ATTRIBUTES", "").split(",")
    return any(pair.split("=", 1)[0].strip() == "service.name" for pair in pairs)


def entry_service_name(argv0: str, main_spec: object | None) -> str | None:
    """The service name a process gets by default: the module of ``python -m pkg`` (``pkg``), else
    the entry script's stem (``bot.py`` -> ``bot``); None for ``python -c``, the REPL or stdin."""
    module = getattr(main_spec, "name", None)
    if isinstance(module, str) and module and module != "__main__":  # "__main__": a directory or zip run
        return module.removesuffix(".__main__")
    name = os.path.basename(argv0.rstrip("/\\"))
    if name in ("", "-c", "-"):
        return None
    stem, extension = os.path.splitext(name)
    return stem if extension in (".py", ".pyw", ".pyz") and stem else name


def router_for(provider: TracerProvider) -> SpanRouter:
    """The provider's single ``SpanRouter``, added to it on first use."""
    with _LOCK:
        router = _ROUTERS.get(provider)
        if router is None:
            router = SpanRouter()
            provider.add_span_processor(router)
            _ROUTERS[provider] = router
        return router


def build_export_processor(
    settings: ClientSettings,
    *,
    additional_headers: dict[str, str] | None,
    should_export_span: Callable[[ReadableSpan], bool] | None,
    span_exporter: SpanExporter | None,
) -> SpanProcessor | None:
    """This client's export processor (OTLP/HTTP to ``{host}/api/public/otel/v1/traces``)."""
    assert settings.public_key is not None and settings.secret_key is not None
    try:
        from interactiveai.sdk.export.exporter import OtlpHttpExporter
        from interactiveai.sdk.export.filters import make_export_filter
        from interactiveai.sdk.export.processor import ExportProcessor

        exporter = span_exporter or OtlpHttpExporter(
            settings.host + TRACES_PATH,
            headers=sdk_headers(settings.public_key, settings.secret_key, additional_headers),
            timeout=settings.timeout,
        )
        return ExportProcessor(
            exporter,
            max_queue_bytes=settings.max_queue_bytes,
            max_queue_size=settings.max_queue_size,
            max_export_batch_size=settings.flush_at,
            schedule_delay=settings.flush_interval,
            export_timeout=settings.timeout,
            should_export=make_export_filter(settings.public_key, should_export_span),
            sample_rate=settings.sample_rate,
        )
    except Exception as exc:
        logger.warning("interactiveai: span export is unavailable (%s); spans are not sent", exc)
        return None
