"""``InteractiveAI``: the client. Configuration, span creation API, flush and shutdown.

The methods on the active observation come from ``client_context``, the score methods from
``client_scores``, datasets and experiments from ``client_experiments`` (mixins, so they are all
methods of ``InteractiveAI``).

A client is cheap to use and safe to misconfigure: missing keys give a disabled no-op client
and one warning, never an exception. Nothing here blocks user code beyond the explicit,
bounded ``flush``/``shutdown``/``auth_check``/``get_trace_url`` calls.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from typing import Unpack

from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter
from opentelemetry.trace import Tracer
from opentelemetry.util.types import AttributeValue

from interactiveai.sdk import registry
from interactiveai.sdk.api_client import PROJECTS_PATH, ApiClient, ProjectLookup, sdk_headers
from interactiveai.sdk.attributes import Attr, MaskFunction, ObservationType
from interactiveai.sdk.client_context import CurrentContextMethods
from interactiveai.sdk.client_experiments import ExperimentMethods
from interactiveai.sdk.client_scores import ScoreMethods
from interactiveai.sdk.distributed import TraceContext
from interactiveai.sdk.ids import create_trace_id as _create_trace_id
from interactiveai.sdk.observations import (
    InteractiveAIObservation,
    ObservationFields,
    ObservationScope,
    start_observation,
)
from interactiveai.sdk.pipeline import SpanRouter, build_export_processor, choose_provider, router_for
from interactiveai.sdk.scores import ScoreSender
from interactiveai.sdk.settings import DEFAULT_MAX_SCORE_QUEUE, ClientSettings, load_client_settings
from interactiveai.version import __version__

logger = logging.getLogger("interactiveai")

SDK_SCOPE_NAME = "interactiveai-sdk"


class InteractiveAI(CurrentContextMethods, ScoreMethods, ExperimentMethods):
    """The InteractiveAI client. Every argument is optional and falls back to its environment variable.

    Args:
        public_key: ``INTERACTIVEAI_PUBLIC_KEY``. secret_key: ``INTERACTIVEAI_SECRET_KEY``.
            Without both the client is disabled (a no-op) and logs one warning.
        host: ``INTERACTIVEAI_HOST`` (alias ``base_url``/``INTERACTIVEAI_BASE_URL``), default
            ``http://localhost:3000``.
        environment, release: written on every span (``INTERACTIVEAI_TRACING_ENVIRONMENT``,
            ``INTERACTIVEAI_RELEASE`` then common CI commit variables).
        tracing_enabled: False makes the client a no-op. sample_rate: fraction of traces exported
            (0.0 exports nothing), decided on the trace id.
        flush_at, flush_interval, timeout: export batching, delay (s) and HTTP timeout (s).
        max_queue_bytes: memory bound of the span buffer (``INTERACTIVEAI_MAX_QUEUE_BYTES``, default
            256 MiB); beyond it new spans are dropped and the next ``flush()`` returns False.
            max_queue_size: optional cap on buffered spans, and the score queue's size (default
            10,000 scores).
        debug: verbose SDK logs. mask: ``mask(data=...)`` applied to input, output and metadata.
            additional_headers: extra HTTP headers (win over ours).
        tracer_provider: the OTel provider to use (default: the global SDK provider, else a new
            global one). should_export_span: replaces the third-party span filter.
        span_exporter: export through this OTel exporter instead of OTLP/HTTP to ``host``.

    Example::

        client = InteractiveAI(public_key="pk-...", secret_key="sk-...")
        with client.start_as_current_observation(name="answer", input=question) as span:
            span.update(output=generate(question))
    """

    _settings: ClientSettings
    _mask: MaskFunction | None

    def __init__(
        self,
        *,
        public_key: str | None = None,
        secret_key: str | None = None,
        host: str | None = None,
        base_url: str | None = None,
        environment: str | None = None,
        release: str | None = None,
        tracing_enabled: bool | None = None,
        sample_rate: float | None = None,
        flush_at: int | None = None,
        flush_interval: float | None = None,
        timeout: float | None = None,
        debug: bool | None = None,
        mask: MaskFunction | None = None,
        max_queue_size: int | None = None,
        max_queue_bytes: int | None = None,
        additional_headers: dict[str, str] | None = None,
        tracer_provider: TracerProvider | None = None,
        should_export_span: Callable[[ReadableSpan], bool] | None = None,
        span_exporter: SpanExporter | None = None,
    ) -> None:
        self._init_disabled()
        try:
            settings = load_client_settings(
                public_key=public_key,
                secret_key=secret_key,
                host=host,
                base_url=base_url,
                environment=environment,
                release=release,
                tracing_enabled=tracing_enabled,
                sample_rate=sample_rate,
                flush_at=flush_at,
                flush_interval=flush_interval,
                timeout=timeout,
                debug=debug,
                max_queue_size=max_queue_size,
                max_queue_bytes=max_queue_bytes,
            )
            self._settings = settings
            self._mask = mask
            if settings.debug:
                _enable_debug_logging()
            if not settings.tracing_enabled:
                logger.debug("interactiveai: tracing disabled by configuration")
                return
            if not settings.public_key or not settings.secret_key:
                # Once per process: get_client() and every further disabled client would repeat it.
                registry.warn_once(
                    "no-keys",
                    "interactiveai: no public/secret key (INTERACTIVEAI_PUBLIC_KEY / INTERACTIVEAI_SECRET_KEY); "
                    "the client is disabled and records nothing",
                )
                return
            self._setup(settings, additional_headers, tracer_provider, should_export_span, span_exporter)
        except Exception as exc:  # configuration must never break the host app
            logger.warning("interactiveai: client setup failed (%s); the client is disabled", exc)
            self._init_disabled()

    def _init_disabled(self) -> None:
        self._settings = load_client_settings(tracing_enabled=False, public_key="", secret_key="", environ={})
        self._mask = None
        self._tracer: Tracer | None = None
        self._base_attributes: dict[str, AttributeValue] = {}
        self._router: SpanRouter | None = None
        self._processor: SpanProcessor | None = None  # the export processor this client owns
        self._signature: tuple[object, ...] | None = None
        self._scores: ScoreSender | None = None
        self._api: ApiClient | None = None
        self._projects: ProjectLookup | None = None
        self._shut_down = False

    def _after_fork_in_child(self) -> None:
        if self._projects is not None:
            self._projects.after_fork_in_child()

    @classmethod
    def _disabled_instance(cls) -> InteractiveAI:
        client = cls.__new__(cls)
        client._init_disabled()
        return client

    def _setup(
        self,
        settings: ClientSettings,
        additional_headers: dict[str, str] | None,
        tracer_provider: TracerProvider | None,
        should_export_span: Callable[[ReadableSpan], bool] | None,
        span_exporter: SpanExporter | None,
    ) -> None:
        assert settings.public_key is not None and settings.secret_key is not None
        if tracer_provider is not None and not isinstance(tracer_provider, TracerProvider):
            logger.warning("interactiveai: tracer_provider is not an OpenTelemetry SDK TracerProvider; ignoring it")
            tracer_provider = None
        provider = choose_provider(tracer_provider, settings)
        self._api = ApiClient(
            settings.host, sdk_headers(settings.public_key, settings.secret_key, additional_headers), settings.timeout
        )
        self._projects = ProjectLookup(self._api, min(settings.timeout, 5.0))
        self._scores = ScoreSender(
            self._api,
            max_queue_size=settings.max_queue_size or DEFAULT_MAX_SCORE_QUEUE,
            flush_interval=settings.flush_interval,
        )
        self._base_attributes = {
            k: v for k, v in ((Attr.ENVIRONMENT, settings.environment), (Attr.RELEASE, settings.release)) if v
        }
        key = settings.public_key
        self._router = router_for(provider)
        headers = tuple(sorted((additional_headers or {}).items()))
        self._signature = (settings, id(provider), headers, should_export_span, span_exporter)
        current = registry.registered(key)
        if current is not None and current._signature == self._signature and current._processor is not None:
            # Same configuration as the live client of this key (clients re-created per request
            # or per module): take over its processor instead of rebuilding one.
            self._processor, current._processor = current._processor, None
        else:
            self._processor = build_export_processor(
                settings,
                additional_headers=additional_headers,
                should_export_span=should_export_span,
                span_exporter=span_exporter,
            )
        stale = [self._router.set_target(key, self._processor)]  # None removes a previous one
        self._tracer = provider.get_tracer(SDK_SCOPE_NAME, __version__, attributes={"public_key": key})
        replaced = registry.register(self)
        if replaced is not None:
            # The previous client of this key gives way (one processor per key, never a pile-up).
            old, replaced._processor = replaced._processor, None
            if old is not None and replaced._router is not None and replaced._router.remove_target(key, old):
                stale.append(old)
        for processor in {id(p): p for p in stale if p is not None and p is not self._processor}.values():
            # Drain the old processor off the caller's thread: construction never blocks.
            threading.Thread(target=processor.shutdown, name="interactiveai-replaced", daemon=True).start()

    def __enter__(self) -> InteractiveAI:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()

    # -- properties ---------------------------------------------------------------------------------

    @property
    def enabled(self) -> bool:
        """True when this client records and exports spans."""
        return self._tracer is not None

    @property
    def public_key(self) -> str | None:
        return self._settings.public_key or None

    @property
    def host(self) -> str:
        return self._settings.host

    @property
    def settings(self) -> ClientSettings:
        return self._settings

    # -- creating observations ------------------------------------------------------------------

    def start_observation(
        self,
        *,
        name: str,
        as_type: ObservationType = "span",
        trace_context: TraceContext | None = None,
        start_time: int | float | dt.datetime | None = None,
        **fields: Unpack[ObservationFields],
    ) -> InteractiveAIObservation:
        """Start an observation of any type without making it current; call ``.end()`` on it.

        The parent is the current span, or the remote parent given by ``trace_context``.
        ``start_time`` (default now) records work that began earlier, as ``end(end_time=...)``
        takes: ns since the epoch as an int, seconds as a float, or a datetime (naive means UTC).
        """
        return start_observation(self, name, as_type, fields=fields, trace_context=trace_context, start_time=start_time)

    def start_as_current_observation(
        self,
        *,
        name: str,
        as_type: ObservationType = "span",
        trace_context: TraceContext | None = None,
        end_on_exit: bool = True,
        **fields: Unpack[ObservationFields],
    ) -> ObservationScope:
        """A context manager making a new observation current for the block.

        Example::

            with client.start_as_current_observation(name="retrieve", as_type="retriever") as obs:
                obs.update(output=search(query))
        """
        return ObservationScope(self, name, as_type, fields, trace_context=trace_context, end_on_exit=end_on_exit)

    def start_span(
        self, *, name: str, trace_context: TraceContext | None = None, **fields: Unpack[ObservationFields]
    ) -> InteractiveAIObservation:
        return self.start_observation(name=name, as_type="span", trace_context=trace_context, **fields)

    def start_generation(
        self, *, name: str, trace_context: TraceContext | None = None, **fields: Unpack[ObservationFields]
    ) -> InteractiveAIObservation:
        return self.start_observation(name=name, as_type="generation", trace_context=trace_context, **fields)

    def start_as_current_span(
        self,
        *,
        name: str,
        trace_context: TraceContext | None = None,
        end_on_exit: bool = True,
        **fields: Unpack[ObservationFields],
    ) -> ObservationScope:
        return ObservationScope(self, name, "span", fields, trace_context=trace_context, end_on_exit=end_on_exit)

    def start_as_current_generation(
        self,
        *,
        name: str,
        trace_context: TraceContext | None = None,
        end_on_exit: bool = True,
        **fields: Unpack[ObservationFields],
    ) -> ObservationScope:
        return ObservationScope(self, name, "generation", fields, trace_context=trace_context, end_on_exit=end_on_exit)

    def create_event(
        self,
        *,
        name: str,
        trace_context: TraceContext | None = None,
        start_time: int | float | dt.datetime | None = None,
        **fields: Unpack[ObservationFields],
    ) -> InteractiveAIObservation:
        """A zero-duration observation of type ``event`` (at ``start_time``, default now)."""
        return self.start_observation(
            name=name, as_type="event", trace_context=trace_context, start_time=start_time, **fields
        )

    # -- ids ----------------------------------------------------------------------------------------

    @staticmethod
    def create_trace_id(*, seed: str | None = None) -> str:
        """A new trace id; the same seed always gives the same id (first 16 bytes of SHA-256)."""
        return _create_trace_id(seed)

    # -- project, URLs, auth ----------------------------------------------------------------------

    def get_trace_url(self, *, trace_id: str | None = None) -> str | None:
        """``{host}/project/{project_id}/traces/{trace_id}`` (default: the current trace), or None."""
        try:
            tid = trace_id or self.get_current_trace_id()
            project_id = self._projects.project_id() if tid and self._projects else None
            return f"{self._settings.host}/project/{project_id}/traces/{tid}" if project_id else None
        except Exception as exc:
            logger.warning("interactiveai: get_trace_url failed: %s", exc)
            return None

    def auth_check(self) -> bool:
        """True when the server accepts this client's keys (``GET /api/public/projects``)."""
        if self._api is None:
            return False
        try:
            return self._api.get(PROJECTS_PATH).ok
        except Exception:
            return False

    # -- lifecycle ----------------------------------------------------------------------------------

    def _current_processor(self) -> SpanProcessor | None:
        # The processor exporting this key's spans now: ours, or that of the client that replaced us.
        if self._processor is not None or self._router is None or self.public_key is None:
            return self._processor
        return self._router.target(self.public_key)

    def flush(self, timeout: float | None = None) -> bool:
        """Send everything buffered; waits at most ``timeout`` seconds. True when all was delivered."""
        deadline = time.monotonic() + (self._settings.timeout if timeout is None else max(0.0, timeout))
        ok = True
        try:
            processor = self._current_processor()
            if processor is not None:
                ok = processor.force_flush(int(max(0.0, deadline - time.monotonic()) * 1000)) and ok
            if self._scores is not None:
                ok = self._scores.flush(max(0.0, deadline - time.monotonic())) and ok
        except Exception as exc:
            logger.warning("interactiveai: flush failed: %s", exc)
            return False
        return ok

    def shutdown(self, timeout: float | None = None) -> bool:
        """Flush (within ``timeout``) and stop; the client is a no-op afterwards. Idempotent."""
        if self._shut_down:
            return True
        self._shut_down = True
        deadline = time.monotonic() + (self._settings.timeout if timeout is None else max(0.0, timeout))
        self._tracer = None  # from now on the client is a no-op (and @observe passes through)
        registry.unregister(self)
        ok = True
        try:
            processor, self._processor = self._processor, None
            remaining_ms = max(0.0, deadline - time.monotonic()) * 1000
            if processor is not None:
                if self._router is not None and self.public_key is not None:
                    self._router.remove_target(self.public_key, processor)
                # ExportProcessor.shutdown takes a timeout and reports success (the OTel base does neither).
                shutdown: Callable[..., object] = processor.shutdown
                ok = shutdown(remaining_ms) is not False and ok
            elif (current := self._current_processor()) is not None:
                # Replaced by a newer client of this key: deliver our spans, leave its processor running.
                ok = current.force_flush(int(remaining_ms)) and ok
            if self._scores is not None:
                ok = self._scores.shutdown(max(0.0, deadline - time.monotonic())) and ok
        except Exception as exc:
            logger.warning("interactiveai: shutdown failed: %s", exc)
            return False
        return ok


def _enable_debug_logging() -> None:
    logger.setLevel(logging.DEBUG)
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
