from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select

from interactiveai.server.query import datasets as q
from interactiveai.server.storage.schema import dataset_item_versions
from interactiveai.server.writes.datasets import (
    NotFoundError,
    create_item_from_trace,
    create_run_item,
    delete_dataset,
    delete_dataset_item,
    delete_dataset_run,
    upsert_dataset,
    upsert_dataset_item,
)
from interactiveai.server.writes.errors import InvalidInputError
from tests.server.query.seed import add_observation, add_trace, obs_id, trace_id


def seed_trace(engine: Any, project_id: str) -> tuple[str, str]:
    tid, oid = trace_id(1), obs_id(1)
    add_trace(engine, project_id, tid, input={"question": "2+2?"}, output={"answer": "4"})
    add_observation(engine, project_id, tid, oid, input=[{"role": "user", "content": "hi"}], output={"text": "hello"})
    return tid, oid


def test_upsert_dataset_by_name_keeps_id_and_changes_only_what_is_given(engine: Any, project: Any) -> None:
    first = upsert_dataset(engine, project.id, {"name": "eval/qa", "description": "d", "metadata": {"a": 1}})
    again = upsert_dataset(engine, project.id, {"name": "eval/qa", "metadata": {"b": 2}})
    assert again.id == first.id and again.description == "d" and again.metadata == {"b": 2}
    assert again.updated_at_us >= first.updated_at_us and again.created_at_us == first.created_at_us
    untouched = upsert_dataset(engine, project.id, {"name": "eval/qa"})
    assert untouched == again


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "name is required"),
        ({"name": 3}, "name must be a string"),
        ({"name": "x" * 201}, "name must be at most 200 characters"),
        ({"name": "n", "metadata": 2**70}, "metadata cannot be stored as JSON"),
        ({"name": "n", "description": 5}, "description must be a string"),
        ([], "the dataset must be a JSON object"),
    ],
)
def test_dataset_validation(engine: Any, project: Any, body: Any, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        upsert_dataset(engine, project.id, body)


def test_item_copies_trace_io_as_stored(engine: Any, project: Any) -> None:
    tid, _ = seed_trace(engine, project.id)
    upsert_dataset(engine, project.id, {"name": "ds"})
    item = create_item_from_trace(engine, project.id, "ds", tid, metadata={"picked": "by hand"})
    assert item.input == {"question": "2+2?"} and item.expected_output == {"answer": "4"}
    assert item.source_trace_id == tid and item.source_observation_id is None
    assert item.status == "ACTIVE" and item.metadata == {"picked": "by hand"} and item.dataset_name == "ds"


def test_item_copies_observation_io_and_keeps_explicit_values(engine: Any, project: Any) -> None:
    tid, oid = seed_trace(engine, project.id)
    upsert_dataset(engine, project.id, {"name": "ds"})
    item = create_item_from_trace(engine, project.id, "ds", tid, oid)
    assert item.input == [{"role": "user", "content": "hi"}] and item.expected_output == {"text": "hello"}
    explicit = upsert_dataset_item(
        engine, project.id, {"datasetName": "ds", "sourceTraceId": tid, "expectedOutput": {"better": True}}
    )
    assert explicit.input == {"question": "2+2?"} and explicit.expected_output == {"better": True}


def test_item_source_must_be_in_the_project(engine: Any, project: Any, other_project: Any) -> None:
    tid, oid = seed_trace(engine, other_project.id)
    upsert_dataset(engine, project.id, {"name": "ds"})
    with pytest.raises(NotFoundError, match="Trace"):
        create_item_from_trace(engine, project.id, "ds", tid)
    with pytest.raises(NotFoundError, match="Observation"):
        create_item_from_trace(engine, project.id, "ds", tid, oid)
    # with both values given, the link is kept without a lookup (the spans may arrive later)
    item = upsert_dataset_item(
        engine, project.id, {"datasetName": "ds", "sourceTraceId": "later", "input": 1, "expectedOutput": 2}
    )
    assert item.source_trace_id == "later" and item.input == 1


def test_item_upsert_by_id_updates_only_given_fields(engine: Any, project: Any) -> None:
    upsert_dataset(engine, project.id, {"name": "a"})
    upsert_dataset(engine, project.id, {"name": "b"})
    created = upsert_dataset_item(
        engine, project.id, {"datasetName": "a", "id": "item-1", "input": {"q": 1}, "metadata": {"m": 1}}
    )
    assert created.id == "item-1" and created.expected_output is None
    updated = upsert_dataset_item(engine, project.id, {"datasetName": "a", "id": "item-1", "status": "archived"})
    assert updated.status == "ARCHIVED" and updated.input == {"q": 1} and updated.metadata == {"m": 1}
    assert updated.dataset_name == "a" and updated.created_at_us == created.created_at_us
    nulled = upsert_dataset_item(engine, project.id, {"datasetName": "a", "id": "item-1", "input": None})
    assert nulled.input is None
    # ids are unique per project: an item never moves to another dataset
    with pytest.raises(InvalidInputError, match="belongs to dataset 'a'"):
        upsert_dataset_item(engine, project.id, {"datasetName": "b", "id": "item-1", "input": 2})


def test_metadata_may_be_any_json_value(engine: Any, project: Any) -> None:
    dataset = upsert_dataset(engine, project.id, {"name": "ds", "metadata": ["tag-a", "tag-b"]})
    assert dataset.metadata == ["tag-a", "tag-b"]
    item = upsert_dataset_item(engine, project.id, {"datasetName": "ds", "input": 1, "metadata": "note"})
    assert item.metadata == "note"
    assert upsert_dataset_item(engine, project.id, {"datasetName": "ds", "id": item.id, "metadata": {}}).metadata == {}


def test_metadata_not_given_is_null_not_an_empty_object(engine: Any, project: Any) -> None:
    """As the reference answers: an empty object would read as metadata someone set."""
    assert upsert_dataset(engine, project.id, {"name": "plain"}).metadata is None
    assert upsert_dataset(engine, project.id, {"name": "plain", "metadata": None}).metadata is None
    item = upsert_dataset_item(engine, project.id, {"datasetName": "plain", "input": 1})
    assert item.metadata is None
    assert upsert_dataset_item(engine, project.id, {"datasetName": "plain", "id": item.id, "input": 2}).metadata is None
    run_item = create_run_item(engine, project.id, {"runName": "r", "datasetItemId": item.id, "traceId": "t" * 32})
    run = q.get_dataset_run(engine, project.id, item.dataset_id, run_item.dataset_run_name)
    assert run is not None and run.metadata is None and run.description is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"input": 1}, "datasetName is required"),
        ({"datasetName": "ds", "status": "DONE"}, "status must be one of ACTIVE, ARCHIVED"),
        ({"datasetName": "ds", "sourceObservationId": "o"}, "sourceObservationId requires sourceTraceId"),
        ({"datasetName": "ds", "id": "x" * 65}, "id must be at most 64 characters"),
        ({"datasetName": "ds", "input": 2**70}, "input cannot be stored as JSON"),
        ({"datasetName": "ds", "expectedOutput": 2**70}, "expectedOutput cannot be stored as JSON"),
    ],
)
def test_item_validation(engine: Any, project: Any, body: Any, message: str) -> None:
    upsert_dataset(engine, project.id, {"name": "ds"})
    with pytest.raises(InvalidInputError, match=message):
        upsert_dataset_item(engine, project.id, body)


