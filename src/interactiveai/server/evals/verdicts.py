"""The judge's answer read as a score: tolerant of how models actually answer.

Asked for ``{"score": …, "reasoning": …}`` (JSON mode), models still wrap the object in a code
fence or a sentence, name the fields ``value``/``explanation``, or give a number as text. The
first JSON object in the answer is read; the score must then fit the evaluator's type (a number
within its range, a boolean, one of its categories); anything else is an unparseable answer,
which the worker retries like a failed call.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

_SCORE_KEYS = ("score", "value", "rating", "verdict", "label")
_REASON_KEYS = ("reasoning", "reason", "explanation", "rationale", "comment")
_TRUE = ("true", "yes", "1", "pass", "correct")
_FALSE = ("false", "no", "0", "fail", "incorrect")


class UnparseableAnswer(ValueError):
    """The answer holds no score that fits the evaluator's score type."""


@dataclass(frozen=True, slots=True)
class ScoreSpec:
    name: str
    data_type: str  # NUMERIC | BOOLEAN | CATEGORICAL
    min_value: float | None = None
    max_value: float | None = None
    categories: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Verdict:
    value: float | None
    string_value: str | None
    reasoning: str | None


def instructions(spec: ScoreSpec) -> str:
    """The system message: how to answer, for this score type."""
    if spec.data_type == "NUMERIC":
        low = "" if spec.min_value is None else f" from {spec.min_value:g}"
        high = "" if spec.max_value is None else f" to {spec.max_value:g}"
        kind = f"a number{low}{high}"
    elif spec.data_type == "BOOLEAN":
        kind = "true or false"
    else:
        kind = "exactly one of " + ", ".join(json.dumps(c) for c in spec.categories)
    return (
        f"You are an evaluator. Answer with a JSON object only: "
        f'{{"score": <{kind}>, "reasoning": "<one short paragraph explaining the score>"}}.'
    )


def parse(answer: str, spec: ScoreSpec) -> Verdict:
    data = _first_object(answer)
    if data is None:
        raise UnparseableAnswer(f"the answer holds no JSON object: {answer[:200]!r}")
    raw = next((data[key] for key in _SCORE_KEYS if key in data), None)
    if raw is None:
        raise UnparseableAnswer(f"the answer has no score: {answer[:200]!r}")
    reason = next((data[key] for key in _REASON_KEYS if key in data), None)
    reasoning = reason if isinstance(reason, str) else None if reason is None else json.dumps(reason)
    value, string_value = _typed(raw, spec)
    return Verdict(value, string_value, reasoning)


def _first_object(answer: str) -> dict[str, Any] | None:
    decoder = json.JSONDecoder()
    start = answer.find("{")
    while start != -1:
        try:
            value, _end = decoder.raw_decode(answer, start)
        except json.JSONDecodeError:
            start = answer.find("{", start + 1)
            continue
        if isinstance(value, dict):
            return value
        start = answer.find("{", start + 1)
    return None


def _typed(raw: Any, spec: ScoreSpec) -> tuple[float | None, str | None]:
    if spec.data_type == "BOOLEAN":
        text = str(raw).strip().lower()
        if isinstance(raw, bool) or text in _TRUE or text in _FALSE:
            truth = raw if isinstance(raw, bool) else text in _TRUE
            return (1.0, "True") if truth else (0.0, "False")
        raise UnparseableAnswer(f"score {raw!r} is not a boolean")
    if spec.data_type == "CATEGORICAL":
        for index, category in enumerate(spec.categories):
            if str(raw).strip().lower() == category.lower():
                return float(index), category
        raise UnparseableAnswer(f"score {raw!r} is not one of the categories {', '.join(spec.categories)}")
    try:
        number = float(raw) if not isinstance(raw, bool) else math.nan
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number):
        raise UnparseableAnswer(f"score {raw!r} is not a number")
    if (spec.min_value is not None and number < spec.min_value) or (
        spec.max_value is not None and number > spec.max_value
    ):
        raise UnparseableAnswer(f"score {number:g} is outside {spec.min_value}-{spec.max_value}")
    return number, None
