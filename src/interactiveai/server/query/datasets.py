"""Dataset queries: datasets, their items, experiment runs and run items, and a trace's I/O.

Read-only, like every query module; the writes live in ``writes/datasets.py``. Every function
filters on the project first, so an id or name of another project reads as "not found". Lists
are newest first (created time, then id descending, so equal times still page stably).

Items are read as they are now (``dataset_items``) or as they stood at a given time
(``dataset_item_versions``, written with every change: ``at_us``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, or_, select

from interactiveai.server.query._db import (
    Db,
    connect,
    fetch_all,
    fetch_one,
    fetch_page,
    load_json,
    matching_rows,
    record_from_row,
)
from interactiveai.server.query.pagination import Page, check_page
from interactiveai.server.storage.payload_sharing import OBSERVATION_INPUT, OBSERVATION_OUTPUT
from interactiveai.server.storage.schema import (
    dataset_item_versions,
    dataset_items,
    dataset_run_items,
    dataset_runs,
    datasets,
    observations,
    observations_of_trace,
)
from interactiveai.server.storage.schema import traces as traces_table

ITEM_STATUSES = ("ACTIVE", "ARCHIVED")


@dataclass(frozen=True, slots=True)
class Dataset:
    id: str
    project_id: str
    name: str
    description: str | None
    metadata: Any  # any JSON value (None when none was given)
    created_at_us: int
    updated_at_us: int


@dataclass(frozen=True, slots=True)
class DatasetItem:
    id: str
    project_id: str
    dataset_id: str
    dataset_name: str
    status: str
    input: Any
    expected_output: Any
    metadata: Any  # any JSON value (None when none was given)
    source_trace_id: str | None
    source_observation_id: str | None
    created_at_us: int
    updated_at_us: int  # when this state became current: the item's version


@dataclass(frozen=True, slots=True)
class DatasetRun:
    id: str
    project_id: str
    dataset_id: str
    dataset_name: str
    name: str
    description: str | None
    metadata: Any  # any JSON value (None when none was given)
    created_at_us: int
    updated_at_us: int


@dataclass(frozen=True, slots=True)
class DatasetRunItem:
    id: str
    project_id: str
    dataset_run_id: str
    dataset_run_name: str
    dataset_item_id: str
    trace_id: str
    observation_id: str | None
    created_at_us: int


@dataclass(frozen=True, slots=True)
class SourceIO:
    """The stored input and output (JSON text, as ingested) of a trace or one of its observations."""

    trace_id: str
    observation_id: str | None
    input: str | None
    output: str | None


# --- datasets ---------------------------------------------------------------------------------


def list_datasets(db: Db, project_id: str, *, page: int = 1, limit: int = 50) -> Page[Dataset]:
    check_page(page, limit)
    condition = datasets.c.project_id == project_id
    query = select(datasets).where(condition).order_by(*_newest_first(datasets))
    return fetch_page(db, query, _dataset, page=page, limit=limit, counted=matching_rows(datasets, [condition]))


def get_dataset(db: Db, project_id: str, name: str) -> Dataset | None:
    """The project's dataset with this name (names are unique per project)."""
    return _one_dataset(db, (datasets.c.project_id == project_id) & (datasets.c.name == name))


def get_dataset_by_id(db: Db, project_id: str, dataset_id: str) -> Dataset | None:
    return _one_dataset(db, (datasets.c.project_id == project_id) & (datasets.c.id == dataset_id))


def item_ids_by_dataset(db: Db, project_id: str, dataset_ids: Sequence[str]) -> dict[str, list[str]]:
    """Item ids of several datasets at once (newest first): the v1 list shows them per dataset."""
    return _column_by_dataset(db, project_id, dataset_items, "id", dataset_ids)


def run_names_by_dataset(db: Db, project_id: str, dataset_ids: Sequence[str]) -> dict[str, list[str]]:
    """Run names of several datasets at once (newest first)."""
    return _column_by_dataset(db, project_id, dataset_runs, "name", dataset_ids)


def _column_by_dataset(
    db: Db, project_id: str, table: Table, column: str, dataset_ids: Sequence[str]
) -> dict[str, list[str]]:
    """One column of the items or runs of several datasets, per dataset, newest first."""
    result: dict[str, list[str]] = {i: [] for i in dataset_ids}
    if not dataset_ids:
        return result
    query = (
        select(table.c.dataset_id, table.c[column])
        .where(table.c.project_id == project_id, table.c.dataset_id.in_(dataset_ids))
        .order_by(*_newest_first(table))
    )
    with connect(db) as conn:
        for dataset_id, value in conn.execute(query):
            result[dataset_id].append(value)
    return result


# --- items ------------------------------------------------------------------------------------


