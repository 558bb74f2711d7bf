"""Scores as a user of the existing SDK (3.0 to 5.x) gives them, read back through its own client.

Every data type (numeric, boolean, categorical; text where the release has it) on a trace, an
observation and a session, through each way the release offers (``span.score``,
``span.score_trace``, ``score_current_span``, ``score_current_trace``, ``create_score``), with
score configs created through its API client (numeric range, categories, boolean); one score sent
twice under one id (the second replaces the first); a batch in which the server refuses one score
(a label its config lacks) but keeps the other. 3.x and 4.x send scores through
``POST /ingestion``, 5.x through ``POST /scores``. Read back: 3.x ``score_v_2``, 4.x ``scores``
(both ``/v2/scores``), 5.x ``scores`` (``/v3/scores``), and in 3.x and 4.x the trace's ``scores``.

Usage: python sdk_scores.py SUMMARY_PATH (configured by LANGFUSE_* variables).
"""

from __future__ import annotations

import typing
from typing import Any

from sdk_common import Summary, field, jsonable, poll, record_http, run_tag, sdk_version

record_http()

from langfuse import Langfuse  # noqa: E402
from langfuse.types import ScoreDataType  # noqa: E402

MAJOR, MINOR = sdk_version()
TAG = run_tag()
SESSION = f"score-session-{TAG}"
SESSION_SCORE = f"session-quality-{TAG}"  # 3.0's score list has no session filter: found by name
HAS_TEXT = "TEXT" in typing.get_args(ScoreDataType)  # not in 3.0
OLD_READS = (MAJOR, MINOR) < (3, 1)  # 3.0's score list filters neither by trace nor session
summary = Summary("scores")
langfuse = Langfuse()
ids: dict[str, str] = {}
# on the trace or its generation (6 in context, 6 or 7 by id); one more on the session
TRACE_SCORES = 12 + HAS_TEXT


def create_configs() -> dict[str, str]:
    """Three configs through the SDK's API client (its request shape changed in 4.x)."""
    specs: dict[str, dict[str, Any]] = {
        "numeric": {"name": f"quality-{TAG}", "data_type": "NUMERIC", "min_value": 0, "max_value": 10},
        "categorical": {
            "name": f"verdict-{TAG}",
            "data_type": "CATEGORICAL",
            "categories": [{"label": "good", "value": 1}, {"label": "bad", "value": 0}],
        },
        "boolean": {"name": f"approved-{TAG}", "data_type": "BOOLEAN"},
    }
    created = {}
    for key, spec in specs.items():
        if MAJOR == 3:
            from langfuse.api.resources.score_configs.types import CreateScoreConfigRequest

            request = CreateScoreConfigRequest(
                name=spec["name"],
                dataType=spec["data_type"],
                minValue=spec.get("min_value"),
                maxValue=spec.get("max_value"),
                categories=spec.get("categories"),
            )
            config = langfuse.api.score_configs.create(request=request)
        else:
            config = langfuse.api.score_configs.create(**spec)
        created[key] = config.id
        created[f"{key}:name"] = spec["name"]
    return created


def start_root() -> Any:
    if MAJOR == 3:
        return langfuse.start_as_current_span(name="scored-root", input={"q": "score me"})
    return langfuse.start_as_current_observation(name="scored-root", as_type="span", input={"q": "score me"})


def start_generation() -> Any:
    args = {"name": "scored-generation", "model": "gpt-4o-mini", "usage_details": {"input": 5, "output": 3}}
    if hasattr(langfuse, "start_as_current_observation"):
        return langfuse.start_as_current_observation(as_type="generation", **args)
    return langfuse.start_as_current_generation(**args)


def scores_in_context(configs: dict[str, str]) -> None:
    with start_root() as root:
        ids["trace"] = root.trace_id
        ids["root"] = root.id
        if MAJOR == 3:
            root.update_trace(name="peer-scored", session_id=SESSION)
        else:
            from langfuse import propagate_attributes

            propagation = propagate_attributes(trace_name="peer-scored", session_id=SESSION)
            propagation.__enter__()
        with start_generation() as generation:
            ids["generation"] = generation.id
            generation.update(output="scored output")
            generation.score(name="relevance", value=0.87, data_type="NUMERIC", comment="close enough")
            generation.score(name="tone", value="friendly", data_type="CATEGORICAL")
            langfuse.score_current_span(name="latency-ok", value=1, data_type="BOOLEAN")
        root.score_trace(name="correct", value=True, data_type="BOOLEAN")
        langfuse.score_current_trace(name="sentiment", value="positive", data_type="CATEGORICAL")
        langfuse.score_current_trace(name="stars", value=4, comment="four of five")
        root.update(output="done")
        if MAJOR != 3:
            propagation.__exit__(None, None, None)