def test_item_in_unknown_or_foreign_dataset_is_not_found(engine: Any, project: Any, other_project: Any) -> None:
    upsert_dataset(engine, other_project.id, {"name": "theirs"})
    with pytest.raises(NotFoundError, match="Dataset theirs"):
        upsert_dataset_item(engine, project.id, {"datasetName": "theirs", "input": 1})


def test_run_item_creates_run_once_and_is_idempotent(engine: Any, project: Any) -> None:
    upsert_dataset(engine, project.id, {"name": "ds"})
    item = upsert_dataset_item(engine, project.id, {"datasetName": "ds", "input": 1})
    body = {"runName": "exp-1", "runDescription": "first", "datasetItemId": item.id, "traceId": trace_id(9)}
    first = create_run_item(engine, project.id, body)
    again = create_run_item(engine, project.id, body)
    assert first.id == again.id and first.dataset_run_name == "exp-1"
    other = create_run_item(engine, project.id, {**body, "observationId": obs_id(9), "metadata": {"model": "x"}})
    assert other.id != first.id
    dataset = q.get_dataset(engine, project.id, "ds")
    assert dataset is not None
    run = q.get_dataset_run(engine, project.id, dataset.id, "exp-1")
    assert run is not None and run.description == "first" and run.metadata == {"model": "x"}
    assert len(q.run_items_of_run(engine, project.id, run.id)) == 2


