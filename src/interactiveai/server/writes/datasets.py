"""Datasets written through the public API (and, later, the UI's "Add to dataset" action).

Datasets are upserted by name, items by id, runs by name within their dataset. An item can be
built from a real trace: given ``sourceTraceId`` (and optionally ``sourceObservationId``) without
``input``/``expectedOutput``, the stored input and output of that trace or observation are
copied, as JSON text, byte for byte. The source must then exist in the project; when the client
provides both values itself, the link is kept without a lookup, since spans are exported
asynchronously and may not have arrived yet.

Every write of an item also records the state it leaves in ``dataset_item_versions`` (closing
the previous one), in the same transaction, so items can be read as they stood at any time; a
deleted item's last state stays there. Metadata that was not given is stored as JSON ``null``
and read back as null, as the reference API answers.

Bodies are validated here, one rule per message (InvalidInputError, a 400); a dataset, item or
source that the project does not have raises NotFoundError (a 404).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Table, Update, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from interactiveai.server import json_values
from interactiveai.server.clock import now_us
from interactiveai.server.query.datasets import (
    ITEM_STATUSES,
    Dataset,
    DatasetItem,
    DatasetRun,
    DatasetRunItem,
    get_dataset,
    get_dataset_item,
    get_dataset_run,
    source_io,
    trace_of_observation,
)
from interactiveai.server.storage.schema import (
    dataset_item_versions,
    dataset_items,
    dataset_run_items,
    dataset_runs,
    datasets,
)
from interactiveai.server.writes.errors import MAX_ID, InvalidInputError, json_text, optional_str, optional_text

MAX_NAME = 200  # the width of the name columns
NO_METADATA = "null"  # stored when none was given: read back as null, not as {}

T = TypeVar("T")


class NotFoundError(LookupError):
    """A dataset, item, run or source trace that the project does not have."""

    def __init__(self, what: str, key: str) -> None:
        super().__init__(f"{what} {key} not found")
        self.what = what
        self.key = key


def upsert_dataset(engine: Engine, project_id: str, body: Mapping[str, Any]) -> Dataset:
    """Create the dataset, or update the description/metadata given of the one with that name."""
    body = _object(body, "the dataset")
    name = _required_str(body, "name", MAX_NAME)
    changes = _optional_fields(body, description="description", metadata="metadata")

    def write(conn: Connection) -> Dataset:
        existing = get_dataset(conn, project_id, name)
        _insert_or_update(
            conn, datasets, project_id, None if existing is None else existing.id, {"name": name}, changes
        )
        dataset = get_dataset(conn, project_id, name)
        assert dataset is not None  # written just above, in this transaction
        return dataset

    return _retrying(engine, write)


def upsert_dataset_item(engine: Engine, project_id: str, body: Mapping[str, Any]) -> DatasetItem:
    """Create an item in the named dataset, or update the project's item with the given id.

    On update, fields absent from the body keep their values. Input and expected output are
    copied from the source trace/observation when absent, for a new item or a changed source.
    """
    body = _object(body, "the dataset item")
    dataset_name = _required_str(body, "datasetName", MAX_NAME)
    item_id = optional_str(body, "id", MAX_ID)
    source_trace_id = optional_str(body, "sourceTraceId", MAX_ID)
    source_observation_id = optional_str(body, "sourceObservationId", MAX_ID)
    if source_observation_id and not source_trace_id:
        raise InvalidInputError("sourceObservationId requires sourceTraceId")
    status = _status(body)
    values = _optional_fields(body, input="input", expectedOutput="expected_output", metadata="metadata")
    if status is not None:
        values["status"] = status
    if "sourceTraceId" in body:
        values["source_trace_id"] = source_trace_id
        values["source_observation_id"] = source_observation_id

    def write(conn: Connection) -> DatasetItem:
        dataset = get_dataset(conn, project_id, dataset_name)
        if dataset is None:
            raise NotFoundError("Dataset", dataset_name)
        existing = get_dataset_item(conn, project_id, item_id) if item_id else None
        if existing is not None and existing.dataset_id != dataset.id:
            # Ids are unique per project and an item never moves: its run results belong to its dataset.
            raise InvalidInputError(
                f"item {item_id} belongs to dataset {existing.dataset_name!r}; ids cannot be reused"
            )
        row = dict(values)
        source_changed = existing is None or (
            (existing.source_trace_id, existing.source_observation_id) != (source_trace_id, source_observation_id)
        )
        if source_trace_id and source_changed and ("input" not in row or "expected_output" not in row):
            source = source_io(conn, project_id, source_trace_id, source_observation_id)
            if source is None:
                if source_observation_id:
                    raise NotFoundError("Observation", f"{source_observation_id} of trace {source_trace_id}")
                raise NotFoundError("Trace", source_trace_id)
            # copied as stored, unless an older version stored JSON too deep to read back
            row.setdefault("input", None if source.input is None else json_values.stored_text(source.input))
            row.setdefault("expected_output", None if source.output is None else json_values.stored_text(source.output))
        written_id = item_id or str(uuid.uuid4())
        now = now_us()
        if existing is None:
            defaults = {"status": "ACTIVE", "metadata": NO_METADATA}
            conn.execute(
                insert(dataset_items).values(
                    project_id=project_id,
                    id=written_id,
                    dataset_id=dataset.id,
                    created_at_us=now,
                    updated_at_us=now,
                    **{**defaults, **row},
                )
            )
        else:
            conn.execute(_item_row(project_id, written_id).values(updated_at_us=now, **row))
        _record_version(conn, project_id, written_id, now, new=existing is None)
        item = get_dataset_item(conn, project_id, written_id)
        assert item is not None  # written just above, in this transaction
        return item

    # a concurrent request creating the same id first: the second run finds and updates it
    return _retrying(engine, write)


def create_item_from_trace(
    engine: Engine,
    project_id: str,
    dataset_name: str,
    trace_id: str,
    observation_id: str | None = None,
    *,
    metadata: Mapping[str, Any] | None = None,
) -> DatasetItem:
    """Add a trace (or one of its observations) to a dataset: its input and output become the
    item's input and expected output. Raises NotFoundError for an unknown dataset or source."""
    body: dict[str, Any] = {"datasetName": dataset_name, "sourceTraceId": trace_id}
    if observation_id is not None:
        body["sourceObservationId"] = observation_id
    if metadata is not None:
        body["metadata"] = dict(metadata)
    return upsert_dataset_item(engine, project_id, body)


