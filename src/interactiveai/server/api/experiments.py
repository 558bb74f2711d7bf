"""``GET /experiments`` and ``GET /experiment-items``: the reference API's experiment reads, which
its SDK's 5.x release uses to read an experiment run back.

An experiment is a dataset run with at least one item (linked through ``POST /dataset-run-items``
or by span attributes, ``ingest/experiments.py``); an experiment item is a run item, with the time,
level and environment of the observation it points at. Cursor pages (``query/cursors.py``):
experiments by latest activity, items by the time they were linked, newest first. Both need
``fromStartTime``, as the reference requires.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from interactiveai.server.api.common import JSON, AuthKey, DbEngine, bad_request, client_errors, iso_param, list_param
from interactiveai.server.api.observations_v2 import CursorMeta
from interactiveai.server.api.schemas import time_query
from interactiveai.server.api.scores_v3 import score_v3_json
from interactiveai.server.clock import us_to_iso
from interactiveai.server.query._db import Db, load_json
from interactiveai.server.query.cursor_lists import ExperimentList, experiment_items_page, experiments_page, scores_of
from interactiveai.server.query.cursors import decode_cursor
from interactiveai.server.query.observations import get_observation
from interactiveai.server.query.records import Score

router = APIRouter(tags=["datasets"])

MAX_LIMIT = 100
RUN_GROUPS = ("core", "metadata", "scores")
ITEM_GROUPS = ("core", "io", "dataset", "metadata", "itemMetadata", "experimentMetadata", "scores")
CommaList = Annotated[str | None, Query(description="Comma list (any of).")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Items per page, 1-{MAX_LIMIT}.")]
ScoreLimit = Annotated[int, Query(ge=1, le=50, description="Scores per entry with fields=scores, 1-50.")]
Cursor = Annotated[str | None, Query(max_length=2048, description="From the previous page's meta.")]
FromTime = Annotated[str, time_query("ISO 8601; required: activity at or after this.")]
ToTime = Annotated[str | None, time_query("ISO 8601; activity before this.")]


def _groups(names: tuple[str, ...]) -> str:
    return rf"^\s*({'|'.join(names)})\s*(,\s*({'|'.join(names)})\s*)*$"


class Experiment(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    name: str
    startTime: str
    endTime: str
    itemCount: int


class Experiments(BaseModel):
    data: list[Experiment]
    meta: CursorMeta


class ExperimentItem(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    traceId: str
    startTime: str
    level: str
    environment: str
    experimentId: str
    experimentName: str
    experimentItemId: str


class ExperimentItems(BaseModel):
    data: list[ExperimentItem]
    meta: CursorMeta


def _many(text: str | None) -> list[str]:
    return list_param([text] if text else None)


def _since(text: str) -> int:
    """``fromStartTime``, which the reference requires."""
    since = iso_param(text, "fromStartTime")
    if since is None:
        raise bad_request("fromStartTime is required")
    return since


@router.get(
    "/experiments",
    response_model=Experiments,
    summary="List experiments (dataset runs with items)",
    description="Latest activity first. A `cursor` this server did not hand out is a 400.",
)
def get_experiments(
    key: AuthKey,
    engine: DbEngine,
    fromStartTime: FromTime,
    toStartTime: ToTime = None,
    fields: Annotated[str | None, Query(pattern=_groups(RUN_GROUPS), description="core, metadata, scores.")] = None,
    limit: Limit = 50,
    scoreLimit: ScoreLimit = 50,
    cursor: Cursor = None,
    id: CommaList = None,
    name: CommaList = None,
    datasetId: CommaList = None,
) -> JSON:
    filters = ExperimentList(
        since_us=_since(fromStartTime),
        until_us=iso_param(toStartTime, "toStartTime"),
        run_ids=_many(id),
        run_names=_many(name),
        dataset_ids=_many(datasetId),
    )
    groups = set(_many(fields))
    with client_errors():
        page = experiments_page(engine, key.project_id, filters, cursor=decode_cursor(cursor), limit=limit)
    data = []
    for run in page.items:
        out: dict[str, Any] = {
            "id": run["id"],
            "name": run["name"],
            "description": run["description"],
            "startTime": us_to_iso(run["created_at_us"]),
            "endTime": us_to_iso(max(run["last_us"], run["created_at_us"])),
            "itemCount": run["item_count"],
            "datasetId": run["dataset_id"],
        }
        if "metadata" in groups:
            out["metadata"] = load_json(run["metadata"])
        if "scores" in groups:
            out["scores"] = _scores(scores_of(engine, key.project_id, run_id=run["id"], limit=scoreLimit))
        data.append(out)
    return JSON({"data": data, "meta": {"cursor": page.next.encode()} if page.next else {}})


@router.get(
    "/experiment-items",
    response_model=ExperimentItems,
    summary="List experiment items (run items)",
    description="Newest first. A `cursor` this server did not hand out is a 400.",
)
def get_experiment_items(
    key: AuthKey,
    engine: DbEngine,
    fromStartTime: FromTime,
    toStartTime: ToTime = None,
    fields: Annotated[str | None, Query(pattern=_groups(ITEM_GROUPS), description=", ".join(ITEM_GROUPS))] = None,
    limit: Limit = 50,
    scoreLimit: ScoreLimit = 50,
    cursor: Cursor = None,
    experimentId: CommaList = None,
    experimentName: CommaList = None,
    experimentItemId: CommaList = None,
    datasetId: CommaList = None,
) -> JSON:
    filters = ExperimentList(
        since_us=_since(fromStartTime),
        until_us=iso_param(toStartTime, "toStartTime"),
        run_ids=_many(experimentId),
        run_names=_many(experimentName),
        item_ids=_many(experimentItemId),
        dataset_ids=_many(datasetId),
    )
    groups = set(_many(fields))
    with client_errors():
        page = experiment_items_page(engine, key.project_id, filters, cursor=decode_cursor(cursor), limit=limit)
    data = [_item(engine, key.project_id, row, groups, scoreLimit) for row in page.items]
    return JSON({"data": data, "meta": {"cursor": page.next.encode()} if page.next else {}})


def _item(db: Db, project_id: str, row: dict[str, Any], groups: set[str], score_limit: int) -> dict[str, Any]:
    observation = (
        get_observation(db, project_id, row["observation_id"], row["trace_id"]) if row["observation_id"] else None
    )
    start_us = observation.start_time_us if observation else row["created_at_us"]
    out: dict[str, Any] = {
        "id": row["id"],
        "traceId": row["trace_id"],
        "startTime": us_to_iso(start_us),
        "endTime": us_to_iso(observation.end_time_us) if observation else None,
        "level": observation.level if observation else "DEFAULT",
        "environment": observation.environment if observation else "default",
        "experimentId": row["dataset_run_id"],
        "experimentName": row["run_name"],
        "experimentItemId": row["dataset_item_id"],
    }
    if "dataset" in groups:
        out.update(experimentDatasetId=row["dataset_id"], experimentItemVersion=None)
    if "io" in groups:
        out.update(
            input=observation.input if observation else None,
            output=observation.output if observation else None,
            expectedOutput=load_json(row["expected_output"]),
        )
    if "metadata" in groups:
        out["metadata"] = observation.metadata if observation else None
    if "itemMetadata" in groups:
        out["experimentItemMetadata"] = load_json(row["item_metadata"])
    if "experimentMetadata" in groups:
        out.update(experimentMetadata=load_json(row["run_metadata"]), experimentDescription=row["run_description"])
    if "scores" in groups:
        out["scores"] = _scores(scores_of(db, project_id, trace_id=row["trace_id"], limit=score_limit))
    return out


def _scores(found: list[Score]) -> list[dict[str, Any]]:
    return [score_v3_json(score, {"details", "subject"}) for score in found]