def test_run_item_infers_the_trace_from_a_stored_observation(engine: Any, project: Any) -> None:
    tid, oid = seed_trace(engine, project.id)
    upsert_dataset(engine, project.id, {"name": "ds"})
    item = upsert_dataset_item(engine, project.id, {"datasetName": "ds", "input": 1})
    run_item = create_run_item(engine, project.id, {"runName": "r", "datasetItemId": item.id, "observationId": oid})
    assert run_item.trace_id == tid and run_item.observation_id == oid
    with pytest.raises(InvalidInputError, match="traceId is required"):
        create_run_item(engine, project.id, {"runName": "r", "datasetItemId": item.id, "observationId": "nope"})
    with pytest.raises(NotFoundError, match="Dataset item"):
        create_run_item(engine, project.id, {"runName": "r", "datasetItemId": "nope", "traceId": tid})
    with pytest.raises(InvalidInputError, match="runName is required"):
        create_run_item(engine, project.id, {"datasetItemId": item.id, "traceId": tid})


def test_deleting_an_item_or_a_run_takes_their_run_items(engine: Any, project: Any) -> None:
    upsert_dataset(engine, project.id, {"name": "ds"})
    keep = upsert_dataset_item(engine, project.id, {"datasetName": "ds", "input": 1})
    drop = upsert_dataset_item(engine, project.id, {"datasetName": "ds", "input": 2})
    for item in (keep, drop):
        create_run_item(engine, project.id, {"runName": "r", "datasetItemId": item.id, "traceId": trace_id(1)})
    assert delete_dataset_item(engine, project.id, drop.id)
    assert not delete_dataset_item(engine, project.id, drop.id)
    dataset = q.get_dataset(engine, project.id, "ds")
    assert dataset is not None
    run = q.get_dataset_run(engine, project.id, dataset.id, "r")
    assert run is not None
    assert [ri.dataset_item_id for ri in q.run_items_of_run(engine, project.id, run.id)] == [keep.id]
    assert delete_dataset_run(engine, project.id, "ds", "r")
    assert not delete_dataset_run(engine, project.id, "ds", "r")
    assert not delete_dataset_run(engine, project.id, "missing", "r")
    assert q.run_items_of_run(engine, project.id, run.id) == []
    assert q.get_dataset_item(engine, project.id, keep.id) is not None


def test_deletes_never_reach_another_project(engine: Any, project: Any, other_project: Any) -> None:
    upsert_dataset(engine, other_project.id, {"name": "ds"})
    item = upsert_dataset_item(engine, other_project.id, {"datasetName": "ds", "id": "shared-id", "input": 1})
    create_run_item(engine, other_project.id, {"runName": "r", "datasetItemId": item.id, "traceId": trace_id(1)})
    assert not delete_dataset_item(engine, project.id, "shared-id")
    assert not delete_dataset_run(engine, project.id, "ds", "r")
    assert q.get_dataset_item(engine, other_project.id, "shared-id") is not None


def test_concurrent_creates_by_name_make_one_dataset_and_one_run(engine: Any, project: Any) -> None:
    """Experiment runners post in parallel; a race on a new name must not fail or duplicate it."""
    workers = 6
    barrier = threading.Barrier(workers)

    def create_dataset(_: int) -> str:
        barrier.wait()
        return upsert_dataset(engine, project.id, {"name": "parallel"}).id

    with ThreadPoolExecutor(workers) as pool:
        assert len(set(pool.map(create_dataset, range(workers)))) == 1
    items = [upsert_dataset_item(engine, project.id, {"datasetName": "parallel", "input": n}) for n in range(workers)]

    def link(n: int) -> str:
        barrier.wait()
        body = {"runName": "run", "datasetItemId": items[n].id, "traceId": trace_id(n + 1)}
        return create_run_item(engine, project.id, body).dataset_run_id

    with ThreadPoolExecutor(workers) as pool:
        run_ids = set(pool.map(link, range(workers)))
    assert len(run_ids) == 1
    assert len(q.run_items_of_run(engine, project.id, run_ids.pop())) == workers


