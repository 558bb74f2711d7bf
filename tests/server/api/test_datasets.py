from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import pytest

from interactiveai.server.api.datasets_models import (
    Dataset,
    DatasetItem,
    DatasetItems,
    DatasetRunItem,
    DatasetRunItems,
    DatasetRuns,
    DatasetRunWithItems,
    Datasets,
    DatasetsV2,
    DatasetWithItems,
)
from tests.server.query.seed import add_observation, add_trace, obs_id, trace_id

API = "/api/public"


def enc(name: str) -> str:
    return quote(name, safe="")


def post(client: Any, project: Any, path: str, body: Any) -> Any:
    return client.post(API + path, json=body, headers=project.headers)


def ok(response: Any) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def make_item(client: Any, project: Any, dataset: str = "ds", **body: Any) -> dict[str, Any]:
    ok(post(client, project, "/datasets", {"name": dataset}))
    item: dict[str, Any] = ok(post(client, project, "/dataset-items", {"datasetName": dataset, **body}))
    return item


def test_create_upsert_and_read_a_dataset(client: Any, project: Any) -> None:
    created = ok(post(client, project, "/datasets", {"name": "qa/golden", "description": "d", "metadata": {"k": 1}}))
    Dataset.model_validate(created)
    assert created["name"] == "qa/golden" and created["projectId"] == project.id and created["metadata"] == {"k": 1}
    assert created["createdAt"].endswith("Z")
    updated = ok(post(client, project, "/v2/datasets", {"name": "qa/golden", "description": "new"}))
    assert updated["id"] == created["id"] and updated["description"] == "new" and updated["metadata"] == {"k": 1}

    v2 = ok(client.get(f"{API}/v2/datasets/{enc('qa/golden')}", headers=project.headers))
    Dataset.model_validate(v2)
    assert v2 == updated
    v1 = ok(client.get(f"{API}/datasets/{enc('qa/golden')}", headers=project.headers))
    DatasetWithItems.model_validate(v1)
    assert v1["items"] == [] and v1["runs"] == [] and v1["id"] == created["id"]


def test_dataset_lists_paginate_with_meta(client: Any, project: Any) -> None:
    for n in range(3):
        ok(post(client, project, "/datasets", {"name": f"ds-{n}"}))
    item = ok(post(client, project, "/dataset-items", {"datasetName": "ds-0", "input": 1}))
    run_item = {"runName": "run-1", "datasetItemId": item["id"], "traceId": trace_id(1)}
    ok(post(client, project, "/dataset-run-items", run_item))
    body = ok(client.get(f"{API}/datasets?page=1&limit=2", headers=project.headers))
    Datasets.model_validate(body)
    assert body["meta"] == {"page": 1, "limit": 2, "totalItems": 3, "totalPages": 2}
    last = ok(client.get(f"{API}/datasets?page=2&limit=2", headers=project.headers))
    assert [d["name"] for d in last["data"]] == ["ds-0"]
    assert last["data"][0]["items"] == [item["id"]] and last["data"][0]["runs"] == ["run-1"]
    v2 = ok(client.get(f"{API}/v2/datasets?limit=100", headers=project.headers))
    DatasetsV2.model_validate(v2)
    assert len(v2["data"]) == 3 and v2["meta"]["totalPages"] == 1
    assert client.get(f"{API}/datasets?limit=101", headers=project.headers).status_code == 400
    assert client.get(f"{API}/datasets?page=0", headers=project.headers).status_code == 400


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "name is required"),
        ({"name": "n", "description": 1}, "description must be a string"),
        ([1], "JSON object"),
    ],
)
def test_dataset_validation_is_a_400_with_the_rule(client: Any, project: Any, body: Any, message: str) -> None:
    response = post(client, project, "/datasets", body)
    assert response.status_code == 400 and message in response.json()["message"]


