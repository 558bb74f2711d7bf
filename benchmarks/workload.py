"""A realistic OTLP workload, deterministic from a seed: traces as users send them.

Each trace is an agent run: a root agent span (user, session, tags, metadata, environment,
release), a first generation that asks for a tool, the tool span, a retriever with several
retrieved documents, and a second generation with the answer. Payloads are what real prompts
carry: system prompts of 1–4 KB, chat messages of 0.2–8 KB (log-uniform, so most are short),
documents of 0.5–2 KB. Three attribute conventions are mixed the way the server meets them: ours
(``interactiveai.*``), OpenInference (``openinference.span.kind``, ``llm.input_messages.*``,
``retrieval.documents.*``, with ``input.value`` beside the messages as its instrumentors send)
and OpenTelemetry GenAI (``gen_ai.*``). 5,000 users with a long tail, sessions of several
traces, three models, 3 % failed runs (status ERROR and an exception event), timestamps over 30
days in order of the trace index, and ~1 % of runs whose root span arrives in a later request
than its children (a long-running agent, or a late exporter).

Everything is derived from ``(seed, trace index)``: ids, sizes, text. Sending the same range
twice sends the same spans (the server deduplicates them), so a seeding run can resume.

    from benchmarks.workload import Workload
    workload = Workload(traces=1_000_000)
    for body, spans in workload.requests(0, 1_000, spans_per_request=512): ...
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

SPANS_PER_TRACE = 5
MODELS = ("gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet-20241022")
CONVENTIONS = (("ours", 0.45), ("openinference", 0.35), ("gen_ai", 0.20))
SCOPES = {
    "ours": "interactiveai",
    "openinference": "openinference.instrumentation.openai",
    "gen_ai": "opentelemetry.instrumentation.openai_v2",
}
TRACE_NAMES = ("support-agent", "research-agent", "billing-assistant", "code-review", "onboarding-bot")
TAGS = ("prod", "beta", "eu", "us", "mobile", "web", "api", "vip", "trial", "internal")
ENVIRONMENTS = (("production", 0.8), ("staging", 0.15), ("development", 0.05))
RELEASES = ("v1.8.0", "v1.8.1", "v1.9.0", "v2.0.0")
TOOLS = ("search_orders", "get_weather", "lookup_account", "create_ticket", "run_sql")
DAY_NS = 86_400 * 1_000_000_000
ERROR_RATE = 0.03
LATE_RATE = 0.01
TRACES_PER_SESSION = 4  # consecutive trace indexes share a session (several runs of one chat)
NO_SESSION_RATE = 0.2


def _corpus(seed: int) -> str:
    """~2 MB of text over a Zipf-like vocabulary: compresses and indexes like prose."""
    rng = random.Random(seed)
    letters = "etaoinshrdlcumwfgypbvkjxqz"
    weights = [12, 9, 8, 7.5, 7, 6.7, 6.3, 6, 5.9, 4.2, 4, 2.8, 2.7, 2.4, 2.3, 2.2, 2, 2, 1.9, 1.5, 1, 0.8, 0.2, 0.2]
    weights += [0.1, 0.07]
    vocabulary = ["".join(rng.choices(letters, weights, k=rng.randint(2, 10))) for _ in range(6000)]
    rank_weights = [1 / (rank + 1) for rank in range(len(vocabulary))]
    words = rng.choices(vocabulary, rank_weights, k=330_000)
    for index in range(0, len(words), 14):  # sentences
        words[index] = words[index].capitalize()
        words[index - 1] += "."
    return " ".join(words)


@dataclass
class _Trace:
    """What one trace sends: its spans (root first) and whether the root goes in a later request."""

    spans: list[Span]
    convention: str
    late_root: bool


class Workload:
    """Traces ``0 .. traces-1``; trace ``i`` starts at ``end - days + i * days / traces`` (+ jitter)."""

    def __init__(
        self, traces: int, *, seed: int = 42, users: int = 5000, days: int = 30, end_ns: int | None = None
    ) -> None:
        self.traces, self.seed, self.users, self.days = traces, seed, users, days
        self.end_ns = end_ns if end_ns is not None else (time.time_ns() // 3_600_000_000_000) * 3_600_000_000_000
        self.text = _corpus(seed)
        self._limit = len(self.text) - 20_000

    # --- text -----------------------------------------------------------------------------
    def _words(self, rng: random.Random, size: int) -> str:
        start = rng.randrange(self._limit)
        start = self.text.find(" ", start) + 1
        return self.text[start : start + size]

    def _sized(self, rng: random.Random, low: int, high: int) -> str:
        """Text of a log-uniform length in [low, high] bytes: most short, some long."""
        return self._words(rng, int(low * (high / low) ** rng.random()))

    # --- ids ------------------------------------------------------------------------------
    def trace_id(self, index: int) -> bytes:
        return hashlib.blake2b(f"{self.seed}:{index}".encode(), digest_size=16).digest()

    @staticmethod
    def _span_id(trace_id: bytes, position: int) -> bytes:
        return hashlib.blake2b(trace_id + bytes([position]), digest_size=8).digest()

    def user_id(self, rng: random.Random) -> str:
        return f"user-{int(self.users ** rng.random()) - 1:05d}"  # long tail: low ids are the busy users

    # --- one trace ------------------------------------------------------------------------
    def trace(self, index: int) -> _Trace:
        rng = random.Random(self.seed * 1_000_003 + index)
        session_rng = random.Random(self.seed * 7_919 + index // TRACES_PER_SESSION)
        convention = rng.choices([c for c, _ in CONVENTIONS], [w for _, w in CONVENTIONS])[0]
        span_ns = self.days * DAY_NS
        start = self.end_ns - span_ns + index * span_ns // max(self.traces, 1) + rng.randrange(60_000_000_000)
        user = self.user_id(session_rng)
        session = None if session_rng.random() < NO_SESSION_RATE else f"session-{index // TRACES_PER_SESSION:08d}"
        tid = self.trace_id(index)
        ids = [self._span_id(tid, position) for position in range(SPANS_PER_TRACE)]
        failed = rng.random() < ERROR_RATE
        facts = {
            "name": session_rng.choice(TRACE_NAMES),
            "user": user,
            "session": session,
            "tags": sorted(set(rng.sample(TAGS, rng.randint(1, 3)))),
            "metadata": {"tenant": f"tenant-{int(user[5:]) % 97:02d}", "plan": rng.choice(("free", "pro", "team"))},
            "environment": rng.choices([e for e, _ in ENVIRONMENTS], [w for _, w in ENVIRONMENTS])[0],
            "release": rng.choice(RELEASES),
        }
        system = self._sized(rng, 1000, 4000)
        question = self._sized(rng, 200, 2000)
        history = [
            {"role": role, "content": self._sized(rng, 200, 8000 if role == "assistant" else 2000)}
            for role in ("user", "assistant") * rng.randint(0, 2)
        ]
        tool = rng.choice(TOOLS)
        arguments = orjson.dumps({"query": self._words(rng, rng.randint(20, 120)), "limit": 5}).decode()
        tool_result = orjson.dumps({"rows": [self._sized(rng, 100, 600) for _ in range(rng.randint(1, 4))]}).decode()
        documents = [
            {"id": f"doc-{rng.randrange(200_000)}", "content": self._sized(rng, 500, 2000), "score": rng.random()}
            for _ in range(rng.randint(3, 6))
        ]
        answer = self._sized(rng, 200, 8000)
        models = [rng.choice(MODELS), rng.choice(MODELS)]
        # timeline: root [0, total]; gen 1; tool; retriever; gen 2
        times = [start]
        for low, high in ((200, 400), (400, 3000), (20, 900), (30, 400), (600, 9000)):
            times.append(times[-1] + rng.randint(low, high) * 1_000_000)
        build = _BUILDERS[convention]
        messages = [{"role": "system", "content": system}, *history, {"role": "user", "content": question}]
        call = {"id": f"call_{index:x}", "name": tool, "arguments": arguments}
        spans = [
            build.root(facts, question, answer),
            build.generation(models[0], messages, None, call, rng),
            build.tool(tool, call["id"], arguments, tool_result),
            build.retriever(question, documents),
            build.generation(
                models[1], [*messages, {"role": "tool", "content": tool_result}], answer, None, rng, documents
            ),
        ]
        bounds = [(times[0], times[5]), (times[1], times[2]), (times[2], times[3]), (times[3], times[4])]
        bounds.append((times[4], times[5]))
        for position, (span, (begin, finish)) in enumerate(zip(spans, bounds, strict=True)):
            span.trace_id, span.span_id = tid, ids[position]
            if position:
                span.parent_span_id = ids[0]
            span.kind = Span.SPAN_KIND_INTERNAL if position else Span.SPAN_KIND_SERVER
            span.start_time_unix_nano, span.end_time_unix_nano = begin, finish
        if convention != "ours":  # the trace's own facts, where other SDKs' users set them
            _add(spans[0], {"user.id": user, "deployment.environment.name": facts["environment"]})
            if session:
                _add(spans[0], {"session.id": session})
        if failed:
            failing = spans[rng.choice((2, 4))]
            message = f"{rng.choice(('TimeoutError', 'RateLimitError', 'ValueError'))}: {self._words(rng, 80)}"
            event = failing.events.add(name="exception", time_unix_nano=failing.end_time_unix_nano)
            _add(event, {"exception.type": message.split(":")[0], "exception.message": message[-80:]})
            _add(event, {"exception.stacktrace": "Traceback (most recent call last):\n" + self._words(rng, 1200)})
            for span in (failing, spans[0]):
                span.status.CopyFrom(Status(code=Status.STATUS_CODE_ERROR, message=message[:120]))
        return _Trace(spans, convention, late_root=rng.random() < LATE_RATE)

    # --- requests -------------------------------------------------------------------------
    def requests(self, first: int, stop: int, spans_per_request: int = 512) -> Iterator[tuple[bytes, int]]:
        """Protobuf ExportTraceServiceRequest bodies for traces ``first .. stop-1``, about
        ``spans_per_request`` spans each (a batch exporter's size); a late root waits one request."""
        pending: dict[str, list[Span]] = {name: [] for name in SCOPES}
        carried: list[tuple[str, Span]] = []  # roots held back by the previous request, sent in this one
        held: list[tuple[str, Span]] = []  # roots of this request's late traces, sent in the next
        count = 0
        for index in range(first, stop):
            trace = self.trace(index)
            if trace.late_root:
                held.append((trace.convention, trace.spans[0]))
                pending[trace.convention].extend(trace.spans[1:])
            else:
                pending[trace.convention].extend(trace.spans)
            count += len(trace.spans) - trace.late_root
            if count + len(carried) >= spans_per_request:
                for convention, span in carried:
                    pending[convention].append(span)
                yield _encode(pending), count + len(carried)
                pending, carried, held, count = {name: [] for name in SCOPES}, held, [], 0
        for convention, span in carried + held:
            pending[convention].append(span)
        if any(pending.values()):
            yield _encode(pending), sum(len(spans) for spans in pending.values())


def _encode(pending: dict[str, list[Span]]) -> bytes:
    """One resource (the service), one scope per instrumentation library, as a batch exporter sends."""
    request = ExportTraceServiceRequest()
    resource = request.resource_spans.add()
    _add(resource.resource, {"service.name": "agent-service", "service.version": "2.0.0"})
    for convention, spans in pending.items():
        if spans:
            scope = resource.scope_spans.add()
            scope.scope.name = SCOPES[convention]
            scope.spans.extend(spans)
    return request.SerializeToString()


def _value(value: Any) -> AnyValue:
    if isinstance(value, str):
        return AnyValue(string_value=value)
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    array = AnyValue()
    array.array_value.values.extend(_value(item) for item in value)
    return array


def _add(target: Any, attributes: dict[str, Any]) -> None:
    target.attributes.extend(KeyValue(key=key, value=_value(value)) for key, value in attributes.items())


def _span(name: str, attributes: dict[str, Any]) -> Span:
    span = Span(name=name)
    _add(span, attributes)
    return span


def _tokens(text_size: int) -> int:
    return max(1, text_size // 4)


def _size(messages: list[dict[str, Any]]) -> int:
    return sum(len(str(message.get("content") or "")) for message in messages)


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


class _Ours:
    """The SDK's attributes (``interactiveai.*``)."""

    @staticmethod
    def root(facts: dict[str, Any], question: str, answer: str) -> Span:
        attributes: dict[str, Any] = {
            "interactiveai.observation.type": "agent",
            "interactiveai.observation.input": _json({"question": question}),
            "interactiveai.observation.output": _json({"answer": answer}),
            "interactiveai.trace.name": facts["name"],
            "interactiveai.trace.tags": facts["tags"],
            "interactiveai.user.id": facts["user"],
            "interactiveai.environment": facts["environment"],
            "interactiveai.release": facts["release"],
        }
        if facts["session"]:
            attributes["interactiveai.session.id"] = facts["session"]
        for key, value in facts["metadata"].items():
            attributes[f"interactiveai.trace.metadata.{key}"] = _json(value)
        return _span(facts["name"], attributes)

    @staticmethod
    def generation(
        model: str,
        messages: list[dict[str, Any]],
        answer: str | None,
        call: dict[str, str] | None,
        rng: random.Random,
        documents: list[dict[str, Any]] | None = None,
    ) -> Span:
        output: dict[str, Any] = {"role": "assistant", "content": answer}
        if call:
            output["tool_calls"] = [
                {
                    "id": call["id"],
                    "type": "function",
                    "function": {"name": call["name"], "arguments": call["arguments"]},
                }
            ]
        prompt = _tokens(_size(messages))
        completion = _tokens(len(answer or "") + 40)
        return _span(
            "chat " + model,
            {
                "interactiveai.observation.type": "generation",
                "interactiveai.observation.model.name": model,
                "interactiveai.observation.model.parameters": _json({"temperature": round(rng.random(), 1)}),
                "interactiveai.observation.input": _json(messages),
                "interactiveai.observation.output": _json(output),
                "interactiveai.observation.usage_details": _json(
                    {"input": prompt, "output": completion, "total": prompt + completion}
                ),
            },
        )

    @staticmethod
    def tool(name: str, call_id: str, arguments: str, result: str) -> Span:
        return _span(
            name,
            {
                "interactiveai.observation.type": "tool",
                "interactiveai.observation.input": arguments,
                "interactiveai.observation.output": result,
                "interactiveai.observation.metadata.call_id": _json(call_id),
            },
        )

    @staticmethod
    def retriever(query: str, documents: list[dict[str, Any]]) -> Span:
        return _span(
            "retrieve",
            {
                "interactiveai.observation.type": "retriever",
                "interactiveai.observation.input": _json({"query": query[:300]}),
                "interactiveai.observation.output": _json(documents),
            },
        )


class _OpenInference:
    """Arize's OpenInference: flattened messages and documents, and input.value/output.value."""

    @staticmethod
    def root(facts: dict[str, Any], question: str, answer: str) -> Span:
        return _span(
            facts["name"],
            {
                "openinference.span.kind": "AGENT",
                "input.value": question,
                "output.value": answer,
                "tag.tags": facts["tags"],
                "metadata": _json(facts["metadata"]),
                "interactiveai.release": facts["release"],
            },
        )

    @staticmethod
    def generation(
        model: str,
        messages: list[dict[str, Any]],
        answer: str | None,
        call: dict[str, str] | None,
        rng: random.Random,
        documents: list[dict[str, Any]] | None = None,
    ) -> Span:
        attributes: dict[str, Any] = {
            "openinference.span.kind": "LLM",
            "llm.model_name": model,
            "llm.invocation_parameters": _json({"model": model, "temperature": round(rng.random(), 1)}),
            "input.value": _json({"messages": messages, "model": model}),
            "input.mime_type": "application/json",
        }
        for position, message in enumerate(messages):
            attributes[f"llm.input_messages.{position}.message.role"] = message["role"]
            attributes[f"llm.input_messages.{position}.message.content"] = message["content"]
        attributes["llm.output_messages.0.message.role"] = "assistant"
        if answer is not None:
            attributes["llm.output_messages.0.message.content"] = answer
            attributes["output.value"] = answer
        if call:
            prefix = "llm.output_messages.0.message.tool_calls.0.tool_call."
            attributes[prefix + "id"] = call["id"]
            attributes[prefix + "function.name"] = call["name"]
            attributes[prefix + "function.arguments"] = call["arguments"]
        prompt = _tokens(_size(messages))
        completion = _tokens(len(answer or "") + 40)
        attributes["llm.token_count.prompt"] = prompt
        attributes["llm.token_count.completion"] = completion
        attributes["llm.token_count.total"] = prompt + completion
        return _span("ChatCompletion", attributes)

    @staticmethod
    def tool(name: str, call_id: str, arguments: str, result: str) -> Span:
        return _span(
            name,
            {
                "openinference.span.kind": "TOOL",
                "tool.name": name,
                "input.value": arguments,
                "output.value": result,
            },
        )

    @staticmethod
    def retriever(query: str, documents: list[dict[str, Any]]) -> Span:
        attributes: dict[str, Any] = {"openinference.span.kind": "RETRIEVER", "input.value": query[:300]}
        for position, document in enumerate(documents):
            prefix = f"retrieval.documents.{position}.document."
            attributes[prefix + "id"] = document["id"]
            attributes[prefix + "content"] = document["content"]
            attributes[prefix + "score"] = document["score"]
        return _span("retrieve", attributes)


class _GenAI:
    """OpenTelemetry's GenAI semantic conventions (messages as JSON attributes, parts inside)."""

    @staticmethod
    def root(facts: dict[str, Any], question: str, answer: str) -> Span:
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": facts["name"],
            "interactiveai.trace.name": facts["name"],
            "interactiveai.trace.tags": facts["tags"],
            "interactiveai.release": facts["release"],
            "interactiveai.observation.input": _json({"question": question}),
            "interactiveai.observation.output": _json({"answer": answer}),
        }
        if facts["session"]:
            attributes["gen_ai.conversation.id"] = facts["session"]
        for key, value in facts["metadata"].items():
            attributes[f"interactiveai.trace.metadata.{key}"] = _json(value)
        return _span("invoke_agent " + facts["name"], attributes)

    @staticmethod
    def generation(
        model: str,
        messages: list[dict[str, Any]],
        answer: str | None,
        call: dict[str, str] | None,
        rng: random.Random,
        documents: list[dict[str, Any]] | None = None,
    ) -> Span:
        system, rest = messages[0], messages[1:]
        parts_in = [{"role": m["role"], "parts": [{"type": "text", "content": m["content"]}]} for m in rest]
        parts_out: list[dict[str, Any]] = []
        if answer is not None:
            parts_out.append({"type": "text", "content": answer})
        if call:
            parts_out.append(
                {"type": "tool_call", "id": call["id"], "name": call["name"], "arguments": call["arguments"]}
            )
        prompt = _tokens(_size(messages))
        completion = _tokens(len(answer or "") + 40)
        return _span(
            "chat " + model,
            {
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "anthropic" if model.startswith("claude") else "openai",
                "gen_ai.request.model": model,
                "gen_ai.response.model": model,
                "gen_ai.request.temperature": round(rng.random(), 1),
                "gen_ai.system_instructions": _json([{"type": "text", "content": system["content"]}]),
                "gen_ai.input.messages": _json(parts_in),
                "gen_ai.output.messages": _json(
                    [{"role": "assistant", "parts": parts_out, "finish_reason": "tool_call" if call else "stop"}]
                ),
                "gen_ai.usage.input_tokens": prompt,
                "gen_ai.usage.output_tokens": completion,
            },
        )

    @staticmethod
    def tool(name: str, call_id: str, arguments: str, result: str) -> Span:
        return _span(
            "execute_tool " + name,
            {
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": name,
                "gen_ai.tool.call.id": call_id,
                "gen_ai.tool.call.arguments": arguments,
                "gen_ai.tool.call.result": result,
            },
        )

    @staticmethod
    def retriever(query: str, documents: list[dict[str, Any]]) -> Span:
        return _Ours.retriever(query, documents)  # no GenAI retrieval convention: users set ours


_BUILDERS: dict[str, Any] = {"ours": _Ours, "openinference": _OpenInference, "gen_ai": _GenAI}
