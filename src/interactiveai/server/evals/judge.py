"""The judge: one chat completions call to an OpenAI-compatible endpoint.

The request asks for JSON (``response_format: json_object``); a connection's ``params`` are
merged into the body (they may set ``response_format`` to null for an endpoint without JSON
mode). A timeout, a connection error, 429 and 5xx are worth another attempt; any other refusal
(a wrong key, an unknown model) is not, and fails the evaluation at once.

The timeout bounds the whole call, not each read: an endpoint that trickles its answer a byte at
a time would otherwise hold a worker (and outlive the job's lease, so that another replica judged
the trace too). Answers past ``MAX_ANSWER_BYTES`` are refused. Text sent is made encodable first:
a trace may hold lone surrogates, which no JSON encoder writes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

MAX_ANSWER_BYTES = 4 * 1024 * 1024


class JudgeError(Exception):
    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True, slots=True)
class JudgeAnswer:
    content: str
    model: str
    latency_ms: int
    usage: dict[str, int] = field(default_factory=dict)  # input, output, total


def call_judge(
    client: httpx.Client,
    *,
    base_url: str,
    api_key: str | None,
    model: str,
    messages: list[dict[str, str]],
    params: dict[str, Any],
    timeout_seconds: float,
) -> JudgeAnswer:
    body: dict[str, Any] = {"response_format": {"type": "json_object"}, **params, "model": model, "messages": messages}
    body = {key: value for key, value in body.items() if value is not None}
    headers = {"Content-Type": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    began = time.monotonic()
    late = JudgeError(f"the judge did not answer within {timeout_seconds:g} s", retryable=True)
    try:
        with client.stream(
            "POST",
            base_url.rstrip("/") + "/chat/completions",
            content=orjson.dumps(encodable(body)),
            headers=headers,
            timeout=timeout_seconds,
        ) as response:
            raw = _read(response, began + timeout_seconds)
    except httpx.TimeoutException:
        raise late from None
    except httpx.HTTPError as exc:
        raise JudgeError(f"the judge could not be reached: {type(exc).__name__}: {exc}", retryable=True) from None
    if raw is None:
        raise late
    latency_ms = round((time.monotonic() - began) * 1000)
    text = raw.decode("utf-8", errors="replace")
    if response.status_code != 200:
        retryable = response.status_code == 429 or response.status_code >= 500
        raise JudgeError(f"the judge answered {response.status_code}: {text[:500]}", retryable=retryable)
    if len(raw) > MAX_ANSWER_BYTES:
        raise JudgeError(f"the judge's answer is larger than {MAX_ANSWER_BYTES} bytes", retryable=True)
    try:
        data = orjson.loads(raw)
        content = data["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise JudgeError(f"the judge's answer is not a chat completion: {text[:300]}", retryable=True) from None
    if not isinstance(content, str):
        raise JudgeError("the judge's answer has no text content", retryable=True)
    return JudgeAnswer(content, str(data.get("model") or model), latency_ms, _usage(data.get("usage")))


def _read(response: httpx.Response, deadline: float) -> bytes | None:
    """The body, up to one byte past ``MAX_ANSWER_BYTES``; None once ``deadline`` has passed."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        if time.monotonic() > deadline:
            return None
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            break
    return b"".join(chunks)[: MAX_ANSWER_BYTES + 1]


def encodable(value: Any) -> Any:
    """``value`` with every string made valid UTF-8 (a lone surrogate becomes U+FFFD)."""
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace") if _has_surrogate(value) else value
    if isinstance(value, dict):
        return {encodable(k): encodable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [encodable(item) for item in value]
    return value


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _usage(usage: Any) -> dict[str, int]:
    if not isinstance(usage, dict):
        return {}
    found = {
        "input": usage.get("prompt_tokens"),
        "output": usage.get("completion_tokens"),
        "total": usage.get("total_tokens"),
    }
    return {key: int(value) for key, value in found.items() if isinstance(value, int) and not isinstance(value, bool)}
