"""The default export filter: our spans of this key, third-party LLM spans, nothing else."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from interactiveai.sdk.export.filters import is_known_llm_scope, make_export_filter


def _span(
    scope: str, attributes: dict[str, Any] | None = None, scope_attributes: dict[str, Any] | None = None
) -> ReadableSpan:
    memory = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(memory))
    with provider.get_tracer(scope, attributes=scope_attributes).start_as_current_span("s", attributes=attributes):
        pass
    (span,) = memory.get_finished_spans()
    return span


def test_our_scope_is_kept_only_for_our_key() -> None:
    keep = make_export_filter("pk-1")
    assert keep(_span("interactiveai-sdk", scope_attributes={"public_key": "pk-1"}))
    assert not keep(_span("interactiveai-sdk", scope_attributes={"public_key": "pk-2"}))
    assert not keep(_span("interactiveai-sdk"))  # no key at all: not ours to send
    # our scope with gen_ai attributes but another key: still another project's span
    assert not keep(_span("interactiveai-sdk", {"gen_ai.system": "openai"}, {"public_key": "pk-2"}))


@pytest.mark.parametrize(
    "scope",
    [
        "openinference.instrumentation.openai",
        "openinference",
        "langsmith",
        "litellm",
        "ai",
        "pydantic-ai",
        "strands-agents",
        "langfuse-sdk",
        "opentelemetry.instrumentation.openai",
        "opentelemetry.instrumentation.openai.v2",
        "opentelemetry.instrumentation.anthropic",
        "opentelemetry.instrumentation.openai_agents",
        "traceloop.sdk",
        "haystack",
        "autogen-core",
    ],
)
def test_known_llm_scopes_are_kept(scope: str) -> None:
    assert make_export_filter("pk")(_span(scope))


@pytest.mark.parametrize(
    "scope",
    [
        "opentelemetry.instrumentation.requests",
        "opentelemetry.instrumentation.sqlalchemy",
        "opentelemetry.instrumentation.fastapi",
        "opentelemetry.instrumentation",
        "aiohttp",
        "air",  # "ai" matches as a whole name or a dotted prefix, not as a string prefix
        "my.app",
        "",
    ],
)
def test_other_scopes_are_dropped(scope: str) -> None:
    assert not make_export_filter("pk")(_span(scope, {"http.method": "GET"}))


def test_gen_ai_attributes_make_any_span_an_llm_span() -> None:
    assert make_export_filter("pk")(_span("my.app", {"gen_ai.request.model": "gpt-4o"}))
    assert not make_export_filter("pk")(_span("my.app", {"genai.request.model": "x"}))


def test_extra_replaces_the_third_party_rule() -> None:
    only_db = make_export_filter(
        "pk", extra=lambda span: span.instrumentation_scope is not None and span.instrumentation_scope.name == "db"
    )
    assert only_db(_span("db"))
    assert not only_db(_span("openinference"))
    assert only_db(_span("interactiveai-sdk", scope_attributes={"public_key": "pk"}))
    assert not only_db(_span("interactiveai-sdk", scope_attributes={"public_key": "other"}))


def test_prefix_walk() -> None:
    assert is_known_llm_scope("opentelemetry.instrumentation.langchain.callbacks.x")
    assert not is_known_llm_scope("opentelemetry.instrumentation.langchainx")
