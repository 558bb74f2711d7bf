"""Demo data: a week of a small simulated LLM application, sent through the real SDK and public API.

A support assistant (RAG retrieval, tool calls, generations with token usage), a ticket
summariser, a nightly indexing job and an evaluation of two prompt versions against a dataset,
spread over the past 7 days: several trace names, three environments, two releases, users and
multi-turn sessions, warnings and errors, and scores with their score configs. Spans go through
the SDK (``start_time``/``end(end_time=)`` place them in the past); score configs, the dataset,
its items and the run links go through the public REST API, as a user's scripts would.

Loading twice adds nothing: every trace, observation, score and dataset item has an id derived
from a fixed seed (``create_trace_id(seed=...)``; observations through a seeded OpenTelemetry id
generator), and a load that finished (its last write is the newest dataset run) is not repeated.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

import httpx
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.id_generator import IdGenerator

from interactiveai import InteractiveAI
from interactiveai.sdk.ids import create_observation_id, create_trace_id
from interactiveai.sdk.observations import InteractiveAIObservation

SEED: Final = "interactiveai-demo"
DATASET: Final = "support-questions"
RUNS: Final = (("prompt-v1", 4, "gpt-4o-mini"), ("prompt-v2", 1, "gpt-4o"))  # name, days ago, model
USERS: Final = ["alice@example.com", "bob@example.com", "chen@example.com", "dana@example.com", "eve@example.com"]
AGENTS: Final = ["agent-marta", "agent-yusuf", "agent-lin"]
QUESTIONS: Final = [
    ("How do I reset my password?", "account"),
    ("Can I get a refund for my last invoice?", "billing"),
    ("The export to CSV fails with a timeout.", "bug"),
    ("Which plan includes SSO?", "sales"),
    ("How do I rotate my API keys?", "account"),
    ("Why was I charged twice this month?", "billing"),
    ("Does the API support streaming responses?", "docs"),
    ("My dashboard shows no data since yesterday.", "bug"),
]
DOCS: Final = {
    "account": ["Passwords can be reset from Settings → Security.", "API keys rotate under Settings → API keys."],
    "billing": ["Refunds are issued within 14 days of purchase.", "Duplicate charges are reversed automatically."],
    "bug": ["Large CSV exports run in the background and are emailed.", "Data may lag up to 5 minutes."],
    "sales": ["SSO (SAML, OIDC) is part of the Enterprise plan."],
    "docs": ["Streaming is available on every chat endpoint via stream=true."],
}
ANSWERS: Final = {
    "account": "You can do that under Settings. I've sent you a link with step-by-step instructions.",
    "billing": "I found the duplicate charge on invoice in_1002; it will be refunded within 5 business days.",
    "bug": "Thanks for reporting this. Large exports now run in the background; you'll get an email.",
    "sales": "SSO is included in the Enterprise plan. Would you like me to connect you with sales?",
    "docs": "Yes: pass stream=true to any chat endpoint to receive server-sent events.",
}
# Milliseconds per model call (low, high); costs are not sent: the server prices the models itself.
MODELS: Final = {"gpt-4o-mini": (350, 1400), "gpt-4o": (700, 2600), "claude-3-5-sonnet-20241022": (900, 3400)}
SCORE_CONFIGS: Final[list[dict[str, Any]]] = [
    {"name": "helpfulness", "dataType": "NUMERIC", "minValue": 0, "maxValue": 1, "description": "LLM judge, 0-1"},
    {"name": "correctness", "dataType": "NUMERIC", "minValue": 0, "maxValue": 1, "description": "Against the item"},
    {"name": "resolved", "dataType": "BOOLEAN", "description": "The user's problem was solved"},
    {
        "name": "user-feedback",
        "dataType": "CATEGORICAL",
        "categories": [{"label": "thumbs-up", "value": 1}, {"label": "thumbs-down", "value": 0}],
        "description": "Thumbs in the chat widget",
    },
]
# (environment, release, days ago from, days ago to, chats in the last hour, support chats, ticket
# summaries, index jobs)
GROUPS: Final = [
    ("production", "v1.4.1", 7.0, 3.0, 0, 20, 8, 2),
    ("production", "v1.4.2", 3.0, 0.0, 1, 22, 8, 2),
    ("staging", "v1.5.0-rc1", 6.0, 0.0, 1, 6, 3, 1),
    ("development", None, 2.0, 0.0, 0, 4, 0, 0),
]


class _SeededIds(IdGenerator):
    """Trace and span ids derived from the current trace's seed, so a second load re-sends the same ids."""

    def __init__(self) -> None:
        self.seed, self.count = SEED, 0

    def begin(self, seed: str) -> str:
        self.seed, self.count = f"{SEED}/{seed}", 0
        return create_trace_id(seed=self.seed)

    def generate_trace_id(self) -> int:
        return int(create_trace_id(seed=self.seed), 16)

    def generate_span_id(self) -> int:
        self.count += 1
        return int(create_observation_id(seed=f"{self.seed}/{self.count}"), 16)


