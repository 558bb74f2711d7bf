"""The client: configuration, get_client routing, multi-project isolation, sampling, export wiring,
flush/shutdown bounds, fork safety and the TracerProvider policy. Export goes over real loopback HTTP."""

from __future__ import annotations

import base64
import logging
import os
import subprocess
import sys
import textwrap
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from interactiveai import InteractiveAI, get_client, observe
from interactiveai.sdk import registry
from interactiveai.sdk.attributes import Attr
from interactiveai.sdk.export.sampling import is_trace_sampled
from interactiveai.sdk.pipeline import router_for
from interactiveai.version import __version__
from tests.support.otlp_receiver import OtlpReceiver

from .conftest import Memory

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as r:
        yield r


# -- configuration -----------------------------------------------------------------------------------


def test_missing_keys_give_a_disabled_client_and_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    client = InteractiveAI()
    assert client.enabled is False
    assert caplog.text.count("no public/secret key") == 1
    assert registry.registered_clients() == []
    with client.start_as_current_span(name="x"):
        pass
    assert client.flush(timeout=0.1) and client.shutdown(timeout=0.1)


def test_env_configuration(monkeypatch: pytest.MonkeyPatch, memory: Memory, dead_host: str) -> None:
    monkeypatch.setenv("INTERACTIVEAI_PUBLIC_KEY", "pk-env")
    monkeypatch.setenv("INTERACTIVEAI_SECRET_KEY", "sk-env")
    monkeypatch.setenv("INTERACTIVEAI_BASE_URL", dead_host + "/")
    monkeypatch.setenv("INTERACTIVEAI_TRACING_ENVIRONMENT", "prod")
    monkeypatch.setenv("INTERACTIVEAI_SAMPLE_RATE", "0.25")
    monkeypatch.setenv("INTERACTIVEAI_FLUSH_AT", "7")
    client = InteractiveAI(tracer_provider=memory.provider, span_exporter=InMemorySpanExporter())
    s = client.settings
    assert (s.public_key, s.secret_key, s.host, s.environment) == ("pk-env", "sk-env", dead_host, "prod")
    assert (s.sample_rate, s.flush_at) == (0.25, 7)
    # Arguments win over the environment; 0.0 is a real value, not "unset".
    client2 = InteractiveAI(
        public_key="pk-arg", secret_key="sk", sample_rate=0.0, flush_at=3, flush_interval=0.5, host="http://h:1"
    )
    s2 = client2.settings
    assert (s2.public_key, s2.sample_rate, s2.flush_at, s2.flush_interval, s2.host) == (
        "pk-arg",
        0.0,
        3,
        0.5,
        "http://h:1",
    )


def test_tracing_disabled_by_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTERACTIVEAI_TRACING_ENABLED", "0")
    assert InteractiveAI(public_key="pk", secret_key="sk").enabled is False


# -- get_client ---------------------------------------------------------------------------------------


def test_get_client_builds_from_env_once(monkeypatch: pytest.MonkeyPatch, dead_host: str) -> None:
    monkeypatch.setenv("INTERACTIVEAI_PUBLIC_KEY", "pk-env")
    monkeypatch.setenv("INTERACTIVEAI_SECRET_KEY", "sk-env")
    monkeypatch.setenv("INTERACTIVEAI_HOST", dead_host)
    first = get_client()
    assert first.enabled and first.public_key == "pk-env"
    assert get_client() is first
    assert get_client(public_key="pk-env") is first


def test_a_keyless_client_then_get_client_warn_once_in_all(caplog: pytest.LogCaptureFixture) -> None:
    # The quick start's shape without keys: a client, then get_client() in the code it calls.
    InteractiveAI()
    assert get_client().enabled is False
    InteractiveAI()
    assert caplog.text.count("no public/secret key") == 1


