"""Comments and annotation queues through the public REST API (both engines)."""

from __future__ import annotations

from typing import Any

import pytest

from interactiveai.server.api.review_models import (
    AnnotationQueueItemOut,
    AnnotationQueueItems,
    AnnotationQueueOut,
    AnnotationQueues,
    Comments,
)
from interactiveai.server.tenancy import add_membership, create_user
from tests.server.query.seed import add_observation, add_trace, obs_id, trace_id

QUEUES = "/api/public/annotation-queues"
COMMENTS = "/api/public/comments"


@pytest.fixture
def seeded(engine: Any, project: Any, other_project: Any) -> Any:
    for n in range(3):
        add_trace(engine, project.id, trace_id(n), session_id="chat-1")
    add_observation(engine, project.id, trace_id(0), obs_id(0))
    add_trace(engine, other_project.id, trace_id(9))
    return project


def test_comments_on_each_object_type_read_back_in_order(client: Any, seeded: Any, other_project: Any) -> None:
    h = seeded.headers
    targets = [("TRACE", trace_id(0)), ("observation", obs_id(0)), ("SESSION", "chat-1"), ("TRACE", trace_id(0))]
    ids = []
    for n, (object_type, object_id) in enumerate(targets):
        body = {"objectType": object_type, "objectId": object_id, "content": f"note {n} <b>&</b>"}
        response = client.post(COMMENTS, json={**body, "authorUserId": "u-1"}, headers=h)
        assert response.status_code == 200, response.text
        ids.append(response.json()["id"])
    listed = client.get(COMMENTS, params={"objectType": "TRACE", "objectId": trace_id(0)}, headers=h).json()
    Comments.model_validate(listed)
    assert [c["content"] for c in listed["data"]] == ["note 0 <b>&</b>", "note 3 <b>&</b>"]
    assert listed["meta"]["totalItems"] == 2 and listed["data"][0]["authorUserId"] == "u-1"
    one = client.get(f"{COMMENTS}/{ids[1]}", headers=h).json()
    assert (one["objectType"], one["objectId"]) == ("OBSERVATION", obs_id(0))
    assert client.get(COMMENTS, params={"authorUserId": "u-1"}, headers=h).json()["meta"]["totalItems"] == 4
    # another project sees none of them, and cannot comment on this project's trace
    assert client.get(f"{COMMENTS}/{ids[0]}", headers=other_project.headers).status_code == 404
    assert client.get(COMMENTS, headers=other_project.headers).json()["data"] == []
    refused = client.post(
        COMMENTS, json={"objectType": "TRACE", "objectId": trace_id(0), "content": "x"}, headers=other_project.headers
    )
    assert refused.status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"objectType": "PROMPT", "objectId": "x", "content": "c"}, 400, "objectType must be one of"),
        ({"objectType": "TRACE", "objectId": "missing", "content": "c"}, 404, "missing"),
        ({"objectType": "TRACE", "objectId": trace_id(0), "content": " "}, 400, "non-empty"),
        ({"objectType": "TRACE", "objectId": trace_id(0), "content": "x" * 5001}, 400, "at most 5000"),
        ({"objectType": "TRACE", "objectId": trace_id(0), "content": "a\x00b"}, 400, "NUL"),
        ({"objectType": "TRACE", "objectId": trace_id(0), "content": "c", "projectId": "other"}, 400, "projectId"),
        ({"objectType": "SESSION", "objectId": "no-such-session", "content": "c"}, 404, "no-such-session"),
    ],
)
def test_bad_comments_are_refused_clearly(client: Any, seeded: Any, body: Any, status: int, message: str) -> None:
    response = client.post(COMMENTS, json=body, headers=seeded.headers)
    assert response.status_code == status and message in response.text


