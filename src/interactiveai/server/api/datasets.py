"""Datasets: ``/datasets`` (and ``/v2/datasets``), their runs, ``/dataset-items``, ``/dataset-run-items``.

Dataset and run names may contain "/", sent URL-encoded (``a%2Fb``). The router sees the decoded
path, where "eval/runs/x" is ambiguous, so the ``/datasets/…`` GET routes re-read the raw path,
whose encoded slashes still separate the name from the ``/runs`` suffix, and answer for what was
really asked.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import unquote_to_bytes

from fastapi import APIRouter, Query, Request
from sqlalchemy import Engine

from interactiveai.server.api.common import (
    JSON,
    AuthKey,
    DbEngine,
    JsonBody,
    LimitParam,
    PageParam,
    client_errors,
    iso_param,
    json_body,
    meta,
    not_found,
    or_404,
    paged,
)
from interactiveai.server.api.datasets_models import (
    Dataset,
    DatasetCreate,
    DatasetItem,
    DatasetItemCreate,
    DatasetItems,
    DatasetRunItem,
    DatasetRunItemCreate,
    DatasetRunItems,
    DatasetRuns,
    DatasetRunWithItems,
    Datasets,
    DatasetsV2,
    DatasetWithItems,
)
from interactiveai.server.api.models import Message
from interactiveai.server.api.schemas import enum_query, time_query
from interactiveai.server.clock import us_to_iso
from interactiveai.server.query import datasets as q
from interactiveai.server.writes import datasets as w

router = APIRouter(tags=["datasets"])


@contextmanager
def _errors() -> Iterator[None]:
    """400 for broken rules (client_errors), 404 for what the project does not have."""
    with client_errors():
        try:
            yield
        except w.NotFoundError as exc:
            raise not_found(exc.what, exc.key) from None


# --- datasets ---------------------------------------------------------------------------------


@router.post(
    "/datasets",
    response_model=Dataset,
    summary="Create a dataset, or update it by name",
    openapi_extra=json_body(DatasetCreate.model_json_schema()),
)
@router.post(
    "/v2/datasets",
    response_model=Dataset,
    summary="Create a dataset (v2 path)",
    openapi_extra=json_body(DatasetCreate.model_json_schema()),
)
def post_dataset(key: AuthKey, engine: DbEngine, payload: JsonBody) -> JSON:
    with _errors():
        dataset = w.upsert_dataset(engine, key.project_id, payload)
    return JSON(dataset_json(dataset))


@router.get("/datasets", response_model=Datasets, summary="List datasets, newest first, with item ids and run names")
def get_datasets(key: AuthKey, engine: DbEngine, page: PageParam = 1, limit: LimitParam = 50) -> JSON:
    with _errors():
        result = q.list_datasets(engine, key.project_id, page=page, limit=limit)
    ids = [d.id for d in result.items]
    item_ids = q.item_ids_by_dataset(engine, key.project_id, ids)
    run_names = q.run_names_by_dataset(engine, key.project_id, ids)
    data = [{**dataset_json(d), "items": item_ids[d.id], "runs": run_names[d.id]} for d in result.items]
    return JSON({"data": data, "meta": meta(result)})


@router.get("/v2/datasets", response_model=DatasetsV2, summary="List datasets, newest first (v2 path)")
def get_datasets_v2(key: AuthKey, engine: DbEngine, page: PageParam = 1, limit: LimitParam = 50) -> JSON:
    with _errors():
        result = q.list_datasets(engine, key.project_id, page=page, limit=limit)
    return JSON(paged(result, dataset_json))


@router.get("/v2/datasets/{datasetName:path}", response_model=Dataset, summary="One dataset by name (v2 path)")
def get_dataset_v2(datasetName: str, key: AuthKey, engine: DbEngine) -> JSON:
    return JSON(dataset_json(_dataset(engine, key.project_id, datasetName)))


# --- runs (declared before the plain dataset route, whose name parameter would swallow them) --


@dataclass(frozen=True, slots=True)
class _Target:
    dataset: str
    runs: bool = False  # the dataset's runs (list), or one run when ``run`` is set
    run: str | None = None


def _target(request: Request, routed: _Target) -> _Target:
    """What the client asked for, from the raw path when its encoded slashes tell more."""
    raw = request.scope.get("raw_path")
    if not isinstance(raw, bytes) or b"/datasets/" not in raw:
        return routed
    try:
        parts = [unquote_to_bytes(p).decode() for p in raw.split(b"/datasets/", 1)[1].decode("ascii").split("/")]
    except UnicodeDecodeError:
        return routed
    if len(parts) == 1:
        return _Target(parts[0])
    if len(parts) == 2 and parts[1] == "runs":
        return _Target(parts[0], runs=True)
    if len(parts) == 3 and parts[1] == "runs":
        return _Target(parts[0], runs=True, run=parts[2])
    return routed  # a name with unencoded slashes: the router's reading is all there is


def _answer(target: _Target, project_id: str, engine: Engine, page: int, limit: int) -> JSON:
    dataset = _dataset(engine, project_id, target.dataset)
    if target.run is not None:
        return JSON(_run_with_items(engine, project_id, dataset, target.run))
    if target.runs:
        with _errors():
            runs = q.list_dataset_runs(engine, project_id, dataset.id, page=page, limit=limit)
        return JSON(paged(runs, run_json))
    items = q.items_of_dataset(engine, project_id, dataset.id, status="ACTIVE")  # as the reference embeds them
    runs_by_dataset = q.run_names_by_dataset(engine, project_id, [dataset.id])
    return JSON({**dataset_json(dataset), "items": [item_json(i) for i in items], "runs": runs_by_dataset[dataset.id]})


@router.get(
    "/datasets/{datasetName:path}/runs/{runName:path}",
    response_model=DatasetRunWithItems,
    summary="One run of a dataset, with its run items",
)
def get_run(datasetName: str, runName: str, request: Request, key: AuthKey, engine: DbEngine) -> JSON:
    return _answer(_target(request, _Target(datasetName, True, runName)), key.project_id, engine, 1, 50)


@router.delete("/datasets/{datasetName:path}/runs/{runName:path}", response_model=Message, summary="Delete a run")
def delete_run(datasetName: str, runName: str, request: Request, key: AuthKey, engine: DbEngine) -> JSON:
    target = _target(request, _Target(datasetName, True, runName))
    if target.run is None or not w.delete_dataset_run(engine, key.project_id, target.dataset, target.run):
        raise not_found("Dataset run", f"{target.run or runName} of dataset {target.dataset}")
    return JSON({"message": "Dataset run successfully deleted"})


@router.get(
    "/datasets/{datasetName:path}/runs", response_model=DatasetRuns, summary="List a dataset's runs, newest first"
)
def get_runs(
    datasetName: str, request: Request, key: AuthKey, engine: DbEngine, page: PageParam = 1, limit: LimitParam = 50
) -> JSON:
    return _answer(_target(request, _Target(datasetName, True)), key.project_id, engine, page, limit)


@router.get(
    "/datasets/{datasetName:path}", response_model=DatasetWithItems, summary="One dataset, with items and run names"
)
def get_dataset(datasetName: str, request: Request, key: AuthKey, engine: DbEngine) -> JSON:
    return _answer(_target(request, _Target(datasetName)), key.project_id, engine, 1, 50)


# --- items ------------------------------------------------------------------------------------


@router.post(
    "/dataset-items",
    response_model=DatasetItem,
    summary="Create or update a dataset item, optionally copied from a trace or observation",
    description=(
        "With `sourceTraceId` (and optionally `sourceObservationId`) and without `input`/`expectedOutput`, "
        "the stored input and output of that trace or observation are copied (404 if it is not in the "
        "project). With `id`, the project's item with that id is updated; omitted fields keep their values."
    ),
    openapi_extra=json_body(DatasetItemCreate.model_json_schema()),
)
def post_dataset_item(key: AuthKey, engine: DbEngine, payload: JsonBody) -> JSON:
    with _errors():
        item = w.upsert_dataset_item(engine, key.project_id, payload)
    return JSON(item_json(item))


@router.get(
    "/dataset-items",
    response_model=DatasetItems,
    summary="List dataset items, newest first",
    description=(
        "Active items unless `status` says otherwise. With `version`, the items as they stood at that time: "
        "each in the state (and status) it had then, so a later update does not show; items created later "
        "are absent, items deleted later present."
    ),
)
def get_dataset_items(
    key: AuthKey,
    engine: DbEngine,
    datasetName: str | None = None,
    sourceTraceId: str | None = None,
    sourceObservationId: str | None = None,
    status: Annotated[
        str | None, enum_query(q.ITEM_STATUSES, "ACTIVE (the default) or ARCHIVED (in any case).")
    ] = None,
    version: Annotated[str | None, time_query("ISO 8601; the items as they stood at this time.")] = None,
    page: PageParam = 1,
    limit: LimitParam = 50,
) -> JSON:
    at_us = iso_param(version, "version")
    dataset_id = _dataset(engine, key.project_id, datasetName).id if datasetName else None
    with _errors():
        result = q.list_dataset_items(
            engine,
            key.project_id,
            dataset_id=dataset_id,
            source_trace_id=sourceTraceId,
            source_observation_id=sourceObservationId,
            status=status.upper() if status else "ACTIVE",
            at_us=at_us,
            page=page,
            limit=limit,
        )
    return JSON(paged(result, item_json))


@router.get("/dataset-items/{itemId:path}", response_model=DatasetItem, summary="One dataset item")
def get_dataset_item(itemId: str, key: AuthKey, engine: DbEngine) -> JSON:
    item = or_404(q.get_dataset_item(engine, key.project_id, itemId), "Dataset item", itemId)
    return JSON(item_json(item))


@router.delete(
    "/dataset-items/{itemId:path}", response_model=Message, summary="Delete a dataset item and its run items"
)
def delete_dataset_item(itemId: str, key: AuthKey, engine: DbEngine) -> JSON:
    if not w.delete_dataset_item(engine, key.project_id, itemId):
        raise not_found("Dataset item", itemId)
    return JSON({"message": "Dataset item successfully deleted"})


# --- run items --------------------------------------------------------------------------------


@router.post(
    "/dataset-run-items",
    response_model=DatasetRunItem,
    summary="Link a dataset item to the trace an experiment run produced for it",
    description="The run is created by name in the item's dataset when new. Posting the same link again returns it.",
    openapi_extra=json_body(DatasetRunItemCreate.model_json_schema()),
)
def post_dataset_run_item(key: AuthKey, engine: DbEngine, payload: JsonBody) -> JSON:
    with _errors():
        run_item = w.create_run_item(engine, key.project_id, payload)
    return JSON(run_item_json(run_item))


@router.get("/dataset-run-items", response_model=DatasetRunItems, summary="List the run items of a dataset run")
def get_dataset_run_items(
    key: AuthKey,
    engine: DbEngine,
    datasetId: Annotated[str, Query(description="The dataset's id.")],
    runName: Annotated[str, Query(description="The run's name.")],
    page: PageParam = 1,
    limit: LimitParam = 50,
) -> JSON:
    dataset = or_404(q.get_dataset_by_id(engine, key.project_id, datasetId), "Dataset", datasetId)
    run = or_404(q.get_dataset_run(engine, key.project_id, dataset.id, runName), "Dataset run", runName)
    with _errors():
        result = q.list_dataset_run_items(engine, key.project_id, run.id, page=page, limit=limit)
    return JSON(paged(result, run_item_json))


# --- helpers and serialisers ------------------------------------------------------------------


def _dataset(engine: Engine, project_id: str, name: str) -> q.Dataset:
    return or_404(q.get_dataset(engine, project_id, name), "Dataset", name)


def _run_with_items(engine: Engine, project_id: str, dataset: q.Dataset, run_name: str) -> dict[str, Any]:
    run = or_404(
        q.get_dataset_run(engine, project_id, dataset.id, run_name),
        "Dataset run",
        f"{run_name} of dataset {dataset.name}",
    )
    items = q.run_items_of_run(engine, project_id, run.id)
    return {**run_json(run), "datasetRunItems": [run_item_json(i) for i in items]}


def dataset_json(dataset: q.Dataset) -> dict[str, Any]:
    return {
        "id": dataset.id,
        "projectId": dataset.project_id,
        "name": dataset.name,
        "description": dataset.description,
        "metadata": dataset.metadata,
        "createdAt": us_to_iso(dataset.created_at_us),
        "updatedAt": us_to_iso(dataset.updated_at_us),
    }


def item_json(item: q.DatasetItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "projectId": item.project_id,
        "datasetId": item.dataset_id,
        "datasetName": item.dataset_name,
        "status": item.status,
        "input": item.input,
        "expectedOutput": item.expected_output,
        "metadata": item.metadata,
        "sourceTraceId": item.source_trace_id,
        "sourceObservationId": item.source_observation_id,
        "createdAt": us_to_iso(item.created_at_us),
        "updatedAt": us_to_iso(item.updated_at_us),
        "version": us_to_iso(item.updated_at_us),  # every change is a version (the history table)
        "mediaReferences": [],  # media uploads are not stored, so no payload references one
    }


def run_json(run: q.DatasetRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "projectId": run.project_id,
        "name": run.name,
        "description": run.description,
        "metadata": run.metadata,
        "datasetId": run.dataset_id,
        "datasetName": run.dataset_name,
        "createdAt": us_to_iso(run.created_at_us),
        "updatedAt": us_to_iso(run.updated_at_us),
    }


def run_item_json(run_item: q.DatasetRunItem) -> dict[str, Any]:
    created = us_to_iso(run_item.created_at_us)
    return {
        "id": run_item.id,
        "projectId": run_item.project_id,
        "datasetRunId": run_item.dataset_run_id,
        "datasetRunName": run_item.dataset_run_name,
        "datasetItemId": run_item.dataset_item_id,
        "traceId": run_item.trace_id,
        "observationId": run_item.observation_id,
        "createdAt": created,
        "updatedAt": created,  # run items are never updated
    }
