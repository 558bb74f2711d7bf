"""``GET /v3/scores``: the reference API's v3 score list, which its SDK's 5.x release reads.

Cursor pages (``query/cursors.py``), newest first. ``value`` takes the score's own type: a number
(NUMERIC), true/false (BOOLEAN), the label or text (CATEGORICAL, TEXT). Core fields always;
``fields`` adds ``details`` (comment, configId, metadata), ``subject`` (what the score is on:
``{kind: trace|observation|session|experiment, id, traceId?}``) and ``annotation``. Filters take
comma lists; the combinations the reference refuses are refused here too (400).
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from interactiveai.server.api.common import JSON, AuthKey, DbEngine, bad_request, client_errors, iso_param, list_param
from interactiveai.server.api.observations_v2 import CursorMeta
from interactiveai.server.api.schemas import time_query
from interactiveai.server.clock import us_to_iso
from interactiveai.server.query.cursor_lists import ScoreList, scores_page
from interactiveai.server.query.cursors import decode_cursor
from interactiveai.server.query.records import Score

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
    labels, numbers = _values(data_types, many(value))
    if (valueMin is not None or valueMax is not None) and data_types != ["NUMERIC"]:
        raise bad_request("valueMin and valueMax need dataType NUMERIC")
    filters = ScoreList(
        ids=many(id),
        names=many(name),
        sources=[s.upper() for s in many(source)],
        data_types=data_types,
        environments=many(environment),
        config_ids=many(configId),
        author_user_ids=many(authorUserId),
        trace_ids=many(traceId),
        session_ids=many(sessionId),
        observation_ids=many(observationId),
        run_ids=many(experimentId),
        labels=labels,
        numbers=numbers,
        value_min=valueMin,
        value_max=valueMax,
        from_us=iso_param(fromTimestamp, "fromTimestamp"),
        to_us=iso_param(toTimestamp, "toTimestamp"),
        in_queue=bool(queueId),
    )
    with client_errors():
        page = scores_page(engine, key.project_id, filters, cursor=decode_cursor(cursor), limit=limit)
    groups = set(many(fields))
    meta: dict[str, Any] = {"limit": limit, **({"cursor": page.next.encode()} if page.next else {})}
    return JSON({"data": [score_v3_json(s, groups) for s in page.items], "meta": meta})


def _values(data_types: list[str], values: list[str]) -> tuple[list[str], list[float]]:
    """``value``: labels (CATEGORICAL) or numbers (NUMERIC; BOOLEAN as 1/0), checked as the
    reference checks them."""
    if not values:
        return [], []
    if len(data_types) != 1 or data_types[0] not in ("NUMERIC", "BOOLEAN", "CATEGORICAL"):
        raise bad_request("value needs exactly one dataType among NUMERIC, BOOLEAN and CATEGORICAL")
    if data_types[0] == "CATEGORICAL":
        return values, []
    if data_types[0] == "BOOLEAN":
        if any(v.lower() not in ("true", "false") for v in values):
            raise bad_request("a BOOLEAN value is true or false")
        return [], [1.0 if v.lower() == "true" else 0.0 for v in values]
    try:
        numbers = [float(v) for v in values]
    except ValueError:
        raise bad_request("a NUMERIC value is a finite number") from None
    if not all(math.isfinite(n) for n in numbers):
        raise bad_request("a NUMERIC value is a finite number")
    return [], numbers


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
