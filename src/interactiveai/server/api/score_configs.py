"""Score configs: create, list, get, and PATCH (configs are archived, never deleted)."""

from __future__ import annotations

from fastapi import APIRouter

from interactiveai.server.api.common import (
    JSON,
    AuthKey,
    DbEngine,
    JsonBody,
    LimitParam,
    PageParam,
    bad_request,
    client_errors,
    json_body,
    or_404,
    paged,
)
from interactiveai.server.api.scores_models import ScoreConfig, ScoreConfigCreate, ScoreConfigs, ScoreConfigUpdate
from interactiveai.server.api.shapes import score_config_json
from interactiveai.server.query.score_configs import get_score_config, list_score_configs
from interactiveai.server.writes.score_configs import create_score_config, update_score_config

router = APIRouter(tags=["score-configs"])


@router.post(
    "/score-configs",
    response_model=ScoreConfig,
    summary="Create a score config",
    openapi_extra=json_body(ScoreConfigCreate.model_json_schema()),
)
def post_score_config(key: AuthKey, engine: DbEngine, payload: JsonBody) -> JSON:
    if not isinstance(payload, dict):
        raise bad_request("the body must be a JSON object")
    with client_errors():
        config = create_score_config(engine, key.project_id, payload)
    return JSON(score_config_json(config))


@router.get("/score-configs", response_model=ScoreConfigs, summary="List score configs, newest first")
def get_score_configs(key: AuthKey, engine: DbEngine, page: PageParam = 1, limit: LimitParam = 50) -> JSON:
    with client_errors():
        result = list_score_configs(engine, key.project_id, page=page, limit=limit)
    return JSON(paged(result, score_config_json))


@router.get("/score-configs/{configId}", response_model=ScoreConfig, summary="One score config")
def get_one_score_config(configId: str, key: AuthKey, engine: DbEngine) -> JSON:
    config = or_404(get_score_config(engine, key.project_id, configId), "Score config", configId)
    return JSON(score_config_json(config))


@router.patch(
    "/score-configs/{configId}",
    response_model=ScoreConfig,
    summary="Update a score config (name, isArchived, description, range, categories)",
    openapi_extra=json_body(ScoreConfigUpdate.model_json_schema()),
)
def patch_score_config(configId: str, key: AuthKey, engine: DbEngine, payload: JsonBody) -> JSON:
    if not isinstance(payload, dict):
        raise bad_request("the body must be a JSON object")
    with client_errors():
        config = update_score_config(engine, key.project_id, configId, payload)
    return JSON(score_config_json(or_404(config, "Score config", configId)))