def list_dataset_items(
    db: Db,
    project_id: str,
    *,
    dataset_id: str | None = None,
    source_trace_id: str | None = None,
    source_observation_id: str | None = None,
    status: str | None = None,
    at_us: int | None = None,
    page: int = 1,
    limit: int = 50,
) -> Page[DatasetItem]:
    """One page of the project's items, optionally of one dataset or built from one trace/observation.

    ``at_us``: the items as they stood at that time, each in the state (and status) it had then;
    ``updated_at_us`` is when that state became current.

    Raises:
        ValueError: bad page/limit or status.
    """
    check_page(page, limit)
    if status is not None and status not in ITEM_STATUSES:
        raise ValueError(f"status must be one of {', '.join(ITEM_STATUSES)}")
    if at_us is not None:
        return _items_as_of(
            db, project_id, dataset_id, at_us, source_trace_id, source_observation_id, status, page, limit
        )
    conditions: list[ColumnElement[bool]] = [dataset_items.c.project_id == project_id]
    for column, value in (
        (dataset_items.c.dataset_id, dataset_id),
        (dataset_items.c.source_trace_id, source_trace_id),
        (dataset_items.c.source_observation_id, source_observation_id),
        (dataset_items.c.status, status),
    ):
        if value is not None:
            conditions.append(column == value)
    query = _items_select().where(*conditions).order_by(*_newest_first(dataset_items))
    return fetch_page(db, query, _item, page=page, limit=limit, counted=matching_rows(dataset_items, conditions))


def _items_as_of(
    db: Db,
    project_id: str,
    dataset_id: str | None,
    at_us: int,
    source_trace_id: str | None,
    source_observation_id: str | None,
    status: str | None,
    page: int,
    limit: int,
) -> Page[DatasetItem]:
    v = dataset_item_versions.c
    # at most one version of an item holds at a time: no grouping needed
    conditions: list[ColumnElement[bool]] = [
        v.project_id == project_id,
        v.valid_from_us <= at_us,
        or_(v.valid_to_us.is_(None), v.valid_to_us > at_us),
    ]
    for column, value in (
        (v.dataset_id, dataset_id),
        (v.source_trace_id, source_trace_id),
        (v.source_observation_id, source_observation_id),
    ):
        if value is not None:
            conditions.append(column == value)
    if status is not None:
        conditions.append(v.status == status)
    query = (
        select(
            *(c for c in dataset_item_versions.c if c.name not in ("item_id", "valid_from_us", "valid_to_us")),
            v.item_id.label("id"),
            v.valid_from_us.label("updated_at_us"),
            datasets.c.name.label("dataset_name"),
        )
        .join(datasets, (datasets.c.project_id == v.project_id) & (datasets.c.id == v.dataset_id))
        .where(*conditions)
        .order_by(v.created_at_us.desc(), v.item_id.desc())
    )
    counted = matching_rows(dataset_item_versions, conditions)
    return fetch_page(db, query, _item, page=page, limit=limit, counted=counted)


def items_of_dataset(db: Db, project_id: str, dataset_id: str, *, status: str | None = None) -> list[DatasetItem]:
    """Every item of a dataset (with this status, when given), newest first (the v1 dataset object embeds them)."""
    conditions = [dataset_items.c.project_id == project_id, dataset_items.c.dataset_id == dataset_id]
    if status is not None:
        conditions.append(dataset_items.c.status == status)
    query = _items_select().where(*conditions).order_by(*_newest_first(dataset_items))
    return fetch_all(db, query, _item)


def get_dataset_item(db: Db, project_id: str, item_id: str) -> DatasetItem | None:
    query = _items_select().where(dataset_items.c.project_id == project_id, dataset_items.c.id == item_id)
    return fetch_one(db, query, _item)


# --- runs and run items -----------------------------------------------------------------------


def list_dataset_runs(db: Db, project_id: str, dataset_id: str, *, page: int = 1, limit: int = 50) -> Page[DatasetRun]:
    check_page(page, limit)
    conditions = (dataset_runs.c.project_id == project_id, dataset_runs.c.dataset_id == dataset_id)
    query = _runs_select().where(*conditions).order_by(*_newest_first(dataset_runs))
    return fetch_page(db, query, _run, page=page, limit=limit, counted=matching_rows(dataset_runs, conditions))


def get_dataset_run(db: Db, project_id: str, dataset_id: str, name: str) -> DatasetRun | None:
    query = _runs_select().where(
        dataset_runs.c.project_id == project_id, dataset_runs.c.dataset_id == dataset_id, dataset_runs.c.name == name
    )
    return fetch_one(db, query, _run)


def get_dataset_runs_by_id(db: Db, project_id: str, dataset_id: str, run_ids: Sequence[str]) -> list[DatasetRun]:
    """The dataset's runs among ``run_ids`` (others are left out), in no particular order."""
    query = _runs_select().where(
        dataset_runs.c.project_id == project_id,
        dataset_runs.c.dataset_id == dataset_id,
        dataset_runs.c.id.in_(list(run_ids)),
    )
    return fetch_all(db, query, _run)


