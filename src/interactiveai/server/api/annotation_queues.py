"""Annotation queues: queues, their items (what to review, and whether it was), and reviewers."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from interactiveai.server.api.comments import review_errors
from interactiveai.server.api.common import (
    JSON,
    AuthKey,
    DbEngine,
    JsonBody,
    LimitParam,
    PageParam,
    bad_request,
    json_body,
    or_404,
    paged,
)
from interactiveai.server.api.review_models import (
    AnnotationQueueCreate,
    AnnotationQueueItemCreate,
    AnnotationQueueItemOut,
    AnnotationQueueItems,
    AnnotationQueueItemUpdate,
    AnnotationQueueOut,
    AnnotationQueues,
    AnnotationQueueUpdate,
    Assignment,
    AssignmentRequest,
    Deleted,
    queue_item_json,
    queue_json,
)
from interactiveai.server.query.review import get_queue, get_queue_item, list_queue_items, list_queues
from interactiveai.server.storage.review_schema import ITEM_STATUSES
from interactiveai.server.writes import review as w

router = APIRouter(tags=["annotation-queues"])
QUEUES = "/annotation-queues"
StatusParam = Literal["PENDING", "COMPLETED", "pending", "completed"]


def _object(payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise bad_request("the body must be a JSON object")
    return payload


@router.get(QUEUES, response_model=AnnotationQueues, summary="List annotation queues by name, with progress")
def get_queues(key: AuthKey, engine: DbEngine, page: PageParam = 1, limit: LimitParam = 50) -> JSON:
    return JSON(paged(list_queues(engine, key.project_id, page=page, limit=limit), queue_json))


_CONFIGS_RULE = "`scoreConfigIds` name score configs of this project (a 400 names one that does not exist)."


@router.post(
    QUEUES,
    response_model=AnnotationQueueOut,
    summary="Create an annotation queue",
    description=_CONFIGS_RULE,
    openapi_extra=json_body(AnnotationQueueCreate.model_json_schema()),
)
def post_queue(key: AuthKey, engine: DbEngine, payload: JsonBody) -> JSON:
    with review_errors():
        return JSON(queue_json(w.create_queue(engine, key.project_id, _object(payload))))


@router.get(QUEUES + "/{queueId}", response_model=AnnotationQueueOut, summary="One annotation queue")
def get_one_queue(queueId: str, key: AuthKey, engine: DbEngine) -> JSON:
    return JSON(queue_json(or_404(get_queue(engine, key.project_id, queueId), "Annotation queue", queueId)))


@router.patch(
    QUEUES + "/{queueId}",
    response_model=AnnotationQueueOut,
    summary="Rename a queue, or change its description or score configs",
    description=_CONFIGS_RULE,
    openapi_extra=json_body(AnnotationQueueUpdate.model_json_schema()),
)
def patch_queue(queueId: str, key: AuthKey, engine: DbEngine, payload: JsonBody) -> JSON:
    with review_errors():
        queue = w.update_queue(engine, key.project_id, queueId, _object(payload))
    return JSON(queue_json(or_404(queue, "Annotation queue", queueId)))


@router.delete(QUEUES + "/{queueId}", response_model=Deleted, summary="Delete a queue (the scores given stay)")
def delete_queue(queueId: str, key: AuthKey, engine: DbEngine) -> JSON:
    or_404(w.delete_queue(engine, key.project_id, queueId) or None, "Annotation queue", queueId)
    return JSON({"success": True, "message": "Annotation queue deleted"})


@router.get(QUEUES + "/{queueId}/items", response_model=AnnotationQueueItems, summary="A queue's items, in order")
def get_items(
    queueId: str,
    key: AuthKey,
    engine: DbEngine,
    page: PageParam = 1,
    limit: LimitParam = 50,
    status: Annotated[StatusParam | None, Query(description="PENDING or COMPLETED (any case).")] = None,
) -> JSON:
    or_404(get_queue(engine, key.project_id, queueId), "Annotation queue", queueId)
    wanted = status.upper() if status else None
    if wanted is not None and wanted not in ITEM_STATUSES:
        raise bad_request(f"status must be one of {', '.join(ITEM_STATUSES)}")
    result = list_queue_items(engine, key.project_id, queueId, status=wanted, page=page, limit=limit)
    return JSON(paged(result, queue_item_json))


@router.post(
    QUEUES + "/{queueId}/items",
    response_model=AnnotationQueueItemOut,
    summary="Add a trace, observation or session to a queue",
    openapi_extra=json_body(AnnotationQueueItemCreate.model_json_schema()),
)
def post_item(queueId: str, key: AuthKey, engine: DbEngine, payload: JsonBody) -> JSON:
    with review_errors():
        return JSON(queue_item_json(w.create_queue_item(engine, key.project_id, queueId, _object(payload))))


@router.get(QUEUES + "/{queueId}/items/{queueItemId}", response_model=AnnotationQueueItemOut, summary="One queue item")
def get_item(queueId: str, queueItemId: str, key: AuthKey, engine: DbEngine) -> JSON:
    item = or_404(get_queue_item(engine, key.project_id, queueId, queueItemId), "Annotation queue item", queueItemId)
    return JSON(queue_item_json(item))


@router.patch(
    QUEUES + "/{queueId}/items/{queueItemId}",
    response_model=AnnotationQueueItemOut,
    summary="Complete or reopen a queue item",
    openapi_extra=json_body(AnnotationQueueItemUpdate.model_json_schema()),
)
def patch_item(queueId: str, queueItemId: str, key: AuthKey, engine: DbEngine, payload: JsonBody) -> JSON:
    with review_errors():
        item = w.update_queue_item(engine, key.project_id, queueId, queueItemId, _object(payload), user_id=None)
    return JSON(queue_item_json(or_404(item, "Annotation queue item", queueItemId)))


@router.delete(QUEUES + "/{queueId}/items/{queueItemId}", response_model=Deleted, summary="Remove an item from a queue")
def delete_item(queueId: str, queueItemId: str, key: AuthKey, engine: DbEngine) -> JSON:
    or_404(
        w.delete_queue_item(engine, key.project_id, queueId, queueItemId) or None, "Annotation queue item", queueItemId
    )
    return JSON({"success": True, "message": "Annotation queue item deleted"})


@router.post(
    QUEUES + "/{queueId}/assignments",
    response_model=Assignment,
    summary="Assign a project member to review a queue",
    openapi_extra=json_body(AssignmentRequest.model_json_schema()),
)
def post_assignment(queueId: str, key: AuthKey, engine: DbEngine, payload: JsonBody) -> JSON:
    with review_errors():
        user_id = w.assign_reviewer(engine, key.project_id, queueId, _object(payload).get("userId"))
    return JSON({"userId": user_id, "queueId": queueId, "projectId": key.project_id})


@router.delete(
    QUEUES + "/{queueId}/assignments",
    response_model=Deleted,
    summary="Unassign a reviewer (answered 200 also when the user was not assigned)",
    openapi_extra=json_body(AssignmentRequest.model_json_schema()),
)
def delete_assignment(queueId: str, key: AuthKey, engine: DbEngine, payload: JsonBody) -> JSON:
    or_404(get_queue(engine, key.project_id, queueId), "Annotation queue", queueId)
    with review_errors():
        removed = w.unassign_reviewer(engine, key.project_id, queueId, _object(payload).get("userId"))
    return JSON({"success": True, "message": "Reviewer unassigned" if removed else "The user was not assigned"})