@dataclass
class _Clock:
    """The simulated time inside one trace: each step starts where the previous one ended."""

    now: dt.datetime

    def advance(self, rng: random.Random, low_ms: float, high_ms: float) -> dt.datetime:
        self.now += dt.timedelta(milliseconds=rng.uniform(low_ms, high_ms))
        return self.now


def load_demo(
    url: str, public_key: str, secret_key: str, *, now: dt.datetime | None = None, force: bool = False
) -> int:
    """Load the demo into the project of the keys at ``url``; returns the number of traces sent (0 when
    an earlier load finished; ``force`` sends again, which changes nothing but the times)."""
    now = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    with httpx.Client(base_url=url, auth=(public_key, secret_key), timeout=30) as api:
        last_run = f"/api/public/datasets/{DATASET}/runs/{RUNS[-1][0]}"
        if not force and api.get(last_run).status_code == 200:
            return 0
        configs = _score_configs(api)
        ids = _SeededIds()
        provider = TracerProvider(
            resource=Resource.create({"service.name": "acme-support-bot"}), id_generator=ids, shutdown_on_exit=False
        )
        sent = 0
        chats: dict[str, str] = {}  # question -> a production trace that asked it
        try:
            for environment, release, start, end, recent, *counts in GROUPS:
                client = _client(url, public_key, secret_key, provider, environment, release)
                demo = _Demo(client, ids, configs)
                times = random.Random(f"{SEED}/{environment}/{release}/times")
                for when, kind, index in _schedule(now, start, end, recent, counts, times):
                    sent += demo.trace(kind, f"{environment}/{release}/{kind}/{index}", when, chats)
                client.shutdown(timeout=30)
            client = _client(url, public_key, secret_key, provider, "staging", "v1.5.0-rc1")
            sent += _evaluate(api, _Demo(client, ids, configs), now, chats)
            client.shutdown(timeout=30)
        finally:
            provider.shutdown()
        return sent


def _client(
    url: str, public_key: str, secret_key: str, provider: TracerProvider, environment: str, release: str | None
) -> InteractiveAI:
    return InteractiveAI(
        public_key=public_key,
        secret_key=secret_key,
        host=url,
        environment=environment,
        release=release,
        tracer_provider=provider,
        tracing_enabled=True,
        sample_rate=1.0,
        timeout=30,
    )


def _score_configs(api: httpx.Client) -> dict[str, str]:
    """The ids of the demo's score configs, created when the project has none of that name."""
    found = api.get("/api/public/score-configs", params={"limit": 100}).raise_for_status().json()["data"]
    ids = {config["name"]: config["id"] for config in found if not config.get("isArchived")}
    for config in SCORE_CONFIGS:
        if config["name"] not in ids:
            ids[config["name"]] = api.post("/api/public/score-configs", json=config).raise_for_status().json()["id"]
    return ids


