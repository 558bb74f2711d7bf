"""Reads of human review: comments, annotation queues with their progress, queue items, reviewers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import RowMapping, Text, any_, bindparam, case, func, literal, literal_column, select, tuple_, union_all
from sqlalchemy.dialects import postgresql

from interactiveai.server.query._db import Db, connect, fetch_all, fetch_one, fetch_page, load_json_list, matching_rows
from interactiveai.server.query.pagination import Page, check_page
from interactiveai.server.storage.review_schema import (
    annotation_queue_assignments,
    annotation_queue_items,
    annotation_queues,
    comments,
)
from interactiveai.server.storage.schema import observations, observations_of_trace, users


@dataclass(frozen=True, slots=True)
class Comment:
    id: str
    project_id: str
    object_type: str
    object_id: str
    content: str
    author_user_id: str | None
    author_email: str | None
    created_at_us: int
    updated_at_us: int


@dataclass(frozen=True, slots=True)
class AnnotationQueue:
    id: str
    project_id: str
    name: str
    description: str | None
    score_config_ids: list[str]
    created_at_us: int
    updated_at_us: int
    pending: int = 0
    completed: int = 0


@dataclass(frozen=True, slots=True)
class QueueItem:
    id: str
    project_id: str
    queue_id: str
    object_type: str
    object_id: str
    status: str
    completed_at_us: int | None
    completed_by_user_id: str | None
    completed_by_email: str | None
    created_at_us: int
    updated_at_us: int


def _comment(row: RowMapping) -> Comment:
    return Comment(**{k: row[k] for k in Comment.__slots__})


def _queue(row: RowMapping) -> AnnotationQueue:
    values = {k: row[k] for k in AnnotationQueue.__slots__ if k in row and k != "score_config_ids"}
    return AnnotationQueue(score_config_ids=[str(i) for i in load_json_list(row["score_config_ids"])], **values)


def _item(row: RowMapping) -> QueueItem:
    return QueueItem(**{k: row[k] for k in QueueItem.__slots__})


_COMMENT_COLUMNS = [*comments.c, users.c.email.label("author_email")]
_ITEM_COLUMNS = [*annotation_queue_items.c, users.c.email.label("completed_by_email")]


def list_comments(
    db: Db,
    project_id: str,
    *,
    object_type: str | None = None,
    object_id: str | None = None,
    author_user_id: str | None = None,
    page: int = 1,
    limit: int = 50,
) -> Page[Comment]:
    """Comments, oldest first (a conversation reads top to bottom)."""
    check_page(page, limit)
    cond = [comments.c.project_id == project_id]
    for column, value in (
        (comments.c.object_type, object_type),
        (comments.c.object_id, object_id),
        (comments.c.author_user_id, author_user_id),
    ):
        if value is not None:
            cond.append(column == value)
    query = (
        select(*_COMMENT_COLUMNS)
        .select_from(comments.outerjoin(users, users.c.id == comments.c.author_user_id))
        .where(*cond)
        .order_by(comments.c.created_at_us, comments.c.id)
    )
    return fetch_page(db, query, _comment, page=page, limit=limit, counted=matching_rows(comments, cond))


def get_comment(db: Db, project_id: str, comment_id: str) -> Comment | None:
    query = (
        select(*_COMMENT_COLUMNS)
        .select_from(comments.outerjoin(users, users.c.id == comments.c.author_user_id))
        .where(comments.c.project_id == project_id, comments.c.id == comment_id)
    )
    return fetch_one(db, query, _comment)


def comment_counts(db: Db, project_id: str, object_type: str, object_ids: list[str]) -> dict[str, int]:
    """How many comments each of these objects has (objects without any are left out)."""
    if not object_ids:
        return {}
    query = (
        select(comments.c.object_id, func.count())
        .where(
            comments.c.project_id == project_id,
            comments.c.object_type == object_type,
            comments.c.object_id.in_(object_ids),
        )
        .group_by(comments.c.object_id)
    )
    with connect(db) as conn:
        return {str(object_id): int(count) for object_id, count in conn.execute(query)}


def _progress(project_id: str) -> Any:
    items = annotation_queue_items
    return (
        select(
            items.c.queue_id,
            func.sum(case((items.c.status == "PENDING", 1), else_=0)).label("pending"),
            func.sum(case((items.c.status == "COMPLETED", 1), else_=0)).label("completed"),
        )
        .where(items.c.project_id == project_id)
        .group_by(items.c.queue_id)
        .subquery()
    )


def _queue_query(project_id: str) -> Any:
    progress = _progress(project_id)
    return select(
        *annotation_queues.c,
        func.coalesce(progress.c.pending, 0).label("pending"),
        func.coalesce(progress.c.completed, 0).label("completed"),
    ).select_from(annotation_queues.outerjoin(progress, progress.c.queue_id == annotation_queues.c.id))


def list_queues(db: Db, project_id: str, *, page: int = 1, limit: int = 50) -> Page[AnnotationQueue]:
    """A project's queues by name, with how many items are pending and completed."""
    check_page(page, limit)
    cond = [annotation_queues.c.project_id == project_id]
    query = _queue_query(project_id).where(*cond).order_by(annotation_queues.c.name, annotation_queues.c.id)
    return fetch_page(db, query, _queue, page=page, limit=limit, counted=matching_rows(annotation_queues, cond))


