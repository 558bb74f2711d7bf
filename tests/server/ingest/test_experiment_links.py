"""Experiment runs declared by span attributes (ingest/experiments.py), as the peer SDK's 5.x
release records them, and read back through GET /experiments and /experiment-items (api/experiments.py).

Before: its dataset experiments left no run (the dataset showed none, its client's experiment reads
were 404s)."""

from __future__ import annotations

from typing import Any

import orjson

from tests.server.ingest.conftest import Ingest
from tests.server.ingest.otlp_builders import BASE_NS, SpanSpec, span_id, trace_id

SINCE = "2000-01-01T00:00:00Z"


def make_dataset(client: Any, project: Any, name: str, items: dict[str, str]) -> str:
    created = client.post("/api/public/v2/datasets", json={"name": name}, headers=project.headers)
    assert created.status_code == 200, created.text
    for item_id, expected in items.items():
        body = {"datasetName": name, "id": item_id, "input": {"q": item_id}, "expectedOutput": expected}
        assert client.post("/api/public/dataset-items", json=body, headers=project.headers).status_code == 200
    dataset_id: str = created.json()["id"]
    return dataset_id


def item_spans(run: dict[str, Any], item_id: str, output: str) -> tuple[str, str, list[SpanSpec]]:
    """The spans 5.x sends for one item: the item's run span and its task span (the item's root)."""
    tid, root, task = trace_id(), span_id(), span_id()
    attributes = {
        "langfuse.experiment.id": run["id"],
        "langfuse.experiment.name": run["name"],
        "langfuse.experiment.description": "nightly",
        "langfuse.experiment.metadata": orjson.dumps({"model": "fake"}).decode(),
        "langfuse.experiment.dataset.id": run["dataset_id"],
        "langfuse.experiment.item.id": item_id,
        "langfuse.experiment.item.root_observation_id": task,
        "langfuse.environment": "sdk-experiment",
    }
    spans = [
        SpanSpec(tid, root, name="experiment-item-run", attributes=attributes),
        SpanSpec(
            tid,
            task,
            name="experiment-item-task",
            parent_id=root,
            start_ns=BASE_NS + 1000,
            attributes={**attributes, "langfuse.observation.output": output},
        ),
    ]
    return tid, task, spans


def get(client: Any, project: Any, path: str, **params: Any) -> Any:
    response = client.get(f"/api/public/{path}", params=params, headers=project.headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_dataset_experiment_becomes_a_run_with_its_items(client: Any, project: Any, ingest: Ingest) -> None:
    dataset_id = make_dataset(client, project, "qa", {"item-a": "4", "item-b": "Paris"})
    run = {"id": "0123456789abcdef", "name": "nightly-1", "dataset_id": dataset_id}
    trace_a, task_a, spans_a = item_spans(run, "item-a", "4")
    trace_b, task_b, spans_b = item_spans(run, "item-b", "Lyon")
    ingest.ok(spans_a + spans_b)
    ingest.ok(spans_a)  # an SDK retry links nothing twice

    stored = get(client, project, "datasets/qa/runs/nightly-1")
    assert stored["id"] == run["id"] and stored["description"] == "nightly" and stored["metadata"] == {"model": "fake"}
    linked = sorted((i["datasetItemId"], i["traceId"], i["observationId"]) for i in stored["datasetRunItems"])
    assert linked == [("item-a", trace_a, task_a), ("item-b", trace_b, task_b)]

    experiments = get(client, project, "experiments", fromStartTime=SINCE, datasetId=dataset_id, fields="metadata")
    assert [(e["id"], e["name"], e["itemCount"]) for e in experiments["data"]] == [(run["id"], "nightly-1", 2)]
    assert experiments["data"][0]["metadata"] == {"model": "fake"}
    items = get(client, project, "experiment-items", fromStartTime=SINCE, experimentId=run["id"], fields="io,dataset")
    by_item = {i["experimentItemId"]: i for i in items["data"]}
    assert by_item["item-b"]["traceId"] == trace_b and by_item["item-b"]["output"] == "Lyon"
    assert by_item["item-b"]["expectedOutput"] == "Paris" and by_item["item-b"]["experimentDatasetId"] == dataset_id
    assert by_item["item-a"]["environment"] == "sdk-experiment" and by_item["item-a"]["experimentName"] == "nightly-1"
    paged = get(client, project, "experiment-items", fromStartTime=SINCE, limit=1)
    rest = get(client, project, "experiment-items", fromStartTime=SINCE, limit=1, cursor=paged["meta"]["cursor"])
    assert {paged["data"][0]["id"], rest["data"][0]["id"]} == {i["id"] for i in items["data"]}


def test_a_run_of_that_name_already_there_gets_the_items(client: Any, project: Any, ingest: Ingest) -> None:
    dataset_id = make_dataset(client, project, "qa", {"item-a": "4"})
    first = {"runName": "nightly-1", "datasetItemId": "item-a", "traceId": trace_id()}
    existing = client.post("/api/public/dataset-run-items", json=first, headers=project.headers).json()
    _, task, spans = item_spans(
        {"id": "fedcba9876543210", "name": "nightly-1", "dataset_id": dataset_id}, "item-a", "4"
    )
    ingest.ok(spans)
    stored = get(client, project, "datasets/qa/runs/nightly-1")
    assert stored["id"] == existing["datasetRunId"] and len(stored["datasetRunItems"]) == 2
    assert task in {i["observationId"] for i in stored["datasetRunItems"]}


def test_nothing_is_linked_without_a_dataset_item_of_that_dataset(client: Any, project: Any, ingest: Ingest) -> None:
    dataset_id = make_dataset(client, project, "qa", {"item-a": "4"})
    other_id = make_dataset(client, project, "other", {"item-x": "1"})
    _, _, wrong_dataset = item_spans({"id": "run-1", "name": "r1", "dataset_id": other_id}, "item-a", "4")
    _, _, unknown_item = item_spans({"id": "run-2", "name": "r2", "dataset_id": dataset_id}, "item-zzz", "4")
    _, _, local = item_spans({"id": "run-3", "name": "r3", "dataset_id": dataset_id}, "item-a", "4")
    for span in local:
        del span.attributes["langfuse.experiment.dataset.id"]  # an experiment on local data
    ingest.ok(wrong_dataset + unknown_item + local)
    assert get(client, project, "datasets/qa/runs")["data"] == []
    assert get(client, project, "datasets/other/runs")["data"] == []
    assert get(client, project, "experiments", fromStartTime=SINCE)["data"] == []


def test_experiment_reads_need_a_start_and_keep_projects_apart(client: Any, project: Any, other_project: Any) -> None:
    for path in ("experiments", "experiment-items"):
        response = client.get(f"/api/public/{path}", headers=project.headers)
        assert response.status_code == 400, response.text
        assert get(client, other_project, path, fromStartTime=SINCE)["data"] == []
