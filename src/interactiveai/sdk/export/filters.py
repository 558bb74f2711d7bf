"""Which ended spans leave the process.

Installing the SDK must not turn every HTTP and database span of the host application into
billable LLM traces (the closest existing SDK's users hit exactly that when it exported every
span of the global provider). The default filter keeps our own spans for this client's key and
third-party *LLM* spans, and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable

from opentelemetry.sdk.trace import ReadableSpan

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
    # Scope verdicts are cached by scope name: a process has a handful of tracers, and the name
    # alone decides the third-party rule. Our own scope is always checked on its attributes.
    llm_scope_cache: dict[str, bool] = {}

    def should_export(span: ReadableSpan) -> bool:
        scope = span.instrumentation_scope
        name = scope.name if scope is not None else ""
        if name == SDK_SCOPE_NAME:
            attributes = scope.attributes if scope is not None else None
            return attributes is not None and attributes.get("public_key") == public_key
        if extra is not None:
            return extra(span)
        verdict = llm_scope_cache.get(name)
        if verdict is None:
            verdict = is_known_llm_scope(name)
            if len(llm_scope_cache) < 1024:  # bounded even if scopes are minted dynamically
                llm_scope_cache[name] = verdict
        return verdict or _has_gen_ai_attribute(span)

    return should_export
