"""Demo data: a small simulated LLM application, traced through the real SDK.

It runs a support-chat assistant (RAG retrieval, tool-using agent, generations with token usage)
for a handful of users and sessions, with some failures and scores, and sends everything to a
running server exactly as a user's application would. The "LLM" is simulated with short sleeps
so timings and trees are realistic without calling any provider.
"""

from __future__ import annotations

import random
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from interactiveai import InteractiveAI, propagate_attributes

USERS = ["alice@example.com", "bob@example.com", "chen@example.com", "dana@example.com", "eve@example.com"]
QUESTIONS = [
    ("How do I reset my password?", "account"),
    ("Can I get a refund for my last invoice?", "billing"),
    ("The export to CSV fails with a timeout.", "bug"),
    ("Which plan includes SSO?", "sales"),
    ("How do I rotate my API keys?", "account"),
    ("Why was I charged twice this month?", "billing"),
    ("Does the API support streaming responses?", "docs"),
    ("My dashboard shows no data since yesterday.", "bug"),
]
DOCS = {
    "account": ["Passwords can be reset from Settings → Security.", "API keys rotate under Settings → API keys."],
    "billing": ["Refunds are issued within 14 days of purchase.", "Duplicate charges are reversed automatically."],
    "bug": ["Large CSV exports run in the background and are emailed.", "Data may lag up to 5 minutes."],
    "sales": ["SSO (SAML, OIDC) is part of the Enterprise plan."],
    "docs": ["Streaming is available on every chat endpoint via stream=true."],
}
# Costs are not sent: the server prices these models from its catalog.
MODELS = ["gpt-4o-mini", "gpt-4o", "claude-3-5-sonnet-20241022"]


def load_demo(url: str, public_key: str, secret_key: str, *, conversations: int = 12, seed: int = 7) -> int:
    """Run the simulated application against the server at ``url``; returns the number of traces sent."""
    client = InteractiveAI(
        public_key=public_key, secret_key=secret_key, host=url, environment="production", release="v1.4.2"
    )
    rng = random.Random(seed)
    plans = []
    for index in range(conversations):
        user = USERS[index % len(USERS)]
        turns = rng.randint(1, 4)
        plans.append((f"chat-{index + 1:03d}", user, turns, rng.randint(0, 1_000_000)))
    with ThreadPoolExecutor(max_workers=6) as pool:
        counts = list(pool.map(lambda plan: _conversation(client, *plan), plans))
    client.flush(timeout=30)
    client.shutdown(timeout=30)
    return sum(counts)


def _conversation(client: InteractiveAI, session_id: str, user: str, turns: int, seed: int) -> int:
    rng = random.Random(seed)
    history: list[dict[str, str]] = [{"role": "system", "content": "You are Acme's friendly support assistant."}]
    for turn in range(turns):
        question, topic = rng.choice(QUESTIONS)
        with propagate_attributes(
            user_id=user,
            session_id=session_id,
            tags=["support-bot", topic],
            metadata={"channel": rng.choice(["web", "slack", "email"]), "turn": str(turn + 1)},
            version="2024-11-rag",
        ):
            _handle_message(client, rng, history, question, topic)
    return turns


def _handle_message(
    client: InteractiveAI, rng: random.Random, history: list[dict[str, str]], question: str, topic: str
) -> None:
    with client.start_as_current_observation(
        name="support-request", as_type="agent", input={"message": question}
    ) as root:
        with client.start_as_current_observation(name="classify-intent", as_type="chain", input=question) as step:
            _sleep(rng, 5, 15)
            step.update(output={"intent": topic, "confidence": round(rng.uniform(0.7, 0.99), 2)})
        with client.start_as_current_observation(name="guardrail", as_type="guardrail", input=question) as guard:
            _sleep(rng, 2, 6)
            guard.update(output={"allowed": True, "checks": ["pii", "toxicity"]})

        context = _retrieve(client, rng, question, topic)
        if topic == "billing":
            _tool_call(client, rng, "lookup_invoice", {"customer": "cus_4711", "months": 2})

        messages = [*history, {"role": "user", "content": question}]
        if context:
            messages.insert(1, {"role": "system", "content": "Context:\n" + "\n".join(context)})
        answer = _generate(client, rng, messages, topic)
        history += [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
        root.update(output={"answer": answer})
        client.update_current_trace(name="support-chat", input={"message": question}, output={"answer": answer})
        if rng.random() < 0.6:
            root.score_trace(name="helpfulness", value=round(rng.uniform(0.4, 1.0), 2), comment="LLM judge")
        if rng.random() < 0.3:
            root.score_trace(
                name="user-feedback", value=rng.choice(["thumbs-up", "thumbs-down"]), data_type="CATEGORICAL"
            )


def _retrieve(client: InteractiveAI, rng: random.Random, question: str, topic: str) -> list[str]:
    with client.start_as_current_observation(
        name="retrieve-docs", as_type="retriever", input={"query": question}
    ) as span:
        with client.start_as_current_observation(
            name="embed-query", as_type="embedding", model="text-embedding-3-small", input=question
        ) as embedding:
            _sleep(rng, 10, 30)
            embedding.update(usage_details={"input": len(question.split()) * 2})
        _sleep(rng, 10, 40)
        documents = DOCS.get(topic, [])
        span.update(
            output=[{"text": text, "score": round(rng.uniform(0.6, 0.95), 3)} for text in documents],
            metadata={"index": "support-kb", "top_k": 4},
        )
        return documents


def _tool_call(client: InteractiveAI, rng: random.Random, name: str, arguments: dict[str, Any]) -> None:
    with client.start_as_current_observation(name=name, as_type="tool", input=arguments) as tool:
        _sleep(rng, 20, 60)
        if rng.random() < 0.25:
            tool.update(level="WARNING", status_message="billing API slow, served from cache")
        tool.update(output={"invoices": [{"id": "in_1001", "amount": 49.0}, {"id": "in_1002", "amount": 49.0}]})


def _generate(client: InteractiveAI, rng: random.Random, messages: list[dict[str, str]], topic: str) -> str:
    model = rng.choice(MODELS)
    prompt_tokens = sum(len(m["content"].split()) for m in messages) * 3 + 40
    with client.start_as_current_observation(
        name="chat-completion",
        as_type="generation",
        model=model,
        model_parameters={"temperature": 0.2, "max_tokens": 512},
        input=messages,
    ) as generation:
        _sleep(rng, 40, 160)
        if rng.random() < 0.08:
            generation.update(level="ERROR", status_message="provider returned 503: overloaded; retried")
            _sleep(rng, 30, 80)
        answer = _answer_for(topic)
        completion_tokens = len(answer.split()) * 2 + rng.randint(0, 20)
        cached = rng.choice([0, 0, 128])
        generation.update(
            output={"role": "assistant", "content": answer},
            usage_details={"input": prompt_tokens, "output": completion_tokens, "input_cached_tokens": cached},
        )
        return answer


def _answer_for(topic: str) -> str:
    return {
        "account": "You can do that under Settings. I've sent you a link with step-by-step instructions.",
        "billing": "I found the duplicate charge on invoice in_1002; it will be refunded within 5 business days.",
        "bug": "Thanks for reporting this. Large exports now run in the background; you'll get an email.",
        "sales": "SSO is included in the Enterprise plan. Would you like me to connect you with sales?",
        "docs": "Yes: pass stream=true to any chat endpoint to receive server-sent events.",
    }.get(topic, "Let me connect you with a human agent.")


def _sleep(rng: random.Random, low_ms: int, high_ms: int) -> None:
    time.sleep(rng.uniform(low_ms, high_ms) / 1000)