def test_deleting_a_dataset_takes_everything_in_it(engine: Any, project: Any, other_project: Any) -> None:
    for project_id in (project.id, other_project.id):
        upsert_dataset(engine, project_id, {"name": "ds"})
        item = upsert_dataset_item(engine, project_id, {"datasetName": "ds", "input": 1})
        create_run_item(engine, project_id, {"runName": "r", "datasetItemId": item.id, "traceId": trace_id(1)})
    upsert_dataset(engine, project.id, {"name": "kept"})
    assert delete_dataset(engine, project.id, "ds")
    assert not delete_dataset(engine, project.id, "ds")
    assert q.get_dataset(engine, project.id, "ds") is None
    assert q.list_dataset_items(engine, project.id).total == 0
    assert [d.name for d in q.list_datasets(engine, project.id).items] == ["kept"]
    theirs = q.get_dataset(engine, other_project.id, "ds")
    assert theirs is not None and q.list_dataset_runs(engine, other_project.id, theirs.id).total == 1


def test_every_item_write_is_a_version_and_versions_never_share_a_start(engine: Any, project: Any) -> None:
    upsert_dataset(engine, project.id, {"name": "ds"})
    written = [upsert_dataset_item(engine, project.id, {"datasetName": "ds", "id": "i", "input": n}) for n in range(5)]
    starts = [w.updated_at_us for w in written]
    assert starts == sorted(set(starts))  # five writes, five distinct starts, even within one microsecond
    dataset_id = written[0].dataset_id
    for n, start in enumerate(starts):
        page = q.list_dataset_items(engine, project.id, dataset_id=dataset_id, at_us=start)
        assert [(i.id, i.input, i.updated_at_us) for i in page.items] == [("i", n, start)]
    assert q.list_dataset_items(engine, project.id, dataset_id=dataset_id, at_us=starts[0] - 1).items == []
    assert delete_dataset_item(engine, project.id, "i")
    assert q.list_dataset_items(engine, project.id, dataset_id=dataset_id).items == []
    assert [
        i.input for i in q.list_dataset_items(engine, project.id, dataset_id=dataset_id, at_us=starts[-1]).items
    ] == [4]
    # recreated under the same id: a new history entry, the old states kept
    upsert_dataset_item(engine, project.id, {"datasetName": "ds", "id": "i", "input": "again"})
    assert [i.input for i in q.list_dataset_items(engine, project.id, dataset_id=dataset_id).items] == ["again"]
    assert [i.input for i in q.list_dataset_items(engine, project.id, at_us=starts[0]).items] == [0]
    assert delete_dataset(engine, project.id, "ds")
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(dataset_item_versions)).scalar() == 0


def test_concurrent_writes_of_one_item_each_leave_a_version(engine: Any, project: Any) -> None:
    upsert_dataset(engine, project.id, {"name": "ds"})
    upsert_dataset_item(engine, project.id, {"datasetName": "ds", "id": "i", "input": 0})
    with ThreadPoolExecutor(4) as pool:
        list(
            pool.map(
                lambda n: upsert_dataset_item(engine, project.id, {"datasetName": "ds", "id": "i", "input": n}),
                range(1, 9),
            )
        )
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                dataset_item_versions.c.valid_from_us,
                dataset_item_versions.c.valid_to_us,
                dataset_item_versions.c.input,
            ).order_by(dataset_item_versions.c.valid_from_us)
        ).all()
    assert len(rows) == 9
    # a chain: each version ends where the next begins, the last is open and is the current state
    assert all(rows[n].valid_to_us == rows[n + 1].valid_from_us for n in range(8)) and rows[-1].valid_to_us is None
    assert q.get_dataset_item(engine, project.id, "i").input == int(rows[-1].input)  # type: ignore[union-attr]