def get_queue(db: Db, project_id: str, queue_id: str) -> AnnotationQueue | None:
    query = _queue_query(project_id).where(
        annotation_queues.c.project_id == project_id, annotation_queues.c.id == queue_id
    )
    return fetch_one(db, query, _queue)


def _items_from() -> Any:
    items = annotation_queue_items
    return items.outerjoin(users, users.c.id == items.c.completed_by_user_id)


def list_queue_items(
    db: Db, project_id: str, queue_id: str, *, status: str | None = None, page: int = 1, limit: int = 50
) -> Page[QueueItem]:
    """A queue's items in the order they were added (the order reviewers step through them)."""
    check_page(page, limit)
    items = annotation_queue_items
    cond = [items.c.project_id == project_id, items.c.queue_id == queue_id]
    if status is not None:
        cond.append(items.c.status == status)
    query = select(*_ITEM_COLUMNS).select_from(_items_from()).where(*cond).order_by(items.c.created_at_us, items.c.id)
    return fetch_page(db, query, _item, page=page, limit=limit, counted=matching_rows(items, cond))


def get_queue_item(db: Db, project_id: str, queue_id: str, item_id: str) -> QueueItem | None:
    items = annotation_queue_items
    query = (
        select(*_ITEM_COLUMNS)
        .select_from(_items_from())
        .where(items.c.project_id == project_id, items.c.queue_id == queue_id, items.c.id == item_id)
    )
    return fetch_one(db, query, _item)


def next_pending_item(db: Db, project_id: str, queue_id: str, *, after: QueueItem | None = None) -> QueueItem | None:
    """The first pending item in queue order; after ``after`` when given ("skip" moves on, then wraps)."""
    items = annotation_queue_items
    cond = [items.c.project_id == project_id, items.c.queue_id == queue_id, items.c.status == "PENDING"]
    query = select(*_ITEM_COLUMNS).select_from(_items_from()).order_by(items.c.created_at_us, items.c.id).limit(1)
    if after is not None:
        later = tuple_(items.c.created_at_us, items.c.id) > tuple_(literal(after.created_at_us), literal(after.id))
        found = fetch_one(db, query.where(*cond, later), _item)
        if found is not None:
            return found
    return fetch_one(db, query.where(*cond), _item)


def queue_reviewers(db: Db, project_id: str, queue_id: str) -> list[tuple[str, str]]:
    """The (user id, email) of the users assigned to a queue."""
    assigned = annotation_queue_assignments
    query = (
        select(users.c.id, users.c.email)
        .select_from(assigned.join(users, users.c.id == assigned.c.user_id))
        .where(assigned.c.project_id == project_id, assigned.c.queue_id == queue_id)
        .order_by(users.c.email)
    )
    return fetch_all(db, query, lambda row: (str(row["id"]), str(row["email"])))


def queues_holding(db: Db, project_id: str, object_type: str, object_id: str) -> list[tuple[str, str]]:
    """(queue id, status) of every queue item for this object."""
    items = annotation_queue_items
    query = select(items.c.queue_id, items.c.status).where(
        items.c.project_id == project_id, items.c.object_type == object_type, items.c.object_id == object_id
    )
    return fetch_all(db, query, lambda row: (str(row["queue_id"]), str(row["status"])))