def test_the_readme_quick_start_without_keys_warns_once_in_a_fresh_process(tmp_path: Path) -> None:
    """As a newcomer runs it: a fresh interpreter, the README's code, no keys; a client, @observe and
    get_client() all run, and the console shows the warning once."""
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    code = readme.split("## SDK quick start", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    script = tmp_path / "quick_start.py"
    script.write_text(code + "get_client().score_current_trace(name='x', value=1)\nInteractiveAI()\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INTERACTIVEAI_", "OTEL_"))}
    run = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "@observe" in code and "InteractiveAI()" in code and "get_client()" in code
    assert run.stderr.count("no public/secret key") == 1, run.stderr


def test_get_client_without_configuration_is_disabled_and_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    assert get_client().enabled is False
    assert get_client() is get_client()
    assert caplog.text.count("no public/secret key") == 1
    assert registry.registered_clients() == []


def test_get_client_single_and_multiple(make_client: Any, caplog: pytest.LogCaptureFixture) -> None:
    a = make_client(public_key="pk-a", span_exporter=InMemorySpanExporter())
    assert get_client() is a
    b = make_client(public_key="pk-b", span_exporter=InMemorySpanExporter())
    assert get_client(public_key="pk-a") is a and get_client(public_key="pk-b") is b
    ambiguous = get_client()
    assert ambiguous.enabled is False
    assert "2 clients exist" in caplog.text
    unknown = get_client(public_key="pk-zzz")
    assert unknown.enabled is False and "pk-zzz" in caplog.text
    # No junk client was registered along the way.
    assert {c.public_key for c in registry.registered_clients()} == {"pk-a", "pk-b"}


def test_with_several_clients_nested_work_goes_to_the_client_of_the_current_observation(
    make_client: Any, memory: Memory, caplog: pytest.LogCaptureFixture
) -> None:
    sink_a, sink_b = InMemorySpanExporter(), InMemorySpanExporter()
    make_client(public_key="pk-a", span_exporter=sink_a)
    b = make_client(public_key="pk-b", span_exporter=sink_b)

    @observe
    def step() -> str:
        get_client().update_current_trace(user_id="u-b")
        return "ok"

    with b.start_as_current_span(name="root-b"):
        assert get_client() is b
        step()
    with memory.provider.get_tracer("someone-else").start_as_current_span("foreign"):
        assert get_client().enabled is False  # a span not of ours says nothing about the project
    assert get_client().enabled is False
    assert b.flush(timeout=2)
    spans_b = {s.name: s for s in sink_b.get_finished_spans()}
    assert set(spans_b) == {"root-b", "step"}
    assert spans_b["step"].parent is not None and spans_b["step"].parent.span_id == spans_b["root-b"].context.span_id
    assert sink_a.get_finished_spans() == ()
    assert "2 clients exist" in caplog.text


def test_same_key_replaces_processor_instead_of_piling_up(make_client: Any, memory: Memory) -> None:
    first_sink, second_sink = InMemorySpanExporter(), InMemorySpanExporter()
    first = make_client(span_exporter=first_sink)
    router = router_for(memory.provider)
    second = make_client(span_exporter=second_sink, environment="new")
    assert len(router._targets) == 1
    assert get_client() is second
    with first.start_as_current_span(name="via-first"):
        pass
    second.start_span(name="via-second").end()
    assert second.flush(timeout=2)
    names = sorted(s.name for s in second_sink.get_finished_spans())
    assert names == ["via-first", "via-second"]  # each span exported exactly once
    assert first_sink.get_finished_spans() == ()


def test_same_configuration_reuses_the_processor(
    make_client: Any, memory: Memory, exported: InMemorySpanExporter
) -> None:
    first = make_client()
    processor = first._processor
    second = make_client()
    assert second._processor is processor and first._processor is None
    assert router_for(memory.provider).target("pk-test") is processor
    first.start_span(name="a").end()
    second.start_span(name="b").end()
    assert first.flush(timeout=2)  # flushes the processor now exporting its key
    assert sorted(s.name for s in exported.get_finished_spans()) == ["a", "b"]
    assert first.shutdown(timeout=1)  # the replaced client leaves the live processor running
    second.start_span(name="c").end()
    assert second.flush(timeout=2)
    assert sorted(s.name for s in exported.get_finished_spans()) == ["a", "b", "c"]