def scores_by_id(configs: dict[str, str]) -> None:
    trace_id, observation_id = ids["trace"], ids["generation"]
    langfuse.create_score(
        trace_id=trace_id,
        observation_id=observation_id,
        name="hallucination",
        value=0,
        data_type="BOOLEAN",
        metadata={"judge": "rule"},
    )
    langfuse.create_score(
        trace_id=trace_id, name=configs["numeric:name"], value=7.5, config_id=configs["numeric"], data_type="NUMERIC"
    )
    langfuse.create_score(
        trace_id=trace_id,
        name=configs["categorical:name"],
        value="good",
        config_id=configs["categorical"],
        data_type="CATEGORICAL",
    )
    langfuse.create_score(
        trace_id=trace_id,
        observation_id=observation_id,
        name=configs["boolean:name"],
        value=1,
        config_id=configs["boolean"],
        data_type="BOOLEAN",
    )
    ids["fixed-score"] = f"fixed-score-{TAG}"
    langfuse.create_score(trace_id=trace_id, name="upserted", value=0.1, score_id=ids["fixed-score"])
    langfuse.flush()  # the replacement must arrive after the first
    langfuse.create_score(trace_id=trace_id, name="upserted", value=0.9, score_id=ids["fixed-score"])
    langfuse.create_score(session_id=SESSION, name=SESSION_SCORE, value=3, data_type="NUMERIC")
    langfuse.flush()
    # one batch: a label the config does not have is refused, the score sent with it is kept
    langfuse.create_score(
        trace_id=trace_id,
        name=configs["categorical:name"],
        value="excellent",
        config_id=configs["categorical"],
        data_type="CATEGORICAL",
    )
    langfuse.create_score(trace_id=trace_id, name="after-refused", value=1.0, data_type="NUMERIC")
    if HAS_TEXT:
        langfuse.create_score(trace_id=trace_id, name="feedback", value="Clear and short", data_type="TEXT")


def score_summary(score: Any) -> dict[str, Any]:
    data = jsonable(score)
    subject = data.get("subject") or {}  # 5.x: {kind: trace|observation|session|experiment, id, traceId}
    on = {subject.get("kind"): subject.get("id")}
    return {
        "id": data.get("id"),
        "name": data.get("name"),
        "value": data.get("value"),
        "stringValue": data.get("stringValue"),
        "dataType": data.get("dataType"),
        "traceId": data.get("traceId", on.get("trace") or subject.get("traceId")),
        "observationId": data.get("observationId", on.get("observation")),
        "sessionId": data.get("sessionId", on.get("session")),
        "configId": data.get("configId"),
        "comment": data.get("comment"),
        "metadata": data.get("metadata"),
        "source": data.get("source"),
    }


def list_scores(**filters: Any) -> list[dict[str, Any]]:
    if MAJOR == 3:
        page = langfuse.api.score_v_2.get(limit=100, **filters)
    elif MAJOR == 4:
        page = langfuse.api.scores.get_many(limit=100, **filters)
    else:  # v3 scores: the target and details are field groups; an observation needs its trace
        if "observation_id" in filters:
            filters["trace_id"] = ids["trace"]
        page = langfuse.api.scores.get_many(limit=100, fields="details,subject", **filters)
    return sorted((score_summary(s) for s in page.data), key=lambda s: (s["name"], s["id"]))


with summary.step("score_configs.create"):
    configs = create_configs()
    summary["configs"] = configs
with summary.step("scores_in_context"):
    scores_in_context(configs)
with summary.step("scores_by_id"):
    scores_by_id(configs)
summary["ids"] = ids
summary["session"], summary["session_score"] = SESSION, SESSION_SCORE
summary["has_text"] = HAS_TEXT
langfuse.flush()


def trace_scores() -> list[dict[str, Any]]:
    trace = langfuse.api.trace.get(ids["trace"])
    return sorted((score_summary(s) for s in field(trace, "scores")), key=lambda s: (s["name"], s["id"]))


with summary.step("scores:trace"):
    read = trace_scores if OLD_READS else lambda: list_scores(trace_id=ids["trace"])
    summary["scores:trace"] = poll(read, lambda s: len(s) >= TRACE_SCORES)
with summary.step("scores:session"):
    read = (lambda: list_scores(name=SESSION_SCORE)) if OLD_READS else lambda: list_scores(session_id=SESSION)
    summary["scores:session"] = poll(read, lambda s: len(s) >= 1)
with summary.step("scores:observation"):
    if OLD_READS:
        summary["scores:observation"] = [s for s in trace_scores() if s["observationId"] == ids["generation"]]
    else:
        summary["scores:observation"] = list_scores(observation_id=ids["generation"])
with summary.step("scores:by_id"):
    if MAJOR == 3:
        one = langfuse.api.score_v_2.get_by_id(ids["fixed-score"])
    elif MAJOR == 4:
        one = langfuse.api.scores.get_by_id(ids["fixed-score"])
    else:  # 5.x reads one score through the list's id filter
        one = langfuse.api.scores.get_many(id=ids["fixed-score"], fields="details,subject").data[0]
    summary["scores:by_id"] = score_summary(one)
if MAJOR in (3, 4):
    with summary.step("trace.get"):
        summary["trace_scores"] = trace_scores()

summary.write()
langfuse.shutdown()