def reviewer_counts(db: Db, project_id: str, queue_id: str) -> list[tuple[str | None, int]]:
    """(reviewer email, completed items) of a queue, most first; None: completed through the API."""
    items = annotation_queue_items
    count = func.count().label("n")
    query = (
        select(users.c.email, count)
        .select_from(_items_from())
        .where(items.c.project_id == project_id, items.c.queue_id == queue_id, items.c.status == "COMPLETED")
        .group_by(users.c.email)
        .order_by(count.desc())
    )
    return fetch_all(db, query, lambda row: (row["email"], int(row["n"])))


MAX_TRACE_COMMENTS = 1_000  # per trace page: past this the page says so (an API caller may add any number)


def trace_comments(
    db: Db,
    project_id: str,
    trace_id: str,
    observation_ids: Sequence[str] | None = None,
    *,
    limit: int = MAX_TRACE_COMMENTS,
) -> list[Comment]:
    """The comments on a trace and on its observations (``observation_ids``, read from the trace
    when not given), oldest first, at most ``limit``. The ids are bound as one value, not joined to
    observations, whose plan would rest on statistics (without them PostgreSQL compared every
    comment of the project with every observation of the trace: 1 s at 1,000 of each)."""
    if observation_ids is None:
        of_trace = select(observations.c.id).where(observations_of_trace(project_id, trace_id))
        with connect(db) as conn:
            observation_ids = [str(i) for i in conn.execute(of_trace).scalars()]
    commented = _maybe_commented(db, project_id, "OBSERVATION", observation_ids)
    return comments_on(db, project_id, {"TRACE": [trace_id], "OBSERVATION": commented}, limit=limit)


_PROBE_ALL = 64  # ids: up to this many are probed in the index without first reading what it names


def _maybe_commented(db: Db, project_id: str, object_type: str, ids: Sequence[str]) -> list[str]:
    """Those of ``ids`` that may have comments. A project has few comments of a type next to a big
    trace's observations: when it has no more than there are ids, the ids its comments name are read
    from the index (a range, much cheaper than a probe per id: 10,000 probes took ~10 ms on SQLite)
    and only those are looked up; otherwise every id is."""
    if len(ids) <= _PROBE_ALL:
        return list(ids)
    named = (
        select(comments.c.object_id)
        .where(comments.c.project_id == project_id, comments.c.object_type == object_type)
        .limit(len(ids) + 1)
    )
    with connect(db) as conn:
        rows = [str(i) for i in conn.execute(named).scalars()]
    if len(rows) > len(ids):  # the limit cut the read short: some are not known
        return list(ids)
    return sorted(set(rows).intersection(ids))


def _one_of(db: Db, column: Any, ids: list[str]) -> Any:
    """``column IN ids`` with the ids as one bound value: an array on PostgreSQL, a JSON list on
    SQLite (no limit on their number; each is a probe of the column's index)."""
    if len(ids) == 1:
        return column == ids[0]
    if db.dialect.name == "postgresql":
        return column == any_(bindparam(None, ids, type_=postgresql.ARRAY(Text), unique=True))
    if db.dialect.name == "sqlite":
        listed: Any = select(literal_column("value")).select_from(func.json_each(orjson.dumps(ids).decode()))
        return column.in_(listed.scalar_subquery())
    return column.in_(ids)


def comments_on(
    db: Db, project_id: str, objects: dict[str, list[str]], *, limit: int = MAX_TRACE_COMMENTS
) -> list[Comment]:
    """The comments on these objects (ids by object type: a trace and its observations, a session
    and its traces), oldest first, at most ``limit``: one query, a branch per type on the
    (project, type, id) index (a UNION: SQLite plans ``a OR b`` as a walk of the project's comments)."""
    branches = [
        select(comments).where(
            comments.c.project_id == project_id,
            comments.c.object_type == object_type,
            _one_of(db, comments.c.object_id, ids),
        )
        for object_type, ids in objects.items()
        if ids
    ]
    if not branches:
        return []
    both = union_all(*branches).subquery()
    query = (
        select(*both.c, users.c.email.label("author_email"))
        .select_from(both.outerjoin(users, users.c.id == both.c.author_user_id))
        .order_by(both.c.created_at_us, both.c.id)
        .limit(limit)
    )
    return fetch_all(db, query, _comment)
