"""Which ended spans leave the process.

Installing the SDK must not turn every HTTP and database span of the host application into
billable LLM traces (the closest existing SDK's users hit exactly that when it exported every
span of the global provider). The default filter keeps our own spans for this client's key and
third-party *LLM* spans, and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

__all__ = ["KNOWN_LLM_SCOPES", "SDK_SCOPE_NAME", "is_known_llm_scope", "make_export_filter"]

SDK_SCOPE_NAME = "interactiveai-sdk"
"""Instrumentation scope of the tracer the SDK creates; its ``public_key`` scope attribute isolates projects."""

_OTEL_INSTRUMENTATIONS = (
    "openai",
    "anthropic",
    "bedrock",
    "cohere",
    "mistralai",
    "groq",
    "ollama",
    "vertexai",
    "google_generativeai",
    "langchain",
    "llamaindex",
    "transformers",
    "together",
    "replicate",
    "watsonx",
    "crewai",
    "haystack",
    "openai_agents",
)

KNOWN_LLM_SCOPES: frozenset[str] = frozenset(
    (
        "openinference",
        "langsmith",
        "litellm",
        "haystack",
        "ai",
        "pydantic-ai",
        "strands-agents",
        "vllm",
        "agent_framework",
        "autogen-core",
        "langfuse-sdk",
        "traceloop",
        *(f"opentelemetry.instrumentation.{name}" for name in _OTEL_INSTRUMENTATIONS),
    )
)
"""Scopes (and, with a trailing ``.``, scope prefixes) of known LLM instrumentations."""


def is_known_llm_scope(name: str) -> bool:
    """True when ``name`` equals a known LLM scope or extends one as ``<scope>.<anything>``."""
    if name in KNOWN_LLM_SCOPES:
        return True
    # Walk the dotted prefixes ("a.b.c" -> "a.b" -> "a") instead of scanning the whole set:
    # a handful of dict probes, whatever the number of known scopes.
    cut = name.rfind(".")
    while cut > 0:
        name = name[:cut]
        if name in KNOWN_LLM_SCOPES:
            return True
        cut = name.rfind(".")
    return False


_KEEP, _DROP, _ASK_EXTRA, _CHECK_ATTRIBUTES = 1, 2, 3, 4


def _has_gen_ai_attribute(span: ReadableSpan) -> bool:
    attributes = span.attributes
    if not attributes:
        return False
    return any(key.startswith("gen_ai.") for key in attributes)


def make_export_filter(
    public_key: str, extra: Callable[[ReadableSpan], bool] | None = None
) -> Callable[[ReadableSpan], bool]:
    """Build the ``should_export`` predicate of one client.

    Args:
        public_key: The client's project key. Our spans carry it as the ``public_key`` attribute of
            the ``interactiveai-sdk`` instrumentation scope; spans of other keys belong to another
            client's processor and are dropped here.
        extra: Replaces the third-party rule (for spans of other scopes) when given.

    Returns:
        A predicate called in ``SpanProcessor.on_end``; it only reads the span, and caches the
        per-scope verdict so the common case is a couple of dict lookups.

    Example:
        >>> keep = make_export_filter("pk-lf-123")
    """
    # The verdict depends only on the scope (a handful of tracers per process), so it is cached per
    # scope object, keyed by id() with the object kept in the entry so a recycled id cannot alias.
    # The hot path for our own spans is then one property read and one dict probe.
    cache: dict[int, tuple[InstrumentationScope | None, int]] = {}

    def verdict_for(scope: InstrumentationScope | None) -> int:
        name = scope.name if scope is not None else ""
        if name == SDK_SCOPE_NAME:
            attributes = scope.attributes if scope is not None else None
            return _KEEP if attributes is not None and attributes.get("public_key") == public_key else _DROP
        if extra is not None:
            return _ASK_EXTRA
        return _KEEP if is_known_llm_scope(name) else _CHECK_ATTRIBUTES

    def should_export(span: ReadableSpan) -> bool:
        scope = span.instrumentation_scope
        entry = cache.get(id(scope))
        if entry is None or entry[0] is not scope:
            entry = (scope, verdict_for(scope))
            if len(cache) < 256:  # bounded even if tracers are minted per request
                cache[id(scope)] = entry
        verdict = entry[1]
        if verdict == _KEEP:
            return True
        if verdict == _DROP:
            return False
        if verdict == _ASK_EXTRA and extra is not None:
            return extra(span)
        return _has_gen_ai_attribute(span)

    return should_export
