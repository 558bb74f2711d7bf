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
from sqlalchemy import ColumnElement, func, select

from interactiveai.server.api.common import JSON, AuthKey, DbEngine, bad_request, client_errors, iso_param, list_param
from interactiveai.server.api.observations_v2 import CursorMeta
from interactiveai.server.api.schemas import time_query
from interactiveai.server.api.scores_v3 import score_v3_json
from interactiveai.server.clock import us_to_iso
from interactiveai.server.query._db import Db, connect, load_json
from interactiveai.server.query.cursors import after, decode_cursor, fetch_cursor_page
from interactiveai.server.query.observations import get_observation
from interactiveai.server.query.records import score_from_row
from interactiveai.server.storage.schema import dataset_items, dataset_run_items, dataset_runs, scores

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
    items = (
        select(
            dataset_run_items.c.dataset_run_id.label("run_id"),
            func.count().label("item_count"),
            func.max(dataset_run_items.c.created_at_us).label("last_us"),
        )
        .where(dataset_run_items.c.project_id == key.project_id)
        .group_by(dataset_run_items.c.dataset_run_id)
        .subquery()
    )
    activity = func.coalesce(items.c.last_us, dataset_runs.c.updated_at_us)
    conditions: list[ColumnElement[bool]] = [dataset_runs.c.project_id == key.project_id]
    conditions.append(activity >= _since(fromStartTime))
    to_us = iso_param(toStartTime, "toStartTime")
    if to_us is not None:
        conditions.append(dataset_runs.c.created_at_us < to_us)
    for column, values in ((dataset_runs.c.id, _many(id)), (dataset_runs.c.name, _many(name))):
        if values:
            conditions.append(column.in_(values))
    if _many(datasetId):
        conditions.append(dataset_runs.c.dataset_id.in_(_many(datasetId)))
    groups = set(_many(fields))
    with client_errors():
        conditions += after(activity, dataset_runs.c.id, decode_cursor(cursor))
        query = (
            select(dataset_runs, items.c.item_count, activity.label("last_us"))
            .join(items, items.c.run_id == dataset_runs.c.id)
            .where(*conditions)
            .order_by(activity.desc(), dataset_runs.c.id.desc())
        )
        page = fetch_cursor_page(engine, query, dict, lambda r: (r["last_us"], r["id"]), limit=limit)
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
            out["scores"] = _scores(engine, key.project_id, scores.c.dataset_run_id == run["id"], scoreLimit)
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
    run_items, runs = dataset_run_items.c, dataset_runs.c
    conditions: list[ColumnElement[bool]] = [run_items.project_id == key.project_id]
    conditions.append(run_items.created_at_us >= _since(fromStartTime))
    to_us = iso_param(toStartTime, "toStartTime")
    if to_us is not None:
        conditions.append(run_items.created_at_us < to_us)
    for column, values in (
        (run_items.dataset_run_id, _many(experimentId)),
        (runs.name, _many(experimentName)),
        (run_items.dataset_item_id, _many(experimentItemId)),
        (runs.dataset_id, _many(datasetId)),
    ):
        if values:
            conditions.append(column.in_(values))
    groups = set(_many(fields))
    with client_errors():
        conditions += after(run_items.created_at_us, run_items.id, decode_cursor(cursor))
        query = (
            select(
                dataset_run_items,
                runs.name.label("run_name"),
                runs.dataset_id,
                runs.description.label("run_description"),
                runs.metadata.label("run_metadata"),
                dataset_items.c.expected_output,
                dataset_items.c.metadata.label("item_metadata"),
            )
            .join(dataset_runs, (runs.project_id == run_items.project_id) & (runs.id == run_items.dataset_run_id))
            .join(
                dataset_items,
                (dataset_items.c.project_id == run_items.project_id)
                & (dataset_items.c.id == run_items.dataset_item_id),
            )
            .where(*conditions)
            .order_by(run_items.created_at_us.desc(), run_items.id.desc())
        )
        page = fetch_cursor_page(engine, query, dict, lambda r: (r["created_at_us"], r["id"]), limit=limit)
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
        out["scores"] = _scores(db, project_id, scores.c.trace_id == row["trace_id"], score_limit)
    return out


def _scores(db: Db, project_id: str, target: ColumnElement[bool], limit: int) -> list[dict[str, Any]]:
    query = (
        select(scores)
        .where(scores.c.project_id == project_id, target)
        .order_by(scores.c.timestamp_us.desc(), scores.c.id.desc())
        .limit(limit)
    )
    with connect(db) as conn:
        rows = conn.execute(query).mappings().all()
    return [score_v3_json(score_from_row(row), {"details", "subject"}) for row in rows]