def _schedule(
    now: dt.datetime, start_days: float, end_days: float, recent: int, counts: list[int], rng: random.Random
) -> Iterator[tuple[dt.datetime, str, int]]:
    """Start times between ``start_days`` and ``end_days`` ago, busier in working hours (UTC), none in
    the last half hour (a session's later turns never reach the future), a few within the last hour."""
    window = (start_days - end_days) * 86_400
    for kind, count in zip(("chat", "summary", "index"), counts, strict=True):
        for index in range(count):
            while True:
                when = now - dt.timedelta(days=start_days) + dt.timedelta(seconds=rng.uniform(0, window))
                weight = 1.0 if 8 <= when.hour < 19 else 0.35
                if rng.random() < weight and when < now - dt.timedelta(minutes=30):
                    break
            if kind == "chat" and index < recent:
                when = now - dt.timedelta(minutes=rng.uniform(20, 55))  # something in the last hour
            yield when, kind, index


class _Demo:
    """Builds the demo's traces with one client (one environment and release)."""

    def __init__(self, client: InteractiveAI, ids: _SeededIds, configs: dict[str, str]) -> None:
        self.client, self.ids, self.configs = client, ids, configs
        self.rng = random.Random(SEED)

    def trace(self, kind: str, seed: str, when: dt.datetime, chats: dict[str, str]) -> int:
        # Content from the trace's own seed: the same traces (ids, turns) whatever the time of the load.
        self.rng = random.Random(f"{SEED}/{seed}")
        if kind == "chat":
            user = self.rng.choice(USERS)
            turns = self.rng.randint(1, 4)
            for turn in range(turns):
                question, topic = self.rng.choice(QUESTIONS)
                trace_id = self.chat(f"{seed}/{turn}", when, user, f"chat-{create_trace_id(seed=seed)[:8]}", question)
                chats.setdefault(question, trace_id)
                when += dt.timedelta(minutes=self.rng.uniform(1, 6))
            return turns
        if kind == "summary":
            self.summary(seed, when)
        else:
            self.index_job(seed, when)
        return 1

    def score(self, name: str, value: float | str | bool, trace_id: str, at: dt.datetime, **extra: Any) -> None:
        self.client.create_score(
            name=name,
            value=value,
            trace_id=trace_id,
            score_id=create_observation_id(seed=f"{trace_id}/{name}"),
            config_id=self.configs.get(name),
            data_type="CATEGORICAL" if isinstance(value, str) else None,
            timestamp=at,
            **extra,
        )

    def chat(self, seed: str, when: dt.datetime, user: str, session: str, question: str, model: str = "") -> str:
        rng, clock = self.rng, _Clock(when)
        topic = dict(QUESTIONS)[question]
        trace_id = self.ids.begin(seed)
        root = self.client.start_observation(
            name="support-request", as_type="agent", start_time=when, input={"message": question}
        )
        step = root.start_observation(name="classify-intent", as_type="chain", input=question, start_time=clock.now)
        step.update(output={"intent": topic, "confidence": round(rng.uniform(0.7, 0.99), 2)})
        step.end(end_time=clock.advance(rng, 8, 30))
        guard = root.start_observation(name="guardrail", as_type="guardrail", input=question, start_time=clock.now)
        if rng.random() < 0.07:
            guard.update(level="WARNING", status_message="possible PII (email address) masked before retrieval")
        guard.update(output={"allowed": True, "checks": ["pii", "toxicity"]}).end(end_time=clock.advance(rng, 3, 12))
        context = self.retrieve(root, clock, question, topic)
        if topic == "billing":
            self.tool_call(root, clock)
        messages = [{"role": "system", "content": "You are Acme's friendly support assistant."}]
        if context:
            messages.append({"role": "system", "content": "Context:\n" + "\n".join(context)})
        messages.append({"role": "user", "content": question})
        answer = self.generate(root, clock, messages, ANSWERS.get(topic, "Let me connect you with a human."), model)
        root.update(output={"answer": answer})
        root.update_trace(
            name="support-chat" if not model else "support-eval",
            user_id=user or None,
            session_id=session or None,
            input={"message": question},
            output={"answer": answer},
            tags=["support-bot", topic],
            metadata={"channel": rng.choice(["web", "slack", "email"])},
        )
        root.end(end_time=clock.advance(rng, 2, 10))
        if not model:
            self.feedback(trace_id, clock.now)
        return trace_id

    def feedback(self, trace_id: str, ended: dt.datetime) -> None:
        rng = self.rng
        if rng.random() < 0.7:
            value = round(min(1.0, max(0.0, rng.gauss(0.78, 0.15))), 2)
            self.score("helpfulness", value, trace_id, ended + dt.timedelta(seconds=30), comment="LLM judge")
        if rng.random() < 0.5:
            self.score("resolved", rng.random() < 0.75, trace_id, ended + dt.timedelta(minutes=2))
        if rng.random() < 0.35:
            thumbs = "thumbs-up" if rng.random() < 0.8 else "thumbs-down"
            self.score("user-feedback", thumbs, trace_id, ended + dt.timedelta(minutes=1))

    def retrieve(self, root: InteractiveAIObservation, clock: _Clock, question: str, topic: str) -> list[str]:
        rng = self.rng
        span = root.start_observation(
            name="retrieve-docs", as_type="retriever", input={"query": question}, start_time=clock.now
        )
        embedding = span.start_observation(
            name="embed-query",
            as_type="embedding",
            model="text-embedding-3-small",
            input=question,
            start_time=clock.now,
        )
        embedding.update(usage_details={"input": len(question.split()) * 2}).end(end_time=clock.advance(rng, 40, 160))
        documents = DOCS.get(topic, [])
        span.update(
            output=[{"text": text, "score": round(rng.uniform(0.6, 0.95), 3)} for text in documents],
            metadata={"index": "support-kb", "top_k": 4},
        )
        span.end(end_time=clock.advance(rng, 15, 90))
        return documents

    def tool_call(self, root: InteractiveAIObservation, clock: _Clock) -> None:
        rng = self.rng
        arguments = {"customer": "cus_4711", "months": 2}
        tool = root.start_observation(name="lookup_invoice", as_type="tool", input=arguments, start_time=clock.now)
        roll = rng.random()
        if roll < 0.1:
            tool.update(level="ERROR", status_message="billing API timed out after 5 s")
            tool.end(end_time=clock.advance(rng, 5000, 5050))
            return
        if roll < 0.3:
            tool.update(level="WARNING", status_message="billing API slow, served from cache")
        tool.update(output={"invoices": [{"id": "in_1001", "amount": 49.0}, {"id": "in_1002", "amount": 49.0}]})
        tool.end(end_time=clock.advance(rng, 60, 400))

    def generate(
        self, root: InteractiveAIObservation, clock: _Clock, messages: list[dict[str, str]], answer: str, model: str
    ) -> str:
        rng = self.rng
        model = model or rng.choice(list(MODELS))
        started = clock.now
        generation = root.start_observation(
            name="chat-completion",
            as_type="generation",
            model=model,
            model_parameters={"temperature": 0.2, "max_tokens": 512},
            input=messages,
            start_time=started,
        )
        if rng.random() < 0.06:
            generation.create_event(
                name="retry", level="WARNING", metadata={"reason": "503 overloaded"}, start_time=clock.now
            )
            if rng.random() < 0.5:
                generation.update(level="ERROR", status_message="provider returned 503: overloaded after 2 retries")
                generation.end(end_time=clock.advance(rng, 2000, 4000))
                return "Sorry, I'm having trouble answering right now. A human agent will follow up."
        low, high = MODELS[model]
        duration = rng.lognormvariate(0, 0.35) * (low + high) / 2
        ended = clock.advance(rng, duration, duration)
        prompt_tokens = sum(len(m["content"].split()) for m in messages) * 3 + 40
        generation.update(
            output={"role": "assistant", "content": answer},
            completion_start_time=started + (ended - started) * rng.uniform(0.15, 0.4),
            usage_details={
                "input": prompt_tokens,
                "output": len(answer.split()) * 2 + rng.randint(0, 20),
                "input_cached_tokens": rng.choice([0, 0, 128]),
            },
        )
        generation.end(end_time=ended)
        return answer

    def summary(self, seed: str, when: dt.datetime) -> None:
        rng, clock = self.rng, _Clock(when)
        self.ids.begin(seed)
        ticket = {"id": f"T-{rng.randint(1000, 9999)}", "messages": rng.randint(3, 14)}
        root = self.client.start_observation(name="summarize-ticket", as_type="chain", input=ticket, start_time=when)
        fetch = root.start_observation(name="fetch-ticket", input={"id": ticket["id"]}, start_time=clock.now)
        fetch.update(output={"status": "open", "priority": rng.choice(["low", "normal", "high"])})
        fetch.end(end_time=clock.advance(rng, 20, 120))
        summary = "Customer cannot export data; asked for a refund of the duplicate charge."
        self.generate(
            root, clock, [{"role": "user", "content": "Summarise the ticket thread."}], summary, "gpt-4o-mini"
        )
        root.update(output={"summary": summary})
        root.update_trace(name="summarize-ticket", user_id=rng.choice(AGENTS), tags=["back-office"])
        root.end(end_time=clock.advance(rng, 2, 8))

    def index_job(self, seed: str, when: dt.datetime) -> None:
        rng, clock = self.rng, _Clock(when)
        self.ids.begin(seed)
        root = self.client.start_observation(
            name="index-documents", input={"source": "help-center", "since": "24h"}, start_time=when
        )
        pages = rng.randint(3, 6)
        for page in range(pages):
            batch = root.start_observation(
                name=f"embed-batch-{page + 1}",
                as_type="embedding",
                model="text-embedding-3-small",
                input={"documents": 64},
                start_time=clock.now,
            )
            batch.update(usage_details={"input": rng.randint(1_500, 5_000)}).end(end_time=clock.advance(rng, 800, 3000))
        root.create_event(name="index-swapped", level="DEBUG", metadata={"pages": pages}, start_time=clock.now)
        root.update(output={"pages": pages, "documents": pages * 64})
        root.update_trace(name="index-documents", tags=["batch"])
        root.end(end_time=clock.advance(rng, 50, 200))