def dataset_of_run(db: Db, project_id: str, run_id: str) -> str | None:
    """The id of the dataset a run (by its id) belongs to, or None."""
    query = select(dataset_runs.c.dataset_id).where(
        dataset_runs.c.project_id == project_id, dataset_runs.c.id == run_id
    )
    with connect(db) as conn:
        found = conn.execute(query).scalar()
    return None if found is None else str(found)


def list_dataset_run_items(
    db: Db, project_id: str, dataset_run_id: str, *, page: int = 1, limit: int = 50
) -> Page[DatasetRunItem]:
    check_page(page, limit)
    conditions = (dataset_run_items.c.project_id == project_id, dataset_run_items.c.dataset_run_id == dataset_run_id)
    query = _run_items_select().where(*conditions).order_by(*_newest_first(dataset_run_items))
    return fetch_page(
        db, query, _run_item, page=page, limit=limit, counted=matching_rows(dataset_run_items, conditions)
    )


def run_items_of_run(db: Db, project_id: str, dataset_run_id: str) -> list[DatasetRunItem]:
    """Every run item of a run, newest first (the run object embeds them)."""
    query = (
        _run_items_select()
        .where(dataset_run_items.c.project_id == project_id, dataset_run_items.c.dataset_run_id == dataset_run_id)
        .order_by(*_newest_first(dataset_run_items))
    )
    return fetch_all(db, query, _run_item)


# --- the source of an item: a trace or an observation -----------------------------------------


def source_io(db: Db, project_id: str, trace_id: str, observation_id: str | None = None) -> SourceIO | None:
    """The stored input/output of the project's trace, or of one observation of that trace.

    None when the trace (or the observation within it) is not in the project. The observation is
    looked up within its trace, so a trace id of one request and an observation id of another
    never combine into an item that mixes the two.
    """
    with connect(db) as conn:
        if observation_id is None:
            row = conn.execute(
                select(traces_table.c.input, traces_table.c.output).where(
                    traces_table.c.project_id == project_id, traces_table.c.id == trace_id
                )
            ).first()
        else:
            row = conn.execute(
                select(OBSERVATION_INPUT, OBSERVATION_OUTPUT).where(
                    observations_of_trace(project_id, trace_id), observations.c.id == observation_id
                )
            ).first()
    if row is None:
        return None
    return SourceIO(trace_id=trace_id, observation_id=observation_id, input=row[0], output=row[1])


def trace_of_observation(db: Db, project_id: str, observation_id: str) -> str | None:
    """The trace an observation belongs to: older clients link run items by observation id only."""
    query = select(observations.c.trace_id).where(
        observations.c.project_id == project_id, observations.c.id == observation_id
    )
    with connect(db) as conn:
        trace_id: str | None = conn.execute(query.limit(1)).scalar()
    return trace_id


# --- rows -> records --------------------------------------------------------------------------


def _one_dataset(db: Db, condition: ColumnElement[bool]) -> Dataset | None:
    return fetch_one(db, select(datasets).where(condition), _dataset)


def _newest_first(table: Table) -> tuple[ColumnElement[Any], ...]:
    # Created time, then id: rows created in the same microsecond still page stably.
    return (table.c.created_at_us.desc(), table.c.id.desc())


def _items_select() -> Select[Any]:
    # The dataset's name travels with each item (the reference's item carries datasetName).
    return select(dataset_items, datasets.c.name.label("dataset_name")).join(
        datasets, (datasets.c.project_id == dataset_items.c.project_id) & (datasets.c.id == dataset_items.c.dataset_id)
    )


def _runs_select() -> Select[Any]:
    return select(dataset_runs, datasets.c.name.label("dataset_name")).join(
        datasets, (datasets.c.project_id == dataset_runs.c.project_id) & (datasets.c.id == dataset_runs.c.dataset_id)
    )


def _run_items_select() -> Select[Any]:
    return select(dataset_run_items, dataset_runs.c.name.label("dataset_run_name")).join(
        dataset_runs,
        (dataset_runs.c.project_id == dataset_run_items.c.project_id)
        & (dataset_runs.c.id == dataset_run_items.c.dataset_run_id),
    )


def _dataset(row: Any) -> Dataset:
    return record_from_row(Dataset, row, metadata=load_json(row["metadata"]))


def _item(row: Any) -> DatasetItem:
    return record_from_row(
        DatasetItem,
        row,
        input=load_json(row["input"]),
        expected_output=load_json(row["expected_output"]),
        metadata=load_json(row["metadata"]),
    )


def _run(row: Any) -> DatasetRun:
    return record_from_row(DatasetRun, row, metadata=load_json(row["metadata"]))


def _run_item(row: Any) -> DatasetRunItem:
    return record_from_row(DatasetRunItem, row)