def test_projects_are_isolated_on_a_shared_provider(make_client: Any) -> None:
    sink_a, sink_b = InMemorySpanExporter(), InMemorySpanExporter()
    a = make_client(public_key="pk-a", span_exporter=sink_a)
    b = make_client(public_key="pk-b", span_exporter=sink_b)
    a.start_span(name="for-a").end()
    b.start_span(name="for-b").end()
    assert a.flush(timeout=2) and b.flush(timeout=2)
    assert [s.name for s in sink_a.get_finished_spans()] == ["for-a"]
    assert [s.name for s in sink_b.get_finished_spans()] == ["for-b"]


def test_scope_name_version_and_public_key(client: InteractiveAI, memory: Memory) -> None:
    client.start_span(name="s").end()
    scope = memory.span("s").instrumentation_scope
    assert scope is not None
    assert (scope.name, scope.version, dict(scope.attributes or {})) == (
        "interactiveai-sdk",
        __version__,
        {"public_key": "pk-test"},
    )


# -- filtering and sampling -------------------------------------------------------------------------


def test_third_party_spans_filtered(make_client: Any, memory: Memory, exported: InMemorySpanExporter) -> None:
    client = make_client()
    memory.provider.get_tracer("opentelemetry.instrumentation.requests").start_span("GET /").end()
    memory.provider.get_tracer("my.llm.lib").start_span("chat", attributes={"gen_ai.system": "openai"}).end()
    memory.provider.get_tracer("opentelemetry.instrumentation.openai").start_span("openai.chat").end()
    client.start_span(name="ours").end()
    assert client.flush(timeout=2)
    assert sorted(s.name for s in exported.get_finished_spans()) == ["chat", "openai.chat", "ours"]


def test_should_export_span_replaces_third_party_rule(
    make_client: Any, memory: Memory, exported: InMemorySpanExporter
) -> None:
    def keep(span: ReadableSpan) -> bool:
        return span.name.startswith("keep")

    client = make_client(should_export_span=keep)
    memory.provider.get_tracer("x").start_span("keep-me").end()
    memory.provider.get_tracer("x").start_span("drop-me").end()
    client.start_span(name="ours").end()
    assert client.flush(timeout=2)
    assert sorted(s.name for s in exported.get_finished_spans()) == ["keep-me", "ours"]


def test_sample_rate_zero_exports_nothing(make_client: Any, exported: InMemorySpanExporter) -> None:
    client = make_client(sample_rate=0.0)

    @observe
    def work() -> int:
        return 1

    for _ in range(20):
        assert work() == 1
    assert client.flush(timeout=2)
    assert exported.get_finished_spans() == ()


def test_sample_rate_half_is_deterministic_by_trace_id(make_client: Any, exported: InMemorySpanExporter) -> None:
    client = make_client(sample_rate=0.5)
    ids = [InteractiveAI.create_trace_id(seed=str(i)) for i in range(200)]
    for tid in ids:
        with client.start_as_current_span(name=tid, trace_context={"trace_id": tid}):
            client.start_span(name="child-" + tid).end()
    assert client.flush(timeout=2)
    kept = {s.name for s in exported.get_finished_spans()}
    expected = {tid for tid in ids if is_trace_sampled(int(tid, 16), 0.5)}
    assert {n for n in kept if not n.startswith("child-")} == expected
    assert {n[6:] for n in kept if n.startswith("child-")} == expected  # whole traces, never halves
    assert 60 < len(expected) < 140


# -- export over real HTTP ---------------------------------------------------------------------------


