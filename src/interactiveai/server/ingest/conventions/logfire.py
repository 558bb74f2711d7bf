"""Logfire (``logfire.*``): the formatted message names the span, logs are events with a level,
and its LLM integrations (``logfire.instrument_openai`` / ``_anthropic``) are made readable.

Every Logfire span carries its formatted message in ``logfire.msg`` (the span name is the raw
template, ``Chat Completion with {request_data[model]!r}``). Its LLM integrations record a
streamed call as two spans: the request (input, model, nothing else) and, when the stream has
been read, a "streaming response" log holding the output, the usage and the duration. The log
becomes the generation (its start moved back by the duration it reports) and the request a plain
span, so the call is one generation a user can read, counted once.

Releases before the GenAI attributes (3.x) describe a call only by ``request_data`` (the request:
model, messages or input) and ``response_data`` (the message and the provider's usage); these are
read below every GenAI attribute, on the LLM integrations' spans only (``LLM_CONVENTION``).
"""

from __future__ import annotations

from typing import Any

from interactiveai.server.ingest import fields
from interactiveai.server.ingest.conventions.registry import Convention
from interactiveai.server.ingest.conventions.scan import Scan
from interactiveai.server.ingest.messages import maybe_json

_MODEL_CALLS = ("GENERATION", "EMBEDDING")
# response_data: a chat message, a stream's text (before 3.x kept the message), a completion's text
_OUTPUTS = ("message", "combined_chunk_content", "text")


def _name(scan: Scan) -> str | None:
    return fields.text(scan.found.get("logfire_msg"))


def _type(scan: Scan) -> str | None:
    return "EVENT" if scan.found.get("logfire_span_type") == "log" else None


def _raw_usage(scan: Scan) -> tuple[dict[str, Any], None] | None:
    """``gen_ai.usage.raw``: the provider's own usage object (the flat attributes lack its reasoning)."""
    raw = maybe_json(scan.found.get("usage_raw"))
    return (raw, None) if isinstance(raw, dict) and raw else None


def _level(level_num: Any) -> str | None:
    """Logfire's level numbers: trace 1, debug 5, info 9, notice 10, warn 13, error 17, fatal 21."""
    if isinstance(level_num, bool) or not isinstance(level_num, (int, float)):
        return None
    if level_num < 9:
        return "DEBUG"
    if level_num < 13:
        return "DEFAULT"
    return "WARNING" if level_num < 17 else "ERROR"


def _refine(scan: Scan, row: dict[str, Any]) -> None:
    level = _level(scan.found.get("logfire_level"))
    if level is not None and row["level"] != "ERROR" and "level" not in scan.found:
        row["level"] = level


def _object(scan: Scan, slot: str) -> dict[str, Any] | None:
    value = maybe_json(scan.found.get(slot))
    return value if isinstance(value, dict) else None


def _llm_type(scan: Scan) -> str | None:
    if "logfire_request" not in scan.found:
        return None
    template = str(scan.found.get("logfire_template") or "")
    return "EMBEDDING" if template.startswith("Embedding") else "GENERATION"


def _request_input(scan: Scan) -> Any:
    request = _object(scan, "logfire_request")
    if request is None:
        return None
    return next((request[key] for key in ("messages", "input", "prompt") if request.get(key) is not None), None)


def _response_output(scan: Scan) -> Any:
    response = _object(scan, "logfire_response")
    if response is None:
        return None
    return next((response[key] for key in _OUTPUTS if response.get(key) is not None), None)


def _response_usage(scan: Scan) -> tuple[dict[str, Any], None] | None:
    response = _object(scan, "logfire_response")
    usage = response.get("usage") if response is not None else None
    return (usage, None) if isinstance(usage, dict) and usage else None


def _request_model(scan: Scan) -> None:
    if "model" in scan.found:
        return
    for slot in ("logfire_response", "logfire_request"):
        data = _object(scan, slot)
        if data is not None and isinstance(data.get("model"), str) and data["model"]:
            scan.found["model"] = data["model"]
            return


def _llm_refine(scan: Scan, row: dict[str, Any]) -> None:
    if row["type"] not in _MODEL_CALLS:
        return
    if scan.found.get("logfire_span_type") == "log":
        # the streamed answer: a log at the stream's end, reporting how long the stream took
        start = fields.offset_us(0, scan.span.attributes.get("duration"), 1_000_000)
        if start is not None and row["end_time_us"] is not None:
            row["start_time_us"] = max(0, row["end_time_us"] - start)
    elif row["output"] is None and row["usage_details"] == "{}" and row["level"] != "ERROR":
        row["type"] = "SPAN"  # the request of a stream: its answer and usage are in the log above


CONVENTION = Convention(
    name="logfire",
    rank=31,
    slots={
        "logfire_msg": ("logfire.msg",),
        "logfire_span_type": ("logfire.span_type",),
        "logfire_level": ("logfire.level_num",),
        "logfire_template": ("logfire.msg_template",),
        "logfire_schema": ("logfire.json_schema",),
        "usage_raw": ("gen_ai.usage.raw",),
    },
    types=((70, _type, ("logfire_span_type",)),),
    names=((31, _name, ("logfire_msg",)),),
    usage=((40, _raw_usage, ("usage_raw",)),),
    refine=_refine,
    needs=("logfire_span_type", "logfire_level"),
)


LLM_CONVENTION = Convention(
    name="logfire_llm",
    rank=31,
    scopes=("logfire.*",),  # logfire.openai, logfire.anthropic, …: its LLM integrations
    slots={"logfire_request": ("request_data",), "logfire_response": ("response_data",)},
    # below the GenAI rules its current releases meet (operation 30, messages 80), above a log's EVENT
    types=((69, _llm_type, ("logfire_request",)),),
    inputs=((82, _request_input, ("logfire_request",)),),
    outputs=((82, _response_output, ("logfire_response",)),),
    usage=((41, _response_usage, ("logfire_response",)),),
    prepare=_request_model,
    refine=_llm_refine,
    needs=("logfire_request", "logfire_response", "logfire_span_type"),
)
