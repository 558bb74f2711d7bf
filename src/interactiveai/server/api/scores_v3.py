"""``GET /v3/scores``: the reference API's v3 score list, which its SDK's 5.x release reads.

Cursor pages (``query/cursors.py``), newest first. ``value`` takes the score's own type: a number
(NUMERIC), true/false (BOOLEAN), the label or text (CATEGORICAL, TEXT). Core fields always;
``fields`` adds ``details`` (comment, configId, metadata), ``subject`` (what the score is on:
``{kind: trace|observation|session|experiment, id, traceId?}``) and ``annotation``. Filters take
comma lists; the combinations the reference refuses are refused here too (400).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, func, select

from interactiveai.server.api.common import JSON, AuthKey, DbEngine, bad_request, client_errors, iso_param, list_param
from interactiveai.server.api.observations_v2 import CursorMeta
from interactiveai.server.api.schemas import time_query
from interactiveai.server.clock import us_to_iso
from interactiveai.server.json_values import bound_key
from interactiveai.server.query.cursors import after, decode_cursor, fetch_cursor_page
from interactiveai.server.query.records import Score, score_from_row
from interactiveai.server.storage.schema import scores

router = APIRouter(tags=["scores"])

MAX_LIMIT = 100
GROUPS = ("details", "subject", "annotation")
GROUPS_PATTERN = rf"^\s*({'|'.join(GROUPS)})\s*(,\s*({'|'.join(GROUPS)})\s*)*$"
CommaList = Annotated[str | None, Query(description="Comma list (any of).")]


class ScoreV3(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    projectId: str
    name: str
    value: float | bool | str | None
    dataType: str
    source: str
    timestamp: str
    environment: str
    createdAt: str
    updatedAt: str


class ScoresV3(BaseModel):
    data: list[ScoreV3]
    meta: CursorMeta


@router.get(
    "/v3/scores",
    response_model=ScoresV3,
    summary="List scores (v3: cursor pages, typed values)",
    description=(
        "traceId, sessionId and experimentId exclude each other; observationId needs traceId; value "
        "needs one dataType among NUMERIC, BOOLEAN, CATEGORICAL; valueMin and valueMax need dataType "
        "NUMERIC. Refused otherwise (400), as is a `cursor` this server did not hand out."
    ),
)
def get_scores_v3(
    key: AuthKey,
    engine: DbEngine,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Items per page, 1-{MAX_LIMIT}.")] = 50,
    cursor: Annotated[str | None, Query(max_length=2048, description="From the previous page's meta.")] = None,
    fields: Annotated[str | None, Query(pattern=GROUPS_PATTERN, description="details, subject, annotation.")] = None,
    id: CommaList = None,
    name: CommaList = None,
    source: CommaList = None,
    dataType: CommaList = None,
    environment: CommaList = None,
    configId: CommaList = None,
    queueId: CommaList = None,
    authorUserId: CommaList = None,
    value: CommaList = None,
    valueMin: Annotated[float | None, Query(allow_inf_nan=False)] = None,
    valueMax: Annotated[float | None, Query(allow_inf_nan=False)] = None,
    traceId: CommaList = None,
    sessionId: CommaList = None,
    observationId: CommaList = None,
    experimentId: CommaList = None,
    fromTimestamp: Annotated[str | None, time_query("ISO 8601; timestamp >= this.")] = None,
    toTimestamp: Annotated[str | None, time_query("ISO 8601; timestamp < this.")] = None,
) -> JSON:
    def many(text: str | None) -> list[str]:
        return list_param([text] if text else None)

    targets = [
        name
        for name, given in (("traceId", traceId), ("sessionId", sessionId), ("experimentId", experimentId))
        if given
    ]
    if len(targets) > 1:
        raise bad_request(f"{' and '.join(targets)} cannot be combined")
    if observationId and not traceId:
        raise bad_request("observationId needs traceId (observation ids are scoped to a trace)")
    data_types = [t.upper() for t in many(dataType)]
    conditions: list[ColumnElement[bool]] = [scores.c.project_id == key.project_id]
    for column, values in (
        (scores.c.id, many(id)),
        (scores.c.name, [bound_key(n) for n in many(name)]),
        (func.upper(scores.c.source), [s.upper() for s in many(source)]),
        (scores.c.data_type, data_types),
        (scores.c.environment, many(environment)),
        (scores.c.config_id, many(configId)),
        (scores.c.author_user_id, many(authorUserId)),
        (scores.c.trace_id, many(traceId)),
        (scores.c.session_id, [bound_key(s) for s in many(sessionId)]),
        (scores.c.observation_id, many(observationId)),
        (scores.c.dataset_run_id, many(experimentId)),
    ):
        if values:
            conditions.append(column.in_(values))
    if queueId:
        conditions.append(scores.c.id.is_(None))  # no score here was made in an annotation queue
    conditions += _value_conditions(data_types, many(value), valueMin, valueMax)
    from_us, to_us = iso_param(fromTimestamp, "fromTimestamp"), iso_param(toTimestamp, "toTimestamp")
    if from_us is not None:
        conditions.append(scores.c.timestamp_us >= from_us)
    if to_us is not None:
        conditions.append(scores.c.timestamp_us < to_us)
    groups = set(many(fields))
    with client_errors():
        conditions += after(scores.c.timestamp_us, scores.c.id, decode_cursor(cursor))
        query = select(scores).where(*conditions).order_by(scores.c.timestamp_us.desc(), scores.c.id.desc())
        page = fetch_cursor_page(engine, query, score_from_row, lambda s: (s.timestamp_us, s.id), limit=limit)
    meta: dict[str, Any] = {"limit": limit, **({"cursor": page.next.encode()} if page.next else {})}
    return JSON({"data": [score_v3_json(s, groups) for s in page.items], "meta": meta})


def _value_conditions(
    data_types: list[str], values: list[str], value_min: float | None, value_max: float | None
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if values:
        if len(data_types) != 1 or data_types[0] not in ("NUMERIC", "BOOLEAN", "CATEGORICAL"):
            raise bad_request("value needs exactly one dataType among NUMERIC, BOOLEAN and CATEGORICAL")
        if data_types[0] == "CATEGORICAL":
            conditions.append(scores.c.string_value.in_(values))
        elif data_types[0] == "BOOLEAN":
            if any(v.lower() not in ("true", "false") for v in values):
                raise bad_request("a BOOLEAN value is true or false")
            conditions.append(scores.c.value.in_([1.0 if v.lower() == "true" else 0.0 for v in values]))
        else:
            try:
                numbers = [float(v) for v in values]
            except ValueError:
                raise bad_request("a NUMERIC value is a finite number") from None
            if any(n != n or n in (float("inf"), float("-inf")) for n in numbers):
                raise bad_request("a NUMERIC value is a finite number")
            conditions.append(scores.c.value.in_(numbers))
    if value_min is not None or value_max is not None:
        if data_types != ["NUMERIC"]:
            raise bad_request("valueMin and valueMax need dataType NUMERIC")
        if value_min is not None:
            conditions.append(scores.c.value >= value_min)
        if value_max is not None:
            conditions.append(scores.c.value <= value_max)
    return conditions


def _subject(score: Score) -> dict[str, Any] | None:
    if score.observation_id is not None:
        return {"kind": "observation", "id": score.observation_id, "traceId": score.trace_id}
    if score.trace_id is not None:
        return {"kind": "trace", "id": score.trace_id}
    if score.session_id is not None:
        return {"kind": "session", "id": score.session_id}
    if score.dataset_run_id is not None:
        return {"kind": "experiment", "id": score.dataset_run_id}
    return None


def score_v3_json(score: Score, groups: set[str]) -> dict[str, Any]:
    value: Any = score.value
    if score.data_type == "BOOLEAN":
        value = bool(score.value)
    elif score.data_type not in ("NUMERIC",):
        value = score.string_value
    out: dict[str, Any] = {
        "id": score.id,
        "projectId": score.project_id,
        "name": score.name,
        "value": value,
        "dataType": score.data_type,
        "source": score.source,
        "timestamp": us_to_iso(score.timestamp_us),
        "environment": score.environment,
        "createdAt": us_to_iso(score.created_at_us),
        "updatedAt": us_to_iso(score.updated_at_us),
    }
    if "details" in groups:
        out.update(comment=score.comment, configId=score.config_id, metadata=score.metadata)
    if "subject" in groups:
        out["subject"] = _subject(score)
    if "annotation" in groups:
        out.update(authorUserId=score.author_user_id, queueId=None)
    return out