def delete_dataset_item(engine: Engine, project_id: str, item_id: str) -> bool:
    """Delete one of the project's items with its run items; False if it has none with that id.
    Its history stays: it is listed as it stood at any earlier time."""
    with engine.begin() as conn:
        conn.execute(
            delete(dataset_run_items).where(
                dataset_run_items.c.project_id == project_id, dataset_run_items.c.dataset_item_id == item_id
            )
        )
        result = conn.execute(
            delete(dataset_items).where(dataset_items.c.project_id == project_id, dataset_items.c.id == item_id)
        )
        if result.rowcount:
            _close_version(conn, project_id, item_id, _version_time(conn, project_id, item_id, now_us()))
    return result.rowcount > 0


def create_run_item(engine: Engine, project_id: str, body: Mapping[str, Any]) -> DatasetRunItem:
    """Link a dataset item to the trace an experiment run produced for it.

    The run is created by name in the item's dataset when it does not exist yet (its description
    and metadata are updated when given). Posting the same link again returns the existing run
    item, so an SDK retry does not count an item twice.
    """
    body = _object(body, "the dataset run item")
    run_name = _required_str(body, "runName", MAX_NAME)
    item_id = _required_str(body, "datasetItemId", MAX_ID)
    trace_id = optional_str(body, "traceId", MAX_ID)
    observation_id = optional_str(body, "observationId", MAX_ID)
    run_changes = _optional_fields(body, runDescription="description", metadata="metadata")

    def write(conn: Connection) -> DatasetRunItem:
        item = get_dataset_item(conn, project_id, item_id)
        if item is None:
            raise NotFoundError("Dataset item", item_id)
        linked_trace = trace_id
        if linked_trace is None and observation_id is not None:
            # Older clients send only the observation; its trace is looked up.
            linked_trace = trace_of_observation(conn, project_id, observation_id)
        if linked_trace is None:
            raise InvalidInputError("traceId is required (or the observationId of a stored observation)")
        run = _run_for(conn, project_id, item.dataset_id, run_name, run_changes)
        match = (
            dataset_run_items.c.project_id == project_id,
            dataset_run_items.c.dataset_run_id == run.id,
            dataset_run_items.c.dataset_item_id == item.id,
            dataset_run_items.c.trace_id == linked_trace,
            dataset_run_items.c.observation_id.is_(None)
            if observation_id is None
            else dataset_run_items.c.observation_id == observation_id,
        )
        found = conn.execute(select(dataset_run_items).where(*match)).mappings().first()
        row: dict[str, Any]
        if found is not None:
            row = dict(found)
        else:
            values: dict[str, Any] = {
                "project_id": project_id,
                "id": str(uuid.uuid4()),
                "dataset_run_id": run.id,
                "dataset_item_id": item.id,
                "trace_id": linked_trace,
                "observation_id": observation_id,
                "created_at_us": now_us(),
            }
            conn.execute(insert(dataset_run_items).values(**values))
            row = values
        return DatasetRunItem(
            id=row["id"],
            project_id=project_id,
            dataset_run_id=run.id,
            dataset_run_name=run.name,
            dataset_item_id=item.id,
            trace_id=row["trace_id"],
            observation_id=row["observation_id"],
            created_at_us=row["created_at_us"],
        )

    return _retrying(engine, write)


