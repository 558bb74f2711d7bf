"""Single-field rules of the mapping: level, environment, tags, times, text."""

from __future__ import annotations

import re
from typing import Any

from interactiveai.server import json_values
from interactiveai.server.clock import parse_iso_to_us
from interactiveai.server.ingest.messages import maybe_json
from interactiveai.server.ingest.otlp import STATUS_ERROR

TYPES = frozenset(
    {"SPAN", "GENERATION", "EVENT", "AGENT", "TOOL", "CHAIN", "RETRIEVER", "EMBEDDING", "EVALUATOR", "GUARDRAIL"}
)
_LEVEL_ALIASES = {
    "TRACE": "DEBUG",
    "VERBOSE": "DEBUG",
    "DEBUG": "DEBUG",
    "INFO": "DEFAULT",
    "LOG": "DEFAULT",
    "NOTICE": "DEFAULT",
    "OK": "DEFAULT",
    "SUCCESS": "DEFAULT",
    "DEFAULT": "DEFAULT",
    "WARN": "WARNING",
    "WARNING": "WARNING",
    "ERROR": "ERROR",
    "FATAL": "ERROR",
    "CRITICAL": "ERROR",
}
_ENVIRONMENT_RE = re.compile(r"[a-z0-9_-]{1,40}")
# Every span names its environment and a deployment has few: remember the answer per raw value.
_ENVIRONMENTS: dict[str, str] = {}
_MAX_ENVIRONMENTS = 1_000


def text(value: Any) -> str | None:
    """A text column value: None for absent or empty; lists and objects as JSON."""
    if value is None:
        return None
    if not isinstance(value, str):
        value = json_values.dumps(value) if isinstance(value, (list, dict)) else str(value)
    # PostgreSQL text cannot hold NUL; dropping it keeps both engines storing the same thing
    return (value.replace("\x00", "") if "\x00" in value else value) or None


def truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def strip_quotes(value: Any) -> str:
    """A value without the JSON quotes some libraries leave around it (MLflow's span type)."""
    raw = str(value)
    return raw[1:-1] if len(raw) >= 2 and raw[0] == '"' and raw[-1] == '"' else raw


def offset_us(start_us: int, amount: Any, unit_us: int = 1000) -> int | None:
    """``start + amount`` of ``unit_us`` (milliseconds by default: Vercel's msToFirstChunk; seconds
    for Pydantic AI's time to first chunk), None unless a finite non-negative number."""
    if isinstance(amount, bool):
        return None
    if isinstance(amount, str):
        try:
            amount = float(amount)
        except ValueError:
            return None
    if isinstance(amount, (int, float)) and 0 <= amount * unit_us < 1e15:  # also false for NaN
        return start_us + int(amount * unit_us)
    return None


def level(declared: Any, status_code: int) -> str:
    """A declared level (with its aliases), else ERROR for an error status, else DEFAULT."""
    if declared is not None:
        mapped = _LEVEL_ALIASES.get(str(declared).upper())
        if mapped is not None:
            return mapped
    return "ERROR" if status_code == STATUS_ERROR else "DEFAULT"


def environment(value: Any) -> str:
    """Lower-case ``[a-z0-9_-]{1,40}``, else ``default`` (names starting "langfuse" are reserved)."""
    if value is None:
        return "default"
    if value.__class__ is not str:
        return _environment(str(value))
    known = _ENVIRONMENTS.get(value)
    if known is None:
        if len(_ENVIRONMENTS) >= _MAX_ENVIRONMENTS:
            _ENVIRONMENTS.clear()
        known = _ENVIRONMENTS[value] = _environment(value)
    return known


def _environment(raw: str) -> str:
    name = raw.strip().lower()
    return name if _ENVIRONMENT_RE.fullmatch(name) and not name.startswith("langfuse") else "default"


def tags(value: Any) -> list[str] | None:
    """Tags as an array, a JSON-array string, a comma-separated string or a single string."""
    if value is None:
        return None
    if isinstance(value, str):
        stripped = value.strip()
        if stripped.startswith("["):
            decoded = maybe_json(stripped)
            if isinstance(decoded, list):
                value = decoded
        if isinstance(value, str):
            value = [part for part in (p.strip() for p in stripped.split(",")) if part]
    if not isinstance(value, list):
        value = [value]
    return sorted({name[:200] for name in (text(tag) for tag in value) if name})


def time_us(value: Any) -> int | None:
    """A completion start time: an ISO string (possibly JSON-encoded twice) or an epoch number."""
    value = maybe_json(value)
    if isinstance(value, str):
        try:
            return parse_iso_to_us(value)
        except ValueError:
            return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < 1e20:  # finite, sane
        if value > 1e17:
            return int(value // 1000)  # nanoseconds
        if value > 1e14:
            return int(value)  # microseconds
        if value > 1e11:
            return int(value * 1000)  # milliseconds
        return int(value * 1_000_000)  # seconds
    return None
