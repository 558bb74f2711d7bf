from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from interactiveai.server.query import datasets as q
from interactiveai.server.storage.schema import metadata
from interactiveai.server.writes.datasets import create_run_item, upsert_dataset, upsert_dataset_item
from tests.server.query.seed import add_observation, add_trace, obs_id, trace_id

DATASET_TABLES = {"datasets", "dataset_items", "dataset_runs", "dataset_run_items"}


def _tables_of(diff: Any) -> set[str]:
    """The table names a (possibly nested) autogenerate diff entry touches."""
    if isinstance(diff, list):
        return set().union(*(_tables_of(d) for d in diff)) if diff else set()
    names: set[str] = set()
    for part in diff:
        table = getattr(part, "table", None)
        if getattr(part, "name", None) in DATASET_TABLES or (table is not None and table.name in DATASET_TABLES):
            names.add(getattr(part, "name", None) or table.name)
        if isinstance(part, str) and part in DATASET_TABLES:
            names.add(part)
    return names


def test_migration_0003_matches_the_schema(engine: Any) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, metadata)
    assert not _tables_of(diff), diff


def test_datasets_page_newest_first_with_meta(engine: Any, project: Any, other_project: Any) -> None:
    for n in range(5):
        upsert_dataset(engine, project.id, {"name": f"ds-{n}"})
    upsert_dataset(engine, other_project.id, {"name": "theirs"})
    first = q.list_datasets(engine, project.id, page=1, limit=2)
    assert first.total == 5 and first.total_pages == 3 and len(first.items) == 2
    names = [d.name for page in (1, 2, 3) for d in q.list_datasets(engine, project.id, page=page, limit=2).items]
    assert sorted(names) == [f"ds-{n}" for n in range(5)] and len(set(names)) == 5
    assert names[0] == "ds-4"
    assert q.get_dataset(engine, project.id, "theirs") is None
    theirs = q.get_dataset(engine, other_project.id, "theirs")
    assert theirs is not None and q.get_dataset_by_id(engine, project.id, theirs.id) is None
    with pytest.raises(ValueError, match="page"):
        q.list_datasets(engine, project.id, page=0)


def test_items_filter_by_dataset_source_and_status(engine: Any, project: Any, other_project: Any) -> None:
    a = upsert_dataset(engine, project.id, {"name": "a"})
    b = upsert_dataset(engine, project.id, {"name": "b"})
    upsert_dataset_item(
        engine, project.id, {"datasetName": "a", "id": "a1", "input": 1, "sourceTraceId": "t1", "expectedOutput": 0}
    )
    upsert_dataset_item(
        engine,
        project.id,
        {
            "datasetName": "a",
            "id": "a2",
            "input": 2,
            "expectedOutput": 0,
            "sourceTraceId": "t1",
            "sourceObservationId": "o1",
        },
    )
    upsert_dataset_item(engine, project.id, {"datasetName": "b", "id": "b1", "input": 3, "status": "ARCHIVED"})
    upsert_dataset(engine, other_project.id, {"name": "a"})
    upsert_dataset_item(engine, other_project.id, {"datasetName": "a", "id": "x1", "input": 4})

    def ids(**filters: Any) -> list[str]:
        return sorted(i.id for i in q.list_dataset_items(engine, project.id, **filters).items)

    assert ids() == ["a1", "a2", "b1"]
    assert ids(dataset_id=a.id) == ["a1", "a2"] and ids(dataset_id=b.id) == ["b1"]
    assert ids(source_trace_id="t1") == ["a1", "a2"] and ids(source_observation_id="o1") == ["a2"]
    assert ids(status="ARCHIVED") == ["b1"]
    page = q.list_dataset_items(engine, project.id, page=2, limit=2)
    assert page.total == 3 and page.total_pages == 2 and len(page.items) == 1
    with pytest.raises(ValueError, match="status"):
        q.list_dataset_items(engine, project.id, status="DONE")
    assert sorted(q.item_ids_by_dataset(engine, project.id, [a.id, b.id])[a.id]) == ["a1", "a2"]
    assert q.item_ids_by_dataset(engine, project.id, []) == {}
    assert [i.id for i in q.items_of_dataset(engine, project.id, b.id)] == ["b1"]
    assert q.get_dataset_item(engine, project.id, "x1") is None
    item = q.get_dataset_item(engine, project.id, "a2")
    assert item is not None and item.dataset_name == "a" and item.input == 2


def test_runs_and_run_items(engine: Any, project: Any, other_project: Any) -> None:
    ds = upsert_dataset(engine, project.id, {"name": "ds"})
    item = upsert_dataset_item(engine, project.id, {"datasetName": "ds", "input": 1})
    for run in ("r1", "r2", "r3"):
        create_run_item(engine, project.id, {"runName": run, "datasetItemId": item.id, "traceId": trace_id(1)})
    create_run_item(
        engine, project.id, {"runName": "r1", "datasetItemId": item.id, "traceId": trace_id(2), "observationId": "o"}
    )
    runs = q.list_dataset_runs(engine, project.id, ds.id, page=1, limit=2)
    assert runs.total == 3 and runs.total_pages == 2 and runs.items[0].dataset_name == "ds"
    assert q.run_names_by_dataset(engine, project.id, [ds.id])[ds.id][0] == "r3"
    r1 = q.get_dataset_run(engine, project.id, ds.id, "r1")
    assert r1 is not None
    items = q.list_dataset_run_items(engine, project.id, r1.id, page=1, limit=1)
    assert items.total == 2 and items.items[0].dataset_run_name == "r1"
    assert {ri.trace_id for ri in q.run_items_of_run(engine, project.id, r1.id)} == {trace_id(1), trace_id(2)}
    assert q.get_dataset_run(engine, other_project.id, ds.id, "r1") is None
    assert q.list_dataset_run_items(engine, other_project.id, r1.id).total == 0


def test_source_io_reads_the_trace_or_an_observation_of_it(engine: Any, project: Any, other_project: Any) -> None:
    add_trace(engine, project.id, trace_id(1), input={"q": 1}, output={"a": 2})
    add_trace(engine, project.id, trace_id(2))
    add_observation(engine, project.id, trace_id(1), obs_id(1), input="[1]", output=None)
    trace_io = q.source_io(engine, project.id, trace_id(1))
    assert trace_io is not None and trace_io.input == '{"q": 1}' and trace_io.output == '{"a": 2}'
    obs_io = q.source_io(engine, project.id, trace_id(1), obs_id(1))
    assert obs_io is not None and obs_io.input == "[1]" and obs_io.output is None
    assert q.source_io(engine, project.id, trace_id(2), obs_id(1)) is None  # not an observation of that trace
    assert q.source_io(engine, other_project.id, trace_id(1)) is None
    assert q.trace_of_observation(engine, project.id, obs_id(1)) == trace_id(1)
    assert q.trace_of_observation(engine, other_project.id, obs_id(1)) is None