def delete_dataset_run(engine: Engine, project_id: str, dataset_name: str, run_name: str) -> bool:
    """Delete a run of the named dataset with its run items; False if there is no such run."""
    with engine.begin() as conn:
        dataset = get_dataset(conn, project_id, dataset_name)
        run = get_dataset_run(conn, project_id, dataset.id, run_name) if dataset else None
        if run is None:
            return False
        conn.execute(
            delete(dataset_run_items).where(
                dataset_run_items.c.project_id == project_id, dataset_run_items.c.dataset_run_id == run.id
            )
        )
        conn.execute(delete(dataset_runs).where(dataset_runs.c.project_id == project_id, dataset_runs.c.id == run.id))
    return True


def delete_dataset(engine: Engine, project_id: str, name: str) -> bool:
    """Delete a dataset with its items, runs and run items (for the UI; the reference API has no
    such endpoint). False if the project has no dataset with that name."""
    with engine.begin() as conn:
        dataset = get_dataset(conn, project_id, name)
        if dataset is None:
            return False
        runs = select(dataset_runs.c.id).where(
            dataset_runs.c.project_id == project_id, dataset_runs.c.dataset_id == dataset.id
        )
        conn.execute(
            delete(dataset_run_items).where(
                dataset_run_items.c.project_id == project_id, dataset_run_items.c.dataset_run_id.in_(runs)
            )
        )
        for table in (dataset_runs, dataset_items, dataset_item_versions):
            conn.execute(delete(table).where(table.c.project_id == project_id, table.c.dataset_id == dataset.id))
        conn.execute(delete(datasets).where(datasets.c.project_id == project_id, datasets.c.id == dataset.id))
    return True


def _run_for(conn: Connection, project_id: str, dataset_id: str, name: str, changes: Mapping[str, Any]) -> DatasetRun:
    run = get_dataset_run(conn, project_id, dataset_id, name)
    if run is not None and not changes:
        return run
    keys = {"dataset_id": dataset_id, "name": name}
    _insert_or_update(conn, dataset_runs, project_id, None if run is None else run.id, keys, changes)
    created = get_dataset_run(conn, project_id, dataset_id, name)
    assert created is not None  # written just above, in this transaction
    return created


def _insert_or_update(
    conn: Connection,
    table: Table,
    project_id: str,
    existing_id: str | None,
    keys: Mapping[str, Any],
    changes: Mapping[str, Any],
) -> None:
    """Insert a new named row (a dataset or a run: ``keys`` plus the description/metadata
    ``changes``), or apply ``changes`` to the existing row with that id (nothing when none)."""
    now = now_us()
    if existing_id is None:
        conn.execute(
            insert(table).values(
                project_id=project_id,
                id=str(uuid.uuid4()),
                **keys,
                description=changes.get("description"),
                metadata=changes.get("metadata", NO_METADATA),
                created_at_us=now,
                updated_at_us=now,
            )
        )
    elif changes:
        conn.execute(
            update(table)
            .where(table.c.project_id == project_id, table.c.id == existing_id)
            .values(updated_at_us=now, **changes)
        )


