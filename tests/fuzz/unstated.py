"""The server's rules that the OpenAPI document cannot state, each said in its operation's description.

A schema-valid request may break them, and is then answered 400 naming the rule: JSON Schema
compares no two values of a request and sees no stored row. The fuzz harness (test_rest_api.py)
and the document's own tests (tests/server/api/test_openapi_constraints.py) expect those 400s,
and only those: a rule is matched by the operation, the response's message, and (``applies``)
the kind of request that can break it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class UnstatedRule:
    """A rule of the server that the OpenAPI document cannot state, so a schema-valid request may
    break it: JSON Schema compares no two values and sees no stored row. Its 400 (ST202) is
    expected when the response's message names the rule (``message``, a regular expression) and
    the request is one that can break it (``applies``, on the JSON body; None: any). The document
    says the rule in the operation's description."""

    operation: str  # as Schemathesis names it: "POST /api/public/scores"
    message: str
    why: str
    applies: Callable[[Any], bool] | None = None

    def explains(self, operation: str, message: str, body: Any) -> bool:
        """Whether a 400 with ``message`` to ``body`` sent to ``operation`` is this rule at work."""
        if operation != self.operation or not re.search(self.message, message):
            return False
        return self.applies is None or self.applies(body)


def _configured(body: Any) -> bool:
    """A score body (or a list of them) naming a config."""
    items = body if isinstance(body, list) else [body]
    return any(isinstance(item, dict) and item.get("configId") for item in items)


def _without_trace(body: Any) -> bool:
    return isinstance(body, dict) and not body.get("traceId")


_WINDOW = "toTimestamp must be after fromTimestamp|the time window is at most"
UNSTATED = [
    UnstatedRule(
        "POST /api/public/comments",
        r"projectId must be the project of the API key",
        "the key's project decides: a given projectId must name it",
        lambda body: isinstance(body, dict) and isinstance(body.get("projectId"), str),
    ),
    UnstatedRule(
        "POST /api/public/scores",
        r"score config .* (does not exist in this project|is archived)|does not match the config's dataType"
        r"|the config's (minValue|maxValue)|is not a category( value)? of config|a [A-Z]+ score's value",
        "with configId, the stored config decides: it exists and is not archived, the value fits it",
        _configured,
    ),
    UnstatedRule(
        "POST /api/public/score-configs",
        r"maxValue must be greater than minValue|category labels and values must be unique",
        "compares values of the body: maxValue with minValue, categories with each other",
    ),
    UnstatedRule(
        "PATCH /api/public/score-configs/{configId}",
        r"maxValue must be greater than minValue|category labels and values must be unique|only allowed for"
        r"|have the fixed categories|need a non-empty list of categories|dataType of a score config cannot be changed",
        "the stored config's dataType and values decide what the patch may hold",
    ),
    UnstatedRule(
        "POST /api/public/dataset-items",
        r"ids cannot be reused",
        "the id of a stored item of another dataset",
    ),
    UnstatedRule(
        "POST /api/public/dataset-run-items",
        r"^traceId is required \(or the observationId of a stored observation\)$",
        "observationId without traceId names a stored observation",
        _without_trace,
    ),
    UnstatedRule(
        "POST /api/public/models",
        r"^matchPattern (is not a valid regular expression|is refused|is too complex)",
        "the match pattern is an RE2 regular expression (which JSON Schema cannot parse)",
    ),
    UnstatedRule(
        "POST /api/public/models",
        r"is given twice with different values|disagree; give one of them|at most \d+ prices per model"
        r"|already has \d+ model definitions",
        "compares prices of the body with each other, or counts the stored definitions",
    ),
    UnstatedRule(
        "GET /api/public/metrics",
        _WINDOW + r"|granularity gives \d+ buckets|^cannot order by",
        "compares values of the query: the window's ends, its bucket count, orderBy with the selected fields",
    ),
    UnstatedRule("GET /api/public/metrics/daily", _WINDOW, "compares the window's ends"),
    UnstatedRule(
        "GET /api/public/v3/scores",
        r"cannot be combined|^observationId needs traceId|^value needs exactly one dataType"
        r"|^a (BOOLEAN|NUMERIC) value is|^valueMin and valueMax need dataType NUMERIC",
        "compares parameters of the query: the score's target, value filters with dataType",
    ),
    *(
        UnstatedRule(f"GET /api/public/{path}", r"^cursor is not one this server handed out$", "an opaque cursor")
        for path in ("v2/observations", "v3/scores", "experiments", "experiment-items")
    ),
    *(
        UnstatedRule(
            operation,
            r"^scoreConfigIds: score config .* does not exist in this project$",
            "the stored score configs decide: scoreConfigIds name configs of this project",
            lambda body: isinstance(body, dict) and bool(body.get("scoreConfigIds")),
        )
        for operation in ("POST /api/public/annotation-queues", "PATCH /api/public/annotation-queues/{queueId}")
    ),
    *(
        UnstatedRule(
            operation,
            r"has no mapping|needs target 'observation'|has no field|key applies to field|^filter: "
            r"|does not exist in this project|categor|minValue|traceProjectId must be"
            r"|apply to (target|source) 'observation' only",
            "the prompt's variables, the filter's conditions, the score's type and the stored connection decide",
        )
        for operation in ("POST /api/public/evaluators", "PATCH /api/public/evaluators/{evaluatorId}")
    ),
]