def test_item_copied_from_a_real_trace_and_observation(client: Any, project: Any) -> None:
    tid, oid = trace_id(7), obs_id(7)
    add_trace(engine_of(client), project.id, tid, input={"question": "capital of France?"}, output={"answer": "Paris"})
    add_observation(
        engine_of(client),
        project.id,
        tid,
        oid,
        type="GENERATION",
        input=[{"role": "user", "content": "capital of France?"}],
        output={"role": "assistant", "content": "Paris"},
    )
    from_trace = make_item(client, project, sourceTraceId=tid, metadata={"why": "good answer"})
    DatasetItem.model_validate(from_trace)
    assert from_trace["input"] == {"question": "capital of France?"}
    assert from_trace["expectedOutput"] == {"answer": "Paris"}
    assert from_trace["sourceTraceId"] == tid and from_trace["sourceObservationId"] is None
    assert from_trace["datasetName"] == "ds" and from_trace["status"] == "ACTIVE"
    from_obs = make_item(client, project, sourceTraceId=tid, sourceObservationId=oid, expectedOutput="Paris.")
    assert from_obs["input"] == [{"role": "user", "content": "capital of France?"}]
    assert from_obs["expectedOutput"] == "Paris." and from_obs["sourceObservationId"] == oid

    listed = ok(client.get(f"{API}/dataset-items", params={"sourceTraceId": tid}, headers=project.headers))
    DatasetItems.model_validate(listed)
    assert listed["meta"]["totalItems"] == 2
    by_obs = ok(client.get(f"{API}/dataset-items", params={"sourceObservationId": oid}, headers=project.headers))
    assert [i["id"] for i in by_obs["data"]] == [from_obs["id"]]

    missing = post(client, project, "/dataset-items", {"datasetName": "ds", "sourceTraceId": trace_id(8)})
    assert missing.status_code == 404 and trace_id(8) in missing.json()["message"]
    wrong_obs = {"datasetName": "ds", "sourceTraceId": tid, "sourceObservationId": obs_id(8)}
    assert post(client, project, "/dataset-items", wrong_obs).status_code == 404


def engine_of(client: Any) -> Any:
    return client.app.state.engine


def test_item_upsert_get_list_and_delete(client: Any, project: Any) -> None:
    created = make_item(client, project, id="item-1", input={"q": 1}, expectedOutput={"a": 1})
    assert created["id"] == "item-1"
    updated = ok(post(client, project, "/dataset-items", {"datasetName": "ds", "id": "item-1", "status": "ARCHIVED"}))
    assert (
        updated["status"] == "ARCHIVED"
        and updated["input"] == {"q": 1}
        and updated["createdAt"] == created["createdAt"]
    )
    got = ok(client.get(f"{API}/dataset-items/item-1", headers=project.headers))
    assert got == updated
    for n in range(4):
        make_item(client, project, input=n)
    page = ok(
        client.get(f"{API}/dataset-items", params={"datasetName": "ds", "limit": 2, "page": 3}, headers=project.headers)
    )
    # archived items are listed only when asked for, as the reference lists them
    assert page["meta"] == {"page": 3, "limit": 2, "totalItems": 4, "totalPages": 2} and page["data"] == []
    assert "item-1" not in [i["id"] for i in ok(client.get(f"{API}/dataset-items", headers=project.headers))["data"]]
    archived = ok(client.get(f"{API}/dataset-items", params={"status": "archived"}, headers=project.headers))
    assert [i["id"] for i in archived["data"]] == ["item-1"]
    unknown = client.get(f"{API}/dataset-items", params={"datasetName": "nope"}, headers=project.headers)
    assert unknown.status_code == 404

    deleted = client.delete(f"{API}/dataset-items/item-1", headers=project.headers)
    assert ok(deleted) == {"message": "Dataset item successfully deleted"}
    assert client.get(f"{API}/dataset-items/item-1", headers=project.headers).status_code == 404
    assert client.delete(f"{API}/dataset-items/item-1", headers=project.headers).status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"input": 1}, 400, "datasetName is required"),
        ({"datasetName": "ds", "status": "DONE"}, 400, "status must be one of ACTIVE, ARCHIVED"),
        ({"datasetName": "ds", "sourceObservationId": "o"}, 400, "sourceObservationId requires sourceTraceId"),
        ({"datasetName": "missing", "input": 1}, 404, "Dataset missing not found"),
    ],
)
def test_item_validation(client: Any, project: Any, body: Any, status: int, message: str) -> None:
    ok(post(client, project, "/datasets", {"name": "ds"}))
    response = post(client, project, "/dataset-items", body)
    assert response.status_code == status and message in response.json()["message"]


