"""Writes of human review: comments, annotation queues, their items and reviewers.

A comment or a queue item must name an object the project has (a trace, an observation, or a
session: some trace of the project carries the session id); a 404 otherwise, as the reference
API does. Adding an object a queue already holds returns the item it has (idempotent), so adding
"every trace of this filter" twice does not duplicate work for reviewers.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, delete, exists, func, select, update

from interactiveai.server.clock import now_us
from interactiveai.server.ingest.bulk import insert_ignore
from interactiveai.server.query.review import (
    AnnotationQueue,
    Comment,
    QueueItem,
    get_comment,
    get_queue,
    get_queue_item,
)
from interactiveai.server.storage.observation_lookup import observations_by_id
from interactiveai.server.storage.review_schema import (
    ITEM_STATUSES,
    OBJECT_TYPES,
    annotation_queue_assignments,
    annotation_queue_items,
    annotation_queues,
    comments,
)
from interactiveai.server.storage.schema import SHORT, memberships, score_configs, traces
from interactiveai.server.writes.datasets import NotFoundError
from interactiveai.server.writes.errors import MAX_ID, InvalidInputError, checked_key, checked_text, optional_text


class ConflictError(Exception):
    """A write that would clash with a stored row (a queue name taken): a 409."""


MAX_COMMENT = 5_000
MAX_OBJECT_ID = 1_000
MAX_QUEUE_NAME = SHORT.length or 200
MAX_ITEMS_PER_CALL = 10_000


def _required_key(value: Any, key: str, max_length: int) -> str:
    if value == "" or value is None:
        raise InvalidInputError(f"{key} must be a non-empty string")
    return checked_key(value, key, max_length)


def _choice(value: Any, key: str, choices: Sequence[str]) -> str:
    if not isinstance(value, str) or value.upper() not in choices:
        raise InvalidInputError(f"{key} must be one of {', '.join(choices)}")
    return value.upper()


def object_exists(conn: Connection, project_id: str, object_type: str, object_id: str) -> bool:
    if object_type == "TRACE":
        query = select(exists().where(traces.c.project_id == project_id, traces.c.id == object_id))
        return bool(conn.execute(query).scalar())
    if object_type == "SESSION":
        query = select(exists().where(traces.c.project_id == project_id, traces.c.session_id == object_id))
        return bool(conn.execute(query).scalar())
    return any(True for _ in observations_by_id(conn, project_id, [object_id], ["id"]))


def _object(conn: Connection, project_id: str, body: Mapping[str, Any]) -> tuple[str, str]:
    object_type = _choice(body.get("objectType"), "objectType", OBJECT_TYPES)
    object_id = _required_key(body.get("objectId"), "objectId", MAX_OBJECT_ID)
    if not object_exists(conn, project_id, object_type, object_id):
        raise NotFoundError(object_type.capitalize(), object_id)
    return object_type, object_id


# --- comments ---------------------------------------------------------------------------------


def create_comment(engine: Engine, project_id: str, body: Mapping[str, Any], *, author_user_id: str | None) -> Comment:
    """A comment on a trace, observation or session. ``author_user_id`` is the signed-in user (UI)
    or what the API caller declares (``authorUserId``)."""
    if body.get("projectId") not in (None, project_id):
        raise InvalidInputError("projectId must be the project of the API key")
    content = body.get("content")
    if not isinstance(content, str) or not content.strip():
        raise InvalidInputError("content must be a non-empty string")
    if len(content) > MAX_COMMENT:
        raise InvalidInputError(f"content must be at most {MAX_COMMENT} characters")
    checked_text(content, "content")
    if author_user_id is not None:
        checked_key(author_user_id, "authorUserId", MAX_ID)
    comment_id, now = str(uuid.uuid4()), now_us()
    with engine.begin() as conn:
        object_type, object_id = _object(conn, project_id, body)
        conn.execute(
            comments.insert().values(
                project_id=project_id,
                id=comment_id,
                object_type=object_type,
                object_id=object_id,
                content=content,
                author_user_id=author_user_id,
                created_at_us=now,
                updated_at_us=now,
            )
        )
    created = get_comment(engine, project_id, comment_id)
    assert created is not None
    return created


def delete_comment(engine: Engine, project_id: str, comment_id: str, *, author_user_id: str) -> bool:
    """Delete a comment its author wrote; False when there is no such comment of theirs."""
    with engine.begin() as conn:
        deleted = conn.execute(
            delete(comments).where(
                comments.c.project_id == project_id,
                comments.c.id == comment_id,
                comments.c.author_user_id == author_user_id,
            )
        )
    return deleted.rowcount > 0


def remove_comment(engine: Engine, project_id: str, comment_id: str) -> bool:
    """Delete a comment whoever wrote it (a moderator's delete); False when there is no such comment."""
    with engine.begin() as conn:
        deleted = conn.execute(delete(comments).where(comments.c.project_id == project_id, comments.c.id == comment_id))
    return deleted.rowcount > 0


# --- queues -----------------------------------------------------------------------------------


def _config_ids(conn: Connection, project_id: str, value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInputError("scoreConfigIds must be a list of score config ids")
    ids = list(dict.fromkeys(checked_key(v, "scoreConfigIds", MAX_ID) for v in value))
    found = set(
        conn.execute(
            select(score_configs.c.id).where(score_configs.c.project_id == project_id, score_configs.c.id.in_(ids))
        ).scalars()
    )
    missing = [i for i in ids if i not in found]
    if missing:
        # A 400, not a 404: the queue the request addresses exists; a body's reference is input.
        raise InvalidInputError(f"scoreConfigIds: score config {missing[0]!r} does not exist in this project")
    return ids


def _queue_values(conn: Connection, project_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InvalidInputError("name must be a non-empty string")
    return {
        "name": checked_key(name.strip(), "name", MAX_QUEUE_NAME),
        "description": optional_text(body, "description"),
        "score_config_ids": orjson.dumps(_config_ids(conn, project_id, body.get("scoreConfigIds"))).decode(),
    }


def _name_taken(conn: Connection, project_id: str, name: str, queue_id: str | None) -> bool:
    cond = [annotation_queues.c.project_id == project_id, annotation_queues.c.name == name]
    if queue_id is not None:
        cond.append(annotation_queues.c.id != queue_id)
    return bool(conn.execute(select(exists().where(*cond))).scalar())


def create_queue(engine: Engine, project_id: str, body: Mapping[str, Any]) -> AnnotationQueue:
    queue_id, now = str(uuid.uuid4()), now_us()
    with engine.begin() as conn:
        values = _queue_values(conn, project_id, body)
        if _name_taken(conn, project_id, values["name"], None):
            raise ConflictError(f"a queue named {values['name']!r} already exists")
        conn.execute(
            annotation_queues.insert().values(
                project_id=project_id, id=queue_id, created_at_us=now, updated_at_us=now, **values
            )
        )
    created = get_queue(engine, project_id, queue_id)
    assert created is not None
    return created


def update_queue(engine: Engine, project_id: str, queue_id: str, body: Mapping[str, Any]) -> AnnotationQueue | None:
    current = get_queue(engine, project_id, queue_id)
    if current is None:
        return None
    merged = {"name": current.name, "description": current.description, "scoreConfigIds": current.score_config_ids}
    # null leaves the name and the configs as they are, and clears the description
    merged.update({k: body[k] for k in merged if k in body and (body[k] is not None or k == "description")})
    with engine.begin() as conn:
        values = _queue_values(conn, project_id, merged)
        if _name_taken(conn, project_id, values["name"], queue_id):
            raise ConflictError(f"a queue named {values['name']!r} already exists")
        conn.execute(
            update(annotation_queues)
            .where(annotation_queues.c.project_id == project_id, annotation_queues.c.id == queue_id)
            .values(updated_at_us=now_us(), **values)
        )
    return get_queue(engine, project_id, queue_id)


def delete_queue(engine: Engine, project_id: str, queue_id: str) -> bool:
    """Delete a queue with its items and reviewers; the scores reviewers gave stay."""
    with engine.begin() as conn:
        for table in (annotation_queue_items, annotation_queue_assignments):
            conn.execute(delete(table).where(table.c.project_id == project_id, table.c.queue_id == queue_id))
        result = conn.execute(
            delete(annotation_queues).where(
                annotation_queues.c.project_id == project_id, annotation_queues.c.id == queue_id
            )
        )
    return result.rowcount > 0


# --- items ------------------------------------------------------------------------------------


def _require_queue(engine: Engine, project_id: str, queue_id: str) -> None:
    if get_queue(engine, project_id, queue_id) is None:
        raise NotFoundError("Annotation queue", queue_id)


def add_queue_objects(
    engine: Engine, project_id: str, queue_id: str, object_type: str, object_ids: Sequence[str]
) -> int:
    """Add objects (already known to exist, e.g. the traces of a filter) to a queue as pending
    items; those it holds already are left as they are. Returns how many were new."""
    _require_queue(engine, project_id, queue_id)
    if len(object_ids) > MAX_ITEMS_PER_CALL:
        raise InvalidInputError(f"at most {MAX_ITEMS_PER_CALL} items can be added at once")
    now = now_us()
    rows = [
        {
            "project_id": project_id,
            "id": str(uuid.uuid4()),
            "queue_id": queue_id,
            "object_type": object_type,
            "object_id": object_id,
            "status": "PENDING",
            "created_at_us": now + offset,  # one µs apart: reviewers get them in the order given
            "updated_at_us": now,
        }
        for offset, object_id in enumerate(dict.fromkeys(object_ids))
    ]
    if not rows:
        return 0
    items = annotation_queue_items
    with engine.begin() as conn:
        held = conn.execute(
            select(func.count()).where(
                items.c.project_id == project_id,
                items.c.queue_id == queue_id,
                items.c.object_type == object_type,
                items.c.object_id.in_([row["object_id"] for row in rows]),
            )
        ).scalar_one()
        conn.execute(insert_ignore(conn.dialect.name, items), rows)
    return len(rows) - int(held)


def create_queue_item(engine: Engine, project_id: str, queue_id: str, body: Mapping[str, Any]) -> QueueItem:
    """Add one object to a queue (the reference API's item create); the existing item if it is there."""
    _require_queue(engine, project_id, queue_id)
    status = "PENDING" if body.get("status") is None else _choice(body.get("status"), "status", ITEM_STATUSES)
    with engine.connect() as conn:
        object_type, object_id = _object(conn, project_id, body)
    add_queue_objects(engine, project_id, queue_id, object_type, [object_id])
    items = annotation_queue_items
    with engine.connect() as conn:
        item_id = conn.execute(
            select(items.c.id).where(
                items.c.project_id == project_id,
                items.c.queue_id == queue_id,
                items.c.object_type == object_type,
                items.c.object_id == object_id,
            )
        ).scalar_one()
    if status == "COMPLETED":
        update_queue_item(engine, project_id, queue_id, str(item_id), {"status": status}, user_id=None)
    found = get_queue_item(engine, project_id, queue_id, str(item_id))
    assert found is not None
    return found


def update_queue_item(
    engine: Engine, project_id: str, queue_id: str, item_id: str, body: Mapping[str, Any], *, user_id: str | None
) -> QueueItem | None:
    """Set an item's status: COMPLETED records when and by whom, PENDING reopens it."""
    status = _choice(body.get("status"), "status", ITEM_STATUSES)
    now = now_us()
    done = status == "COMPLETED"
    items = annotation_queue_items
    with engine.begin() as conn:
        conn.execute(
            update(items)
            .where(items.c.project_id == project_id, items.c.queue_id == queue_id, items.c.id == item_id)
            .values(
                status=status,
                completed_at_us=now if done else None,
                completed_by_user_id=user_id if done else None,
                updated_at_us=now,
            )
        )
    return get_queue_item(engine, project_id, queue_id, item_id)


def delete_queue_item(engine: Engine, project_id: str, queue_id: str, item_id: str) -> bool:
    items = annotation_queue_items
    with engine.begin() as conn:
        result = conn.execute(
            delete(items).where(items.c.project_id == project_id, items.c.queue_id == queue_id, items.c.id == item_id)
        )
    return result.rowcount > 0


# --- reviewers --------------------------------------------------------------------------------


def assign_reviewer(engine: Engine, project_id: str, queue_id: str, user: Any) -> str:
    """Assign a member of the project to a queue (again: no change); returns the user id."""
    user_id = _required_key(user, "userId", MAX_ID)
    _require_queue(engine, project_id, queue_id)
    with engine.begin() as conn:
        member = conn.execute(
            select(exists().where(memberships.c.project_id == project_id, memberships.c.user_id == user_id))
        ).scalar()
        if not member:
            raise NotFoundError("Project member", user_id)
        conn.execute(
            insert_ignore(conn.dialect.name, annotation_queue_assignments).values(
                project_id=project_id, queue_id=queue_id, user_id=user_id, created_at_us=now_us()
            )
        )
    return user_id


def unassign_reviewer(engine: Engine, project_id: str, queue_id: str, user: Any) -> bool:
    user_id = _required_key(user, "userId", MAX_ID)
    assigned = annotation_queue_assignments
    with engine.begin() as conn:
        result = conn.execute(
            delete(assigned).where(
                assigned.c.project_id == project_id, assigned.c.queue_id == queue_id, assigned.c.user_id == user_id
            )
        )
    return result.rowcount > 0