def _item_row(project_id: str, item_id: str) -> Update:
    return update(dataset_items).where(dataset_items.c.project_id == project_id, dataset_items.c.id == item_id)


def _version_time(conn: Connection, project_id: str, item_id: str, now: int) -> int:
    """``now``, or just after the item's latest version when the clock has not moved past it (two
    writes in one microsecond, a clock step back): versions of an item never share a start. Read
    after this transaction's first write, which holds the item (PostgreSQL's row lock, SQLite's
    write lock), so a concurrent write of the item has committed its version or waits."""
    latest = conn.execute(
        select(func.max(dataset_item_versions.c.valid_from_us)).where(
            dataset_item_versions.c.project_id == project_id, dataset_item_versions.c.item_id == item_id
        )
    ).scalar()
    return now if latest is None or now > latest else int(latest) + 1


def _close_version(conn: Connection, project_id: str, item_id: str, at_us: int) -> None:
    conn.execute(
        update(dataset_item_versions)
        .where(
            dataset_item_versions.c.project_id == project_id,
            dataset_item_versions.c.item_id == item_id,
            dataset_item_versions.c.valid_to_us.is_(None),
        )
        .values(valid_to_us=at_us)
    )


def _record_version(conn: Connection, project_id: str, item_id: str, written_us: int, *, new: bool) -> None:
    """Close the item's current version and add its state as just written (at ``written_us``,
    moved past the latest version when needed, the item's times with it)."""
    at = _version_time(conn, project_id, item_id, written_us)
    if at != written_us:
        conn.execute(_item_row(project_id, item_id).values(updated_at_us=at, **({"created_at_us": at} if new else {})))
    _close_version(conn, project_id, item_id, at)
    copied = [c for c in dataset_item_versions.c if c.name not in ("item_id", "valid_from_us", "valid_to_us")]
    state = select(*(dataset_items.c[c.name] for c in copied), dataset_items.c.id, dataset_items.c.updated_at_us).where(
        dataset_items.c.project_id == project_id, dataset_items.c.id == item_id
    )
    conn.execute(
        insert(dataset_item_versions).from_select([*(c.name for c in copied), "item_id", "valid_from_us"], state)
    )


def _retrying(engine: Engine, write: Callable[[Connection], T]) -> T:
    """Run a create-by-name write; when a concurrent request created the same name first (a
    unique-constraint race), run it once more, and it then finds and updates that row."""
    try:
        with engine.begin() as conn:
            return write(conn)
    except IntegrityError:
        with engine.begin() as conn:
            return write(conn)


# --- validation -------------------------------------------------------------------------------


def _object(body: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(body, Mapping):
        raise InvalidInputError(f"{what} must be a JSON object")
    return body


def _optional_fields(body: Mapping[str, Any], **columns: str) -> dict[str, Any]:
    """The given JSON fields as column values: ``description`` a string, anything else any JSON
    value stored as JSON text (metadata too: the reference accepts any JSON there, and clients
    send lists and strings). Absent keys are left out, so an update changes only what was sent."""
    values: dict[str, Any] = {}
    for key, column in columns.items():
        if key not in body:
            continue
        value = body[key]
        if column == "metadata":
            values[column] = NO_METADATA if value is None else json_text(key, value)
        elif column == "description":
            values[column] = optional_text(body, key)
        else:
            values[column] = None if value is None else json_text(key, value)
    return values


def _status(body: Mapping[str, Any]) -> str | None:
    value = body.get("status")
    if value is None:
        return None
    status = str(value).upper() if isinstance(value, str) else ""
    if status not in ITEM_STATUSES:
        raise InvalidInputError(f"status must be one of {', '.join(ITEM_STATUSES)}")
    return status


def _required_str(body: Mapping[str, Any], key: str, max_length: int) -> str:
    value = optional_str(body, key, max_length)
    if value is None:
        raise InvalidInputError(f"{key} is required")
    return value