def test_run_items_runs_and_run_deletion(client: Any, project: Any) -> None:
    name = "team/eval"
    item = make_item(client, project, dataset=name, input={"q": 1})
    body = {"runName": "exp/1", "runDescription": "gpt", "metadata": {"model": "m"}, "datasetItemId": item["id"]}
    run_item = ok(
        post(client, project, "/dataset-run-items", {**body, "traceId": trace_id(1), "observationId": obs_id(1)})
    )
    DatasetRunItem.model_validate(run_item)
    assert run_item["datasetRunName"] == "exp/1" and run_item["traceId"] == trace_id(1)
    assert (
        ok(post(client, project, "/dataset-run-items", {**body, "traceId": trace_id(1), "observationId": obs_id(1)}))[
            "id"
        ]
        == run_item["id"]
    )
    ok(
        post(
            client,
            project,
            "/dataset-run-items",
            {"runName": "exp-2", "datasetItemId": item["id"], "traceId": trace_id(2)},
        )
    )

    dataset = ok(client.get(f"{API}/datasets/{enc(name)}", headers=project.headers))
    assert [i["id"] for i in dataset["items"]] == [item["id"]] and set(dataset["runs"]) == {"exp/1", "exp-2"}
    runs = ok(client.get(f"{API}/datasets/{enc(name)}/runs", params={"limit": 1}, headers=project.headers))
    DatasetRuns.model_validate(runs)
    assert runs["meta"] == {"page": 1, "limit": 1, "totalItems": 2, "totalPages": 2}
    run = ok(client.get(f"{API}/datasets/{enc(name)}/runs/{enc('exp/1')}", headers=project.headers))
    DatasetRunWithItems.model_validate(run)
    assert run["description"] == "gpt" and run["metadata"] == {"model": "m"} and run["datasetName"] == name
    assert [ri["id"] for ri in run["datasetRunItems"]] == [run_item["id"]]

    listed = ok(
        client.get(
            f"{API}/dataset-run-items", params={"datasetId": dataset["id"], "runName": "exp/1"}, headers=project.headers
        )
    )
    DatasetRunItems.model_validate(listed)
    assert [ri["id"] for ri in listed["data"]] == [run_item["id"]] and listed["meta"]["totalItems"] == 1
    missing_param = client.get(f"{API}/dataset-run-items", params={"datasetId": dataset["id"]}, headers=project.headers)
    assert missing_param.status_code == 400 and "runName" in missing_param.json()["message"]
    unknown_run = {"datasetId": dataset["id"], "runName": "nope"}
    assert client.get(f"{API}/dataset-run-items", params=unknown_run, headers=project.headers).status_code == 404

    run_path = f"{API}/datasets/{enc(name)}/runs/{enc('exp/1')}"
    assert ok(client.delete(run_path, headers=project.headers)) == {"message": "Dataset run successfully deleted"}
    assert client.get(run_path, headers=project.headers).status_code == 404
    assert client.delete(run_path, headers=project.headers).status_code == 404
    assert ok(client.get(f"{API}/datasets/{enc(name)}", headers=project.headers))["runs"] == ["exp-2"]


def test_run_item_validation(client: Any, project: Any) -> None:
    item = make_item(client, project, input=1)
    no_trace = post(client, project, "/dataset-run-items", {"runName": "r", "datasetItemId": item["id"]})
    assert no_trace.status_code == 400 and "traceId is required" in no_trace.json()["message"]
    unknown = post(client, project, "/dataset-run-items", {"runName": "r", "datasetItemId": "nope", "traceId": "t"})
    assert unknown.status_code == 404
    assert post(client, project, "/dataset-run-items", {"datasetItemId": item["id"], "traceId": "t"}).status_code == 400