def test_export_over_http_with_headers(receiver: OtlpReceiver, memory: Memory) -> None:
    client = InteractiveAI(
        public_key="pk-http",
        secret_key="sk-http",
        host=receiver.base_url,
        tracer_provider=memory.provider,
        additional_headers={"x-extra": "1"},
        environment="e2e",
        release="r1",
    )

    @observe(as_type="generation")
    def llm(prompt: str) -> str:
        client.update_current_generation(model="m", usage_details={"input": 3})
        return prompt.upper()

    with client.start_as_current_span(name="root") as root:
        root.update_trace(user_id="u", tags=["t"])
        llm("hi")
    assert client.flush(timeout=5)
    spans = {s["name"]: s for s in receiver.wait_for_spans(2, timeout=5)}
    assert spans["llm"]["parent_span_id"] == spans["root"]["span_id"]
    assert spans["llm"]["attributes"][Attr.OBSERVATION_TYPE] == "generation"
    assert spans["llm"]["attributes"][Attr.OBSERVATION_OUTPUT] == '"HI"'
    assert spans["root"]["attributes"][Attr.TRACE_TAGS] == ["t"]
    assert spans["root"]["attributes"][Attr.ENVIRONMENT] == "e2e"
    assert spans["root"]["scope_name"] == "interactiveai-sdk"
    request = receiver.requests[0]
    assert request.path == "/api/public/otel/v1/traces"
    token = base64.b64encode(b"pk-http:sk-http").decode()
    assert request.headers["authorization"] == f"Basic {token}"
    assert request.headers["x-interactiveai-sdk-name"] == "python"
    assert request.headers["x-interactiveai-sdk-version"] == __version__
    assert request.headers["x-interactiveai-public-key"] == "pk-http"
    assert request.headers["x-extra"] == "1"


def test_flush_and_shutdown_are_bounded_with_a_dead_endpoint(memory: Memory, dead_host: str) -> None:
    client = InteractiveAI(public_key="pk-dead", secret_key="sk", host=dead_host, tracer_provider=memory.provider)
    for i in range(50):
        client.start_span(name=f"s{i}").end()
    client.create_score(name="q", value=1.0, trace_id="ab" * 16)
    started = time.monotonic()
    assert client.flush(timeout=0.5) is False
    assert time.monotonic() - started < 2.0
    started = time.monotonic()
    client.shutdown(timeout=0.5)
    assert time.monotonic() - started < 2.0


def test_client_after_shutdown_is_a_noop_and_a_new_one_works(receiver: OtlpReceiver, memory: Memory) -> None:
    old = InteractiveAI(public_key="pk-re", secret_key="sk", host=receiver.base_url, tracer_provider=memory.provider)
    assert old.shutdown(timeout=2) is True
    assert old.shutdown(timeout=2) is True
    assert old.enabled is False
    assert old.flush(timeout=0.5) is True
    old.create_score(name="late", value=1)

    @observe
    def f() -> int:
        return 5

    assert f() == 5
    new = InteractiveAI(public_key="pk-re", secret_key="sk", host=receiver.base_url, tracer_provider=memory.provider)
    assert f() == 5
    assert new.flush(timeout=5)
    assert [s["name"] for s in receiver.wait_for_spans(1, timeout=5)] == ["f"]


def test_recovers_when_the_server_comes_back(receiver: OtlpReceiver, memory: Memory) -> None:
    client = InteractiveAI(
        public_key="pk-back", secret_key="sk", host=receiver.base_url, tracer_provider=memory.provider, timeout=3
    )
    receiver.set_mode("503", retry_after=0.1)
    client.start_span(name="during-outage").end()
    time.sleep(0.2)
    receiver.set_mode("ok")
    assert client.flush(timeout=5)
    assert "during-outage" in [s["name"] for s in receiver.wait_for_spans(1, timeout=5)]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_fork_child_traces_and_exits_cleanly(receiver: OtlpReceiver, memory: Memory) -> None:
    client = InteractiveAI(
        public_key="pk-fork", secret_key="sk", host=receiver.base_url, tracer_provider=memory.provider
    )
    client.start_span(name="parent-before").end()
    client.create_score(name="parent-score", value=1, trace_id="cd" * 16)
    with warnings.catch_warnings():
        # Python 3.12+ warns about forking a process that has threads: that is the point here.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # child: fresh queues and threads; must trace, flush and exit on its own
        code = 1
        try:
            client.start_span(name="in-child").end()
            code = 0 if client.flush(timeout=5) else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    client.start_span(name="parent-after").end()
    # The OTLP test receiver has no score endpoint: it refuses the parent's score (404), which the
    # parent's next flush reports; the child's flush (above) had no score of its own to report.
    assert client.flush(timeout=5) is False
    assert client.flush(timeout=5) is True
    names = [s["name"] for s in receiver.wait_for_spans(3, timeout=5)]
    assert sorted(names) == ["in-child", "parent-after", "parent-before"]


