"""The reference API's cursor lists: v2 observations, v3 scores, experiments and their items.

Each reads one keyset page (``cursors.py``) newest first; the API modules check the parameters
and shape the JSON. An experiment is a dataset run with at least one run item, active as late as
its latest item; an experiment item is a run item with its run, its dataset item and its time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select

from interactiveai.server.json_values import bound_key
from interactiveai.server.query._db import Db, connect
from interactiveai.server.query.cursors import Cursor, CursorPage, after, fetch_cursor_page
from interactiveai.server.query.filters import ObservationFilter
from interactiveai.server.query.observations import page_order
from interactiveai.server.query.records import Observation, Score, observation_from_row, score_from_row
from interactiveai.server.storage.payload_sharing import OBSERVATION_COLUMNS
from interactiveai.server.storage.schema import (
    dataset_items,
    dataset_run_items,
    dataset_runs,
    observations,
    scores,
    traces,
)


def observations_page(
    db: Db,
    project_id: str,
    filters: ObservationFilter,
    *,
    session_id: str | None,
    is_root: bool | None,
    cursor: Cursor | None,
    limit: int,
) -> CursorPage[Observation]:
    with connect(db) as conn:
        # a few traces' observations are read by primary key, not by walking the project's time index
        start_time, conditions = page_order(conn, project_id, filters, session_id=session_id)
        if is_root is not None:
            parent = observations.c.parent_observation_id
            conditions.append(parent.is_(None) if is_root else parent.is_not(None))
        conditions += after(start_time, observations.c.id, cursor)
        query = select(*OBSERVATION_COLUMNS).where(*conditions).order_by(start_time.desc(), observations.c.id.desc())
        return fetch_cursor_page(conn, query, observation_from_row, lambda o: (o.start_time_us, o.id), limit=limit)


def trace_facts(db: Db, project_id: str, trace_ids: set[str]) -> dict[str, dict[str, Any]]:
    """User, session, name, tags (JSON text) and release of the given traces, by id."""
    if not trace_ids:
        return {}
    columns = (traces.c.id, traces.c.user_id, traces.c.session_id, traces.c.name, traces.c.tags, traces.c.release)
    query = select(*columns).where(traces.c.project_id == project_id, traces.c.id.in_(sorted(trace_ids)))
    with connect(db) as conn:
        return {row["id"]: dict(row) for row in conn.execute(query).mappings()}


@dataclass(frozen=True, slots=True)
class ScoreList:
    """Filters of the v3 score list: each a list of accepted values (empty: any)."""

    ids: Sequence[str] = ()
    names: Sequence[str] = ()
    sources: Sequence[str] = ()  # upper case
    data_types: Sequence[str] = ()
    environments: Sequence[str] = ()
    config_ids: Sequence[str] = ()
    author_user_ids: Sequence[str] = ()
    trace_ids: Sequence[str] = ()
    session_ids: Sequence[str] = ()
    observation_ids: Sequence[str] = ()
    run_ids: Sequence[str] = ()
    labels: Sequence[str] = ()  # categorical values
    numbers: Sequence[float] = ()  # numeric (or boolean 1/0) values
    value_min: float | None = None
    value_max: float | None = None
    from_us: int | None = None
    to_us: int | None = None
    in_queue: bool = False  # scores of an annotation queue: none here has one


def scores_page(db: Db, project_id: str, f: ScoreList, *, cursor: Cursor | None, limit: int) -> CursorPage[Score]:
    c = scores.c
    conditions: list[ColumnElement[bool]] = [c.project_id == project_id]
    for column, values in (
        (c.id, f.ids),
        (c.name, [bound_key(n) for n in f.names]),
        (func.upper(c.source), f.sources),
        (c.data_type, f.data_types),
        (c.environment, f.environments),
        (c.config_id, f.config_ids),
        (c.author_user_id, f.author_user_ids),
        (c.trace_id, f.trace_ids),
        (c.session_id, [bound_key(s) for s in f.session_ids]),
        (c.observation_id, f.observation_ids),
        (c.dataset_run_id, f.run_ids),
        (c.string_value, f.labels),
        (c.value, f.numbers),
    ):
        if values:
            conditions.append(column.in_(list(values)))
    if f.in_queue:
        conditions.append(c.id.is_(None))
    if f.value_min is not None:
        conditions.append(c.value >= f.value_min)
    if f.value_max is not None:
        conditions.append(c.value <= f.value_max)
    if f.from_us is not None:
        conditions.append(c.timestamp_us >= f.from_us)
    if f.to_us is not None:
        conditions.append(c.timestamp_us < f.to_us)
    conditions += after(c.timestamp_us, c.id, cursor)
    query = select(scores).where(*conditions).order_by(c.timestamp_us.desc(), c.id.desc())
    return fetch_cursor_page(db, query, score_from_row, lambda s: (s.timestamp_us, s.id), limit=limit)


def scores_of(
    db: Db, project_id: str, *, trace_id: str | None = None, run_id: str | None = None, limit: int
) -> list[Score]:
    """The newest ``limit`` scores on a trace (and its observations) or on a dataset run."""
    target = scores.c.trace_id == trace_id if trace_id is not None else scores.c.dataset_run_id == run_id
    query = (
        select(scores)
        .where(scores.c.project_id == project_id, target)
        .order_by(scores.c.timestamp_us.desc(), scores.c.id.desc())
        .limit(limit)
    )
    with connect(db) as conn:
        return [score_from_row(row) for row in conn.execute(query).mappings()]


@dataclass(frozen=True, slots=True)
class ExperimentList:
    since_us: int
    until_us: int | None = None
    run_ids: Sequence[str] = ()
    run_names: Sequence[str] = ()
    dataset_ids: Sequence[str] = ()
    item_ids: Sequence[str] = ()  # experiment items only


def experiments_page(
    db: Db, project_id: str, f: ExperimentList, *, cursor: Cursor | None, limit: int
) -> CursorPage[dict[str, Any]]:
    """Runs with ``item_count`` and ``last_us`` (their latest item), latest activity first."""
    items = (
        select(
            dataset_run_items.c.dataset_run_id.label("run_id"),
            func.count().label("item_count"),
            func.max(dataset_run_items.c.created_at_us).label("last_us"),
        )
        .where(dataset_run_items.c.project_id == project_id)
        .group_by(dataset_run_items.c.dataset_run_id)
        .subquery()
    )
    runs = dataset_runs.c
    conditions: list[ColumnElement[bool]] = [runs.project_id == project_id, items.c.last_us >= f.since_us]
    if f.until_us is not None:
        conditions.append(runs.created_at_us < f.until_us)
    for column, values in ((runs.id, f.run_ids), (runs.name, f.run_names), (runs.dataset_id, f.dataset_ids)):
        if values:
            conditions.append(column.in_(list(values)))
    conditions += after(items.c.last_us, runs.id, cursor)
    query = (
        select(dataset_runs, items.c.item_count, items.c.last_us)
        .join(items, items.c.run_id == runs.id)
        .where(*conditions)
        .order_by(items.c.last_us.desc(), runs.id.desc())
    )
    return fetch_cursor_page(db, query, dict, lambda r: (r["last_us"], r["id"]), limit=limit)


def experiment_items_page(
    db: Db, project_id: str, f: ExperimentList, *, cursor: Cursor | None, limit: int
) -> CursorPage[dict[str, Any]]:
    """Run items with their run's name, dataset, description and metadata, and their dataset
    item's expected output and metadata; newest linked first."""
    run_items, runs, ds_items = dataset_run_items.c, dataset_runs.c, dataset_items.c
    conditions: list[ColumnElement[bool]] = [run_items.project_id == project_id, run_items.created_at_us >= f.since_us]
    if f.until_us is not None:
        conditions.append(run_items.created_at_us < f.until_us)
    for column, values in (
        (run_items.dataset_run_id, f.run_ids),
        (runs.name, f.run_names),
        (run_items.dataset_item_id, f.item_ids),
        (runs.dataset_id, f.dataset_ids),
    ):
        if values:
            conditions.append(column.in_(list(values)))
    conditions += after(run_items.created_at_us, run_items.id, cursor)
    query = (
        select(
            dataset_run_items,
            runs.name.label("run_name"),
            runs.dataset_id,
            runs.description.label("run_description"),
            runs.metadata.label("run_metadata"),
            ds_items.expected_output,
            ds_items.metadata.label("item_metadata"),
        )
        .join(dataset_runs, (runs.project_id == run_items.project_id) & (runs.id == run_items.dataset_run_id))
        .join(dataset_items, (ds_items.project_id == run_items.project_id) & (ds_items.id == run_items.dataset_item_id))
        .where(*conditions)
        .order_by(run_items.created_at_us.desc(), run_items.id.desc())
    )
    return fetch_cursor_page(db, query, dict, lambda r: (r["created_at_us"], r["id"]), limit=limit)
