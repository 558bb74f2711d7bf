"""JSON shapes of comments and annotation queues (wire names of the reference API), and the
functions that build them from records."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from interactiveai.server.api.models import Body, Meta, _Out, documented
from interactiveai.server.api.schemas import choice, text
from interactiveai.server.clock import us_to_iso
from interactiveai.server.query.review import AnnotationQueue, Comment, QueueItem
from interactiveai.server.storage.review_schema import ITEM_STATUSES, OBJECT_TYPES
from interactiveai.server.writes.review import MAX_COMMENT, MAX_OBJECT_ID, MAX_QUEUE_NAME

ObjectType = Literal["TRACE", "OBSERVATION", "SESSION"]
ItemStatus = Literal["PENDING", "COMPLETED"]


class CommentOut(_Out):
    id: str
    projectId: str
    objectType: ObjectType
    objectId: str
    content: str
    authorUserId: str | None
    createdAt: str
    updatedAt: str


class Comments(_Out):
    data: list[CommentOut]
    meta: Meta


class CommentCreate(Body):
    """A comment on a trace, an observation or a session of the project (404 if it has none)."""

    model_config = documented(
        {"objectType": "TRACE", "objectId": "0af7651916cd43dd8448eb211c80319c", "content": "Wrong tool chosen"}
    )

    projectId: Annotated[str | None, text()] = Field(default=None, description="If given, the key's project.")
    objectType: Annotated[str, choice(OBJECT_TYPES, optional=False)] = Field(description="In any case.")
    objectId: Annotated[str, text(MAX_OBJECT_ID, min_length=1, optional=False)]
    content: Annotated[str, text(MAX_COMMENT, min_length=1, optional=False)] = Field(description="Markdown source.")
    authorUserId: Annotated[str | None, text()] = None


class AnnotationQueueOut(_Out):
    id: str
    name: str
    description: str | None
    scoreConfigIds: list[str]
    createdAt: str
    updatedAt: str
    pendingItems: int = Field(description="Items not yet reviewed.")
    completedItems: int


class AnnotationQueues(_Out):
    data: list[AnnotationQueueOut]
    meta: Meta


class AnnotationQueueCreate(Body):
    """A queue: its unique name, and the score configs reviewers fill in for each item (in order)."""

    model_config = documented({"name": "Support answers", "description": "Weekly review", "scoreConfigIds": []})

    name: Annotated[str, text(MAX_QUEUE_NAME, min_length=1, optional=False)]
    description: Annotated[str | None, text()] = None
    scoreConfigIds: list[str] | None = Field(default=None, description="Ids of the project's score configs.")


class AnnotationQueueUpdate(Body):
    """The fields to change; the others keep their values (null: the name and configs stay, the
    description is cleared)."""

    model_config = documented({"description": "Escalated support answers, reviewed weekly"})

    name: Annotated[str | None, text(MAX_QUEUE_NAME, min_length=1)] = None
    description: Annotated[str | None, text()] = None
    scoreConfigIds: list[str] | None = Field(default=None, description="Ids of the project's score configs.")


class AnnotationQueueItemOut(_Out):
    id: str
    queueId: str
    objectId: str
    objectType: ObjectType
    status: ItemStatus
    completedAt: str | None
    completedByUserId: str | None = Field(description="The reviewer who completed the item.")
    createdAt: str
    updatedAt: str


class AnnotationQueueItems(_Out):
    data: list[AnnotationQueueItemOut]
    meta: Meta


class AnnotationQueueItemCreate(Body):
    """An object to review; if the queue holds it already, that item is returned unchanged."""

    model_config = documented({"objectType": "TRACE", "objectId": "0af7651916cd43dd8448eb211c80319c"})

    objectId: Annotated[str, text(MAX_OBJECT_ID, min_length=1, optional=False)]
    objectType: Annotated[str, choice(OBJECT_TYPES, optional=False)]
    status: Annotated[str | None, choice(ITEM_STATUSES)] = Field(default=None, description="Default PENDING.")


class AnnotationQueueItemUpdate(Body):
    model_config = documented({"status": "COMPLETED"})

    status: Annotated[str, choice(ITEM_STATUSES, optional=False)]


class AssignmentRequest(Body):
    model_config = documented({"userId": "3c1d2b84-5e0f-4a61-9b7e-2f6a8d9c0e1b"})

    userId: Annotated[str, text(64, min_length=1, optional=False)] = Field(description="A member of the project.")


class Assignment(_Out):
    userId: str
    queueId: str
    projectId: str


class Deleted(_Out):
    success: bool
    message: str


def comment_json(comment: Comment) -> dict[str, Any]:
    return {
        "id": comment.id,
        "projectId": comment.project_id,
        "objectType": comment.object_type,
        "objectId": comment.object_id,
        "content": comment.content,
        "authorUserId": comment.author_user_id,
        "createdAt": us_to_iso(comment.created_at_us),
        "updatedAt": us_to_iso(comment.updated_at_us),
    }


def queue_json(queue: AnnotationQueue) -> dict[str, Any]:
    return {
        "id": queue.id,
        "name": queue.name,
        "description": queue.description,
        "scoreConfigIds": queue.score_config_ids,
        "createdAt": us_to_iso(queue.created_at_us),
        "updatedAt": us_to_iso(queue.updated_at_us),
        "pendingItems": queue.pending,
        "completedItems": queue.completed,
    }


def queue_item_json(item: QueueItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "queueId": item.queue_id,
        "objectId": item.object_id,
        "objectType": item.object_type,
        "status": item.status,
        "completedAt": us_to_iso(item.completed_at_us) if item.completed_at_us is not None else None,
        "completedByUserId": item.completed_by_user_id,
        "createdAt": us_to_iso(item.created_at_us),
        "updatedAt": us_to_iso(item.updated_at_us),
    }
