"""Experiment runs recorded by span attributes: the peer SDK's 5.x release links the items of a
dataset experiment to its run only through ``langfuse.experiment.*`` attributes (earlier releases
also call ``POST /dataset-run-items``).

The span whose id is ``langfuse.experiment.item.root_observation_id`` (the item's task span)
links the dataset item ``langfuse.experiment.item.id`` to the run ``langfuse.experiment.id`` named
``langfuse.experiment.name`` in dataset ``langfuse.experiment.dataset.id``: the run is created
with that id (the SDK derives it and scores the run under it), or found by its name in the
dataset; the run item points at the span's trace and the span. Links are written after the spans
are committed, once each (a re-sent export finds its links in place). An experiment on local data
(no dataset), or naming an item that is not in that dataset of the project, links nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

import orjson
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.engine import Connection

from interactiveai.server.clock import now_us
from interactiveai.server.storage.schema import dataset_items, dataset_run_items, dataset_runs

PREFIX = "langfuse.experiment."
MAX_ID, MAX_NAME = 64, 200


@dataclass(frozen=True, slots=True)
class ExperimentLink:
    run_id: str
    run_name: str
    dataset_id: str
    item_id: str
    trace_id: str
    observation_id: str
    description: str | None
    metadata: str | None  # JSON object text


def experiment_link(span_id: str, trace_id: str, attributes: Mapping[str, Any]) -> ExperimentLink | None:
    """The link an item's root span declares, or None (any other span, or an incomplete one)."""
    if attributes.get(PREFIX + "item.root_observation_id") != span_id:
        return None
    run_id, dataset_id, item_id = (attributes.get(PREFIX + k) for k in ("id", "dataset.id", "item.id"))
    if not (_an_id(run_id) and _an_id(dataset_id) and _an_id(item_id)):
        return None
    name = attributes.get(PREFIX + "name")
    name = name if isinstance(name, str) and name else run_id
    description = attributes.get(PREFIX + "description")
    return ExperimentLink(
        run_id=run_id,
        run_name=name[:MAX_NAME],
        dataset_id=dataset_id,
        item_id=item_id,
        trace_id=trace_id,
        observation_id=span_id,
        description=description if isinstance(description, str) else None,
        metadata=_json_object(attributes.get(PREFIX + "metadata")),
    )


def _an_id(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and 0 < len(value) <= MAX_ID


def record_links(engine: Engine, project_id: str, links: Sequence[ExperimentLink]) -> int:
    """Write the runs and run items ``links`` declare; returns how many run items were new."""
    written = 0
    with engine.begin() as conn:
        for link in links:
            written += _record(conn, project_id, link)
    return written


def _record(conn: Connection, project_id: str, link: ExperimentLink) -> int:
    item = conn.execute(
        select(dataset_items.c.dataset_id).where(
            dataset_items.c.project_id == project_id, dataset_items.c.id == link.item_id
        )
    ).first()
    if item is None or item.dataset_id != link.dataset_id:
        return 0
    run_id = _run_id(conn, project_id, link)
    exists = conn.execute(
        select(dataset_run_items.c.id).where(
            dataset_run_items.c.project_id == project_id,
            dataset_run_items.c.dataset_run_id == run_id,
            dataset_run_items.c.dataset_item_id == link.item_id,
            dataset_run_items.c.trace_id == link.trace_id,
            dataset_run_items.c.observation_id == link.observation_id,
        )
    ).first()
    if exists is not None:
        return 0
    conn.execute(
        insert(dataset_run_items).values(
            project_id=project_id,
            id=str(uuid.uuid4()),
            dataset_run_id=run_id,
            dataset_item_id=link.item_id,
            trace_id=link.trace_id,
            observation_id=link.observation_id,
            created_at_us=now_us(),
        )
    )
    return 1


def _run_id(conn: Connection, project_id: str, link: ExperimentLink) -> str:
    """The run of ``link``: by its name in the dataset, else new under the experiment's id."""
    runs = dataset_runs.c
    found = conn.execute(
        select(runs.id, runs.description, runs.metadata).where(
            runs.project_id == project_id, runs.dataset_id == link.dataset_id, runs.name == link.run_name
        )
    ).first()
    now = now_us()
    if found is not None:
        changes = {}
        if link.description is not None and found.description != link.description:
            changes["description"] = link.description
        if link.metadata is not None and found.metadata != link.metadata:
            changes["metadata"] = link.metadata
        if changes:
            conn.execute(
                update(dataset_runs)
                .where(runs.project_id == project_id, runs.id == found.id)
                .values(updated_at_us=now, **changes)
            )
        return str(found.id)
    taken = conn.execute(select(runs.id).where(runs.project_id == project_id, runs.id == link.run_id)).first()
    run_id = str(uuid.uuid4()) if taken is not None else link.run_id  # the id names a run of another dataset
    conn.execute(
        insert(dataset_runs).values(
            project_id=project_id,
            id=run_id,
            dataset_id=link.dataset_id,
            name=link.run_name,
            description=link.description,
            metadata=link.metadata or "null",
            created_at_us=now,
            updated_at_us=now,
        )
    )
    return run_id


def _json_object(value: Any) -> str | None:
    """Experiment metadata as stored: a JSON object's text, or None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        parsed = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    return orjson.dumps(parsed).decode() if isinstance(parsed, dict) else None