def _evaluate(api: httpx.Client, demo: _Demo, now: dt.datetime, chats: dict[str, str]) -> int:
    """The dataset of support questions and two runs of the assistant over it, linked item by item."""
    api.post(
        "/api/public/datasets", json={"name": DATASET, "description": "Common support questions and good answers"}
    ).raise_for_status()
    items = []
    for index, (question, topic) in enumerate(QUESTIONS):
        item_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{SEED}/item/{index}"))
        body: dict[str, Any] = {
            "datasetName": DATASET,
            "id": item_id,
            "input": {"message": question},
            "expectedOutput": {"answer": ANSWERS.get(topic)},
            "metadata": {"topic": topic},
        }
        if question in chats:
            body["sourceTraceId"] = chats[question]
        api.post("/api/public/dataset-items", json=body).raise_for_status()
        items.append((item_id, question))
    links: list[dict[str, Any]] = []
    for run, days_ago, model in RUNS:
        when = now - dt.timedelta(days=days_ago, hours=2)
        for item_id, question in items:
            demo.rng = random.Random(f"{SEED}/eval/{run}/{item_id}")
            trace_id = demo.chat(f"eval/{run}/{item_id}", when, "", "", question, model=model)
            correct = demo.rng.uniform(0.55, 0.8) if model == "gpt-4o-mini" else demo.rng.uniform(0.75, 1.0)
            demo.score("correctness", round(correct, 2), trace_id, when + dt.timedelta(minutes=1))
            links.append({"runName": run, "datasetItemId": item_id, "traceId": trace_id, "metadata": {"model": model}})
            when += dt.timedelta(seconds=demo.rng.uniform(4, 12))
    demo.client.flush(timeout=30)
    for link in links:  # last: a finished load is recognised by its newest run
        api.post("/api/public/dataset-run-items", json=link).raise_for_status()
    return len(links)
