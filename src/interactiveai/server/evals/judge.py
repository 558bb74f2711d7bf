"""The judge: one chat completions call to an OpenAI-compatible endpoint.

The request asks for JSON (``response_format: json_object``); a connection's ``params`` are
merged into the body (they may set ``response_format`` to null for an endpoint without JSON
mode). A timeout, a connection error, 429 and 5xx are worth another attempt; any other refusal
(a wrong key, an unknown model) is not, and fails the evaluation at once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson


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
    try:
        response = client.post(
            base_url.rstrip("/") + "/chat/completions",
            content=orjson.dumps(body),
            headers=headers,
            timeout=timeout_seconds,
        )
    except httpx.TimeoutException:
        raise JudgeError(f"the judge did not answer within {timeout_seconds:g} s", retryable=True) from None
    except httpx.HTTPError as exc:
        raise JudgeError(f"the judge could not be reached: {type(exc).__name__}: {exc}", retryable=True) from None
    latency_ms = round((time.monotonic() - began) * 1000)
    if response.status_code != 200:
        retryable = response.status_code == 429 or response.status_code >= 500
        raise JudgeError(f"the judge answered {response.status_code}: {response.text[:500]}", retryable=retryable)
    try:
        data = response.json()
        content = data["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise JudgeError(
            f"the judge's answer is not a chat completion: {response.text[:300]}", retryable=True
        ) from None
    if not isinstance(content, str):
        raise JudgeError("the judge's answer has no text content", retryable=True)
    return JudgeAnswer(content, str(data.get("model") or model), latency_ms, _usage(data.get("usage")))


def _usage(usage: Any) -> dict[str, int]:
    if not isinstance(usage, dict):
        return {}
    found = {
        "input": usage.get("prompt_tokens"),
        "output": usage.get("completion_tokens"),
        "total": usage.get("total_tokens"),
    }
    return {key: int(value) for key, value in found.items() if isinstance(value, int) and not isinstance(value, bool)}