def test_queue_lifecycle_items_progress_and_reviewers(client: Any, engine: Any, seeded: Any) -> None:
    h = seeded.headers
    config = client.post("/api/public/score-configs", json={"name": "ok", "dataType": "BOOLEAN"}, headers=h).json()
    created = client.post(QUEUES, json={"name": "Weekly", "scoreConfigIds": [config["id"]]}, headers=h)
    assert created.status_code == 200, created.text
    queue = AnnotationQueueOut.model_validate(created.json())
    assert queue.scoreConfigIds == [config["id"]] and (queue.pendingItems, queue.completedItems) == (0, 0)
    assert client.post(QUEUES, json={"name": "Weekly"}, headers=h).status_code == 409  # names are unique
    unknown = client.post(QUEUES, json={"name": "x", "scoreConfigIds": ["nope"]}, headers=h)
    assert unknown.status_code == 400 and "'nope' does not exist" in unknown.json()["message"]

    items = f"{QUEUES}/{queue.id}/items"
    first = client.post(items, json={"objectType": "TRACE", "objectId": trace_id(0)}, headers=h).json()
    again = client.post(items, json={"objectType": "trace", "objectId": trace_id(0)}, headers=h).json()
    assert again["id"] == first["id"]  # adding twice is a no-op
    client.post(items, json={"objectType": "OBSERVATION", "objectId": obs_id(0)}, headers=h)
    done = client.post(items, json={"objectType": "SESSION", "objectId": "chat-1", "status": "COMPLETED"}, headers=h)
    AnnotationQueueItemOut.model_validate(done.json())
    assert done.json()["status"] == "COMPLETED" and done.json()["completedAt"]
    assert client.post(items, json={"objectType": "TRACE", "objectId": "missing"}, headers=h).status_code == 404

    listed = client.get(items, headers=h).json()
    AnnotationQueueItems.model_validate(listed)
    assert [i["objectType"] for i in listed["data"]] == ["TRACE", "OBSERVATION", "SESSION"]
    pending = client.get(items, params={"status": "pending"}, headers=h).json()["data"]
    assert [i["objectId"] for i in pending] == [trace_id(0), obs_id(0)]

    patched = client.patch(f"{items}/{first['id']}", json={"status": "COMPLETED"}, headers=h).json()
    assert patched["status"] == "COMPLETED"
    progress = client.get(f"{QUEUES}/{queue.id}", headers=h).json()
    assert (progress["pendingItems"], progress["completedItems"]) == (1, 2)
    reopened = client.patch(f"{items}/{first['id']}", json={"status": "PENDING"}, headers=h).json()
    assert reopened["completedAt"] is None and reopened["completedByUserId"] is None

    assert client.delete(f"{items}/{first['id']}", headers=h).json()["success"] is True
    assert client.get(f"{items}/{first['id']}", headers=h).status_code == 404

    reviewer = create_user(engine, "rev@example.com", "correct horse battery")
    add_membership(engine, reviewer, seeded.id, role="MEMBER")
    outsider = create_user(engine, "out@example.com", "correct horse battery")
    assigned = client.post(f"{QUEUES}/{queue.id}/assignments", json={"userId": reviewer}, headers=h)
    assert assigned.json() == {"userId": reviewer, "queueId": queue.id, "projectId": seeded.id}
    assert client.post(f"{QUEUES}/{queue.id}/assignments", json={"userId": outsider}, headers=h).status_code == 404
    unassigned = client.request("DELETE", f"{QUEUES}/{queue.id}/assignments", json={"userId": reviewer}, headers=h)
    assert unassigned.status_code == 200

    renamed = client.patch(f"{QUEUES}/{queue.id}", json={"name": "Weekly review"}, headers=h).json()
    assert renamed["name"] == "Weekly review" and renamed["scoreConfigIds"] == [config["id"]]
    # a reference in the body that names nothing is bad input (400); the queue itself exists
    unknown_config = client.patch(f"{QUEUES}/{queue.id}", json={"scoreConfigIds": ["gone"]}, headers=h)
    assert unknown_config.status_code == 400 and "'gone' does not exist" in unknown_config.json()["message"]
    AnnotationQueues.model_validate(client.get(QUEUES, headers=h).json())
    assert client.delete(f"{QUEUES}/{queue.id}", headers=h).status_code == 200
    assert client.get(f"{QUEUES}/{queue.id}", headers=h).status_code == 404
    assert client.get(items, headers=h).status_code == 404


def test_queues_are_private_to_their_project(client: Any, seeded: Any, other_project: Any) -> None:
    queue = client.post(QUEUES, json={"name": "Mine"}, headers=seeded.headers).json()
    assert client.get(f"{QUEUES}/{queue['id']}", headers=other_project.headers).status_code == 404
    body = {"objectType": "TRACE", "objectId": trace_id(9)}  # the other project's trace
    assert client.post(f"{QUEUES}/{queue['id']}/items", json=body, headers=seeded.headers).status_code == 404
    assert client.get(QUEUES, headers=other_project.headers).json()["data"] == []