def test_names_with_slashes_and_runs_suffixes_resolve_exactly(client: Any, project: Any) -> None:
    """A dataset literally named "a/runs" is not the runs list of dataset "a"."""
    make_item(client, project, dataset="a", input=1)
    make_item(client, project, dataset="a/runs", input=2)
    tricky = ok(client.get(f"{API}/datasets/{enc('a/runs')}", headers=project.headers))
    assert tricky["name"] == "a/runs" and tricky["items"][0]["input"] == 2
    runs_of_a = ok(client.get(f"{API}/datasets/a/runs", headers=project.headers))
    assert runs_of_a["data"] == []
    assert client.get(f"{API}/datasets/{enc('a/runs/x')}", headers=project.headers).status_code == 404
    assert client.get(f"{API}/datasets/a/runs/", headers=project.headers).status_code == 404


def test_another_projects_key_sees_and_changes_nothing(client: Any, project: Any, other_project: Any) -> None:
    tid = trace_id(3)
    add_trace(engine_of(client), project.id, tid, input={"q": "mine"}, output={"a": "mine"})
    item = make_item(client, project, dataset="mine", sourceTraceId=tid, id="item-a")
    ok(post(client, project, "/dataset-run-items", {"runName": "r", "datasetItemId": "item-a", "traceId": tid}))
    dataset = ok(client.get(f"{API}/v2/datasets/mine", headers=project.headers))
    h = other_project.headers

    for path in (
        "/datasets/mine",
        "/v2/datasets/mine",
        "/datasets/mine/runs",
        "/datasets/mine/runs/r",
        "/dataset-items/item-a",
    ):
        assert client.get(API + path, headers=h).status_code == 404, path
    assert client.get(f"{API}/dataset-items", params={"datasetName": "mine"}, headers=h).status_code == 404
    params = {"datasetId": dataset["id"], "runName": "r"}
    assert client.get(f"{API}/dataset-run-items", params=params, headers=h).status_code == 404
    for path in ("/datasets", "/v2/datasets", "/dataset-items"):
        assert ok(client.get(API + path, headers=h))["data"] == [], path
    by_source = ok(client.get(f"{API}/dataset-items", params={"sourceTraceId": tid}, headers=h))
    assert by_source["data"] == []

    # writes: no copying another project's trace, no item in its dataset, no link to its item, no deletes
    ok(post(client, other_project, "/datasets", {"name": "theirs"}))
    assert (
        post(client, other_project, "/dataset-items", {"datasetName": "theirs", "sourceTraceId": tid}).status_code
        == 404
    )
    assert post(client, other_project, "/dataset-items", {"datasetName": "mine", "input": 1}).status_code == 404
    link = {"runName": "r", "datasetItemId": "item-a", "traceId": tid}
    assert post(client, other_project, "/dataset-run-items", link).status_code == 404
    assert client.delete(f"{API}/dataset-items/item-a", headers=h).status_code == 404
    assert client.delete(f"{API}/datasets/mine/runs/r", headers=h).status_code == 404
    # the same name in the other project is its own dataset
    same_name = ok(post(client, other_project, "/datasets", {"name": "mine"}))
    assert same_name["id"] != dataset["id"]
    assert ok(client.get(f"{API}/dataset-items/item-a", headers=project.headers)) == item
    run = ok(client.get(f"{API}/datasets/mine/runs/r", headers=project.headers))
    assert len(run["datasetRunItems"]) == 1


def test_requests_without_a_key_are_refused(client: Any) -> None:
    assert client.get(f"{API}/datasets").status_code == 401
    assert client.post(f"{API}/dataset-items", json={"datasetName": "x"}).status_code == 401


def test_routes_are_documented(client: Any) -> None:
    spec = ok(client.get(f"{API}/openapi.json"))
    paths = spec["paths"]
    for path, method in (
        ("/datasets", "post"),
        ("/datasets/{datasetName}", "get"),
        ("/datasets/{datasetName}/runs", "get"),
        ("/datasets/{datasetName}/runs/{runName}", "delete"),
        ("/v2/datasets/{datasetName}", "get"),
        ("/dataset-items", "post"),
        ("/dataset-items/{itemId}", "delete"),
        ("/dataset-run-items", "get"),
    ):
        op = paths[API + path][method]
        assert op["summary"] and op["tags"] == ["datasets"], path
        if method == "post":
            assert op["requestBody"]["content"]["application/json"]["schema"], path