# -- TracerProvider policy and exit behaviour (fresh interpreters: the global provider is set once) ----


def _python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("INTERACTIVEAI_")}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_creates_global_provider_when_none_exists(dead_host: str) -> None:
    proc = _python(
        f"""
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from interactiveai import InteractiveAI
        client = InteractiveAI(public_key="pk", secret_key="sk", host="{dead_host}", environment="prod", release="r9")
        provider = trace.get_tracer_provider()
        assert isinstance(provider, TracerProvider), provider
        assert provider.resource.attributes["interactiveai.environment"] == "prod"
        assert provider.resource.attributes["interactiveai.release"] == "r9"
        client.shutdown(timeout=0.5)
        print("OK")
        """
    )
    assert proc.stdout.strip() == "OK", proc.stderr


def test_keeps_the_apps_global_provider_and_processors(dead_host: str) -> None:
    proc = _python(
        f"""
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        from interactiveai import InteractiveAI
        app_provider = TracerProvider()
        app_sink = InMemorySpanExporter()
        app_provider.add_span_processor(SimpleSpanProcessor(app_sink))
        trace.set_tracer_provider(app_provider)
        ours = InMemorySpanExporter()
        client = InteractiveAI(public_key="pk", secret_key="sk", host="{dead_host}", span_exporter=ours)
        assert trace.get_tracer_provider() is app_provider
        client.start_span(name="s").end()
        client.flush(timeout=2)
        assert [s.name for s in app_sink.get_finished_spans()] == ["s"]
        assert [s.name for s in ours.get_finished_spans()] == ["s"]
        client.shutdown(timeout=0.5)
        print("OK")
        """
    )
    assert proc.stdout.strip() == "OK", proc.stderr


def test_spans_are_flushed_at_interpreter_exit(receiver: OtlpReceiver) -> None:
    proc = _python(
        f"""
        from interactiveai import observe, InteractiveAI
        InteractiveAI(public_key="pk-exit", secret_key="sk", host="{receiver.base_url}", flush_interval=60)

        @observe
        def job():
            return "done"

        job()
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert [s["name"] for s in receiver.wait_for_spans(1, timeout=5)] == ["job"]


def test_debug_logging(caplog: pytest.LogCaptureFixture, make_client: Any) -> None:
    logger = logging.getLogger("interactiveai")
    level, handlers = logger.level, list(logger.handlers)
    try:
        make_client(debug=True)
        assert logger.level == logging.DEBUG
    finally:
        logger.setLevel(level)
        logger.handlers[:] = handlers


def test_garbage_configuration_never_raises(caplog: pytest.LogCaptureFixture) -> None:
    client = InteractiveAI(public_key="pk", secret_key="sk", flush_at="lots")  # type: ignore[arg-type]
    assert client.enabled is False
    assert "client setup failed" in caplog.text
    client.start_span(name="x").end()


def test_non_sdk_tracer_provider_is_ignored_with_a_warning(
    caplog: pytest.LogCaptureFixture, dead_host: str, monkeypatch: pytest.MonkeyPatch, memory: Memory
) -> None:
    from opentelemetry import trace

    # Stand in for the global provider so this test does not install one for the whole session.
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: memory.provider)
    client = InteractiveAI(
        public_key="pk-np",
        secret_key="sk",
        host=dead_host,
        tracer_provider=trace.NoOpTracerProvider(),  # type: ignore[arg-type]
        span_exporter=InMemorySpanExporter(),
    )
    assert "not an OpenTelemetry SDK TracerProvider" in caplog.text
    client.start_span(name="lands-on-global").end()
    assert [s.name for s in memory.spans()] == ["lands-on-global"]
