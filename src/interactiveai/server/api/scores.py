"""Scores: ``POST /scores`` (one object or a list), list, get and delete; ``/v2/scores`` aliases."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import Engine

from interactiveai.server.api.common import (
    JSON,
    AuthKey,
    DbEngine,
    JsonBody,
    LimitParam,
    PageParam,
    bad_request,
    client_errors,
    iso_param,
    json_body,
    list_param,
    not_found,
    or_404,
    paged,
)
from interactiveai.server.api.models import CreatedId, CreatedIds, Message
from interactiveai.server.api.schemas import enum_query, time_query
from interactiveai.server.api.scores_models import Score, ScoreCreate, Scores
from interactiveai.server.api.shapes import score_json
from interactiveai.server.query.filters import ScoreFilter
from interactiveai.server.query.scores import get_score, list_scores
from interactiveai.server.writes.errors import InvalidInputError
from interactiveai.server.writes.scores import delete_score, upsert_scores

router = APIRouter(tags=["scores"])

MAX_BATCH = 1000
SCORE_OPERATORS = ("=", "!=", "<", "<=", ">", ">=")  # query/filters.py checks them (a test keeps both equal)

_one = ScoreCreate.model_json_schema()
_BODY_SCHEMA = {"oneOf": [_one, {"type": "array", "items": _one, "minItems": 1, "maxItems": MAX_BATCH}]}


class RefusedScore(BaseModel):
    message: str = Field(description="`score <index>: ` and the rule the score breaks.")


class PartlyCreated(BaseModel):
    """A list of which some scores were refused: the others are written (the reference's 207)."""

    accepted: int
    rejected: int
    errors: list[RefusedScore]
    data: list[CreatedId] = Field(description="The written scores' ids, in input order.")


@router.post(
    "/scores",
    response_model=CreatedId | CreatedIds,
    summary="Create or update scores",
    description=(
        "One score object answers `{id}`; a list answers `{data: [{id}]}`. A score may target a trace "
        "that has not arrived yet. With `id`, an existing score of the project is replaced. Values are "
        "validated against the data type and, with `configId`, the config (range or categories): a config "
        "that does not exist in the project or is archived, or a value outside it, is a 400 naming the rule. "
        f"A list holds 1 to {MAX_BATCH} scores. When some of its scores break a rule and others do not, "
        "the others are written and the answer is 207 `{accepted, rejected, errors: [{message}], data}` "
        "(as the reference answers its SDK's batches); when every one breaks a rule, 400."
    ),
    responses={207: {"model": PartlyCreated, "description": "Some scores of the list written, the others refused."}},
    openapi_extra=json_body(_BODY_SCHEMA),
)
def post_scores(key: AuthKey, engine: DbEngine, payload: JsonBody) -> JSON:
    # The body is read untyped and validated by the write layer, which explains each broken rule
    # in one sentence instead of a union-of-schemas error dump.
    items = payload if isinstance(payload, list) else [payload]
    if not items:
        raise bad_request("the list of scores is empty")
    if len(items) > MAX_BATCH:
        raise bad_request(f"at most {MAX_BATCH} scores per request")
    if not isinstance(payload, list):
        with client_errors():
            return JSON({"id": upsert_scores(engine, key.project_id, items)[0]})
    written, refused = _write_apart(engine, key.project_id, list(enumerate(items)))
    if not refused:
        return JSON({"data": [{"id": i} for _, i in written]})
    errors = [{"message": f"score {index}: {why}"} for index, why in sorted(refused)]
    if not written:
        raise bad_request(errors[0]["message"])
    # one refused score must not lose the others: an SDK drops a refused batch whole
    data = [{"id": i} for _, i in sorted(written)]
    return JSON({"accepted": len(data), "rejected": len(errors), "errors": errors, "data": data}, status_code=207)


def _write_apart(
    engine: Engine, project_id: str, items: list[tuple[int, Any]]
) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """Write ``items`` together; when one is refused, each half on its own (and so on), so only the
    refused ones fail: about 2·log2(n) tries per refused score. (written, refused) by input index."""
    try:
        ids = upsert_scores(engine, project_id, [item for _, item in items])
        return [(index, i) for (index, _), i in zip(items, ids, strict=True)], []
    except InvalidInputError as exc:
        if len(items) == 1:
            return [], [(items[0][0], str(exc))]
    half = len(items) // 2
    first, second = _write_apart(engine, project_id, items[:half]), _write_apart(engine, project_id, items[half:])
    return first[0] + second[0], first[1] + second[1]


@router.get("/scores", response_model=Scores, summary="List scores, newest first")
@router.get("/v2/scores", response_model=Scores, summary="List scores (v2 path)")
def get_scores(
    key: AuthKey,
    engine: DbEngine,
    page: PageParam = 1,
    limit: LimitParam = 50,
    name: str | None = None,
    userId: Annotated[str | None, Query(description="Scores on traces of this user.")] = None,
    traceId: str | None = None,
    observationId: str | None = None,
    sessionId: str | None = None,
    datasetRunId: str | None = None,
    source: Annotated[str | None, Query(description="API, ANNOTATION or EVAL (any of, comma list).")] = None,
    dataType: Annotated[str | None, Query(description="NUMERIC, BOOLEAN, CATEGORICAL or TEXT.")] = None,
    configId: str | None = None,
    environment: Annotated[list[str] | None, Query(description="Any of these environments.")] = None,
    scoreIds: Annotated[str | None, Query(description="Comma list of score ids.")] = None,
    fromTimestamp: Annotated[str | None, time_query("ISO 8601; timestamp >= this.")] = None,
    toTimestamp: Annotated[str | None, time_query("ISO 8601; timestamp < this.")] = None,
    value: Annotated[
        float | None, Query(allow_inf_nan=False, description="Compare the numeric value with `operator`.")
    ] = None,
    operator: Annotated[str, enum_query(SCORE_OPERATORS, "How the numeric value compares with `value`.")] = "=",
) -> JSON:
    filters = ScoreFilter(
        name=name,
        user_id=userId,
        trace_id=traceId,
        observation_id=observationId,
        session_id=sessionId,
        dataset_run_id=datasetRunId,
        sources=list_param([source] if source else None),
        data_types=list_param([dataType] if dataType else None),
        config_id=configId,
        environments=list_param(environment),
        score_ids=list_param([scoreIds] if scoreIds else None),
        from_us=iso_param(fromTimestamp, "fromTimestamp"),
        to_us=iso_param(toTimestamp, "toTimestamp"),
        value=value,
        operator=operator,
    )
    with client_errors():
        result = list_scores(engine, key.project_id, filters, page=page, limit=limit)
    return JSON(paged(result, score_json))


@router.get("/scores/{scoreId:path}", response_model=Score, summary="One score")
@router.get("/v2/scores/{scoreId:path}", response_model=Score, summary="One score (v2 path)")
def get_one_score(scoreId: str, key: AuthKey, engine: DbEngine) -> JSON:
    score = or_404(get_score(engine, key.project_id, scoreId), "Score", scoreId)
    return JSON(score_json(score))


@router.delete("/scores/{scoreId:path}", response_model=Message, summary="Delete a score")
def remove_score(scoreId: str, key: AuthKey, engine: DbEngine) -> JSON:
    # 200 with a message body, as the reference API answers (clients check for 200).
    if not delete_score(engine, key.project_id, scoreId):
        raise not_found("Score", scoreId)
    return JSON({"message": "Score deleted successfully"})