def items_at(client: Any, project: Any, version: str | None = None, **params: Any) -> dict[str, Any]:
    query = {"datasetName": "ds", "limit": 100, **params}
    if version is not None:
        query["version"] = version
    body: dict[str, Any] = ok(client.get(f"{API}/dataset-items", params=query, headers=project.headers))
    DatasetItems.model_validate(body)
    return {item["id"]: item for item in body["data"]}


def test_items_read_as_they_stood_at_a_version(client: Any, project: Any) -> None:
    """The reference SDK's get_dataset(version=...): later upserts, creations and deletions do not show."""
    from interactiveai.server.clock import now_us, us_to_iso

    def moment() -> str:
        time.sleep(0.002)
        at = us_to_iso(now_us())
        time.sleep(0.002)
        assert at is not None
        return at

    before = moment()
    a = make_item(client, project, id="a", input={"q": 1})
    make_item(client, project, id="b", input="b")
    first = moment()
    ok(post(client, project, "/dataset-items", {"datasetName": "ds", "id": "a", "input": {"q": 2}, "metadata": "m"}))
    ok(post(client, project, "/dataset-items", {"datasetName": "ds", "id": "b", "status": "ARCHIVED"}))
    make_item(client, project, id="c", input="c")
    second = moment()
    assert ok(client.delete(f"{API}/dataset-items/a", headers=project.headers))

    assert items_at(client, project, before) == {}
    then = items_at(client, project, first)
    assert sorted(then) == ["a", "b"] and then["a"]["input"] == {"q": 1} and then["a"]["metadata"] is None
    assert then["a"]["version"] == a["version"] == a["createdAt"] and then["a"]["mediaReferences"] == []
    later = items_at(client, project, second)
    assert sorted(later) == ["a", "c"] and later["a"]["input"] == {"q": 2} and later["a"]["metadata"] == "m"
    assert later["a"]["version"] > first and later["a"]["createdAt"] == a["createdAt"]
    assert sorted(items_at(client, project, second, status="ARCHIVED")) == ["b"]
    assert sorted(items_at(client, project)) == ["c"]  # now: a deleted, b archived

    project_wide = ok(client.get(f"{API}/dataset-items", params={"version": first}, headers=project.headers))
    assert sorted(i["id"] for i in project_wide["data"]) == ["a", "b"]
    response = client.get(
        f"{API}/dataset-items", params={"datasetName": "ds", "version": "yesterday"}, headers=project.headers
    )
    assert response.status_code == 400 and "version must be an ISO 8601 date-time" in response.json()["message"]


def test_nullable_fields_are_null_when_not_given(client: Any, project: Any) -> None:
    dataset = ok(post(client, project, "/datasets", {"name": "ds"}))
    assert dataset["metadata"] is None and dataset["description"] is None
    item = ok(post(client, project, "/dataset-items", {"datasetName": "ds"}))
    DatasetItem.model_validate(item)
    assert item["metadata"] is None and item["input"] is None and item["expectedOutput"] is None
    assert item["sourceTraceId"] is None and item["mediaReferences"] == [] and item["status"] == "ACTIVE"
    link = ok(
        post(client, project, "/dataset-run-items", {"runName": "r", "datasetItemId": item["id"], "traceId": "t"})
    )
    assert link["observationId"] is None
    run = ok(client.get(f"{API}/datasets/ds/runs/r", headers=project.headers))
    assert run["metadata"] is None and run["description"] is None


def test_the_v1_dataset_embeds_active_items_only(client: Any, project: Any) -> None:
    make_item(client, project, id="kept")
    ok(post(client, project, "/dataset-items", {"datasetName": "ds", "id": "gone", "status": "ARCHIVED"}))
    body = ok(client.get(f"{API}/datasets/ds", headers=project.headers))
    DatasetWithItems.model_validate(body)
    assert [i["id"] for i in body["items"]] == ["kept"]
