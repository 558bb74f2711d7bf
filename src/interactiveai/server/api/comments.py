"""Comments on traces, observations and sessions: create, list (by object or author), get."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query

from interactiveai.server.api.common import (
    JSON,
    AuthKey,
    DbEngine,
    JsonBody,
    LimitParam,
    PageParam,
    bad_request,
    client_errors,
    json_body,
    not_found,
    or_404,
    paged,
)
from interactiveai.server.api.models import CreatedId
from interactiveai.server.api.review_models import CommentCreate, CommentOut, Comments, comment_json
from interactiveai.server.query.review import get_comment, list_comments
from interactiveai.server.storage.review_schema import OBJECT_TYPES
from interactiveai.server.writes.datasets import NotFoundError
from interactiveai.server.writes.review import ConflictError, create_comment

router = APIRouter(tags=["comments"])
ObjectTypeParam = Literal["TRACE", "OBSERVATION", "SESSION", "trace", "observation", "session"]


@contextmanager
def review_errors() -> Iterator[None]:
    """400 for broken rules, 404 for an object, queue, config or member the project does not have,
    409 for a queue name already taken."""
    with client_errors():
        try:
            yield
        except NotFoundError as exc:
            raise not_found(exc.what, exc.key) from None
        except ConflictError as exc:
            raise HTTPException(status_code=409, detail=str(exc)) from None


@router.post(
    "/comments",
    response_model=CreatedId,
    summary="Comment on a trace, observation or session",
    description="A `projectId`, when given, must be the API key's project (a 400 otherwise).",
    openapi_extra=json_body(CommentCreate.model_json_schema()),
)
def post_comment(key: AuthKey, engine: DbEngine, payload: JsonBody) -> JSON:
    if not isinstance(payload, dict):
        raise bad_request("the body must be a JSON object")
    author = payload.get("authorUserId")
    if author is not None and not isinstance(author, str):
        raise bad_request("authorUserId must be a string")
    with review_errors():
        comment = create_comment(engine, key.project_id, payload, author_user_id=author or None)
    return JSON({"id": comment.id})


@router.get("/comments", response_model=Comments, summary="List comments, oldest first")
def get_comments(
    key: AuthKey,
    engine: DbEngine,
    page: PageParam = 1,
    limit: LimitParam = 50,
    objectType: Annotated[
        ObjectTypeParam | None, Query(description="TRACE, OBSERVATION or SESSION (any case).")
    ] = None,
    objectId: Annotated[str | None, Query(description="The object's comments (with objectType: of that type).")] = None,
    authorUserId: Annotated[str | None, Query()] = None,
) -> JSON:
    object_type = objectType.upper() if objectType else None
    if object_type is not None and object_type not in OBJECT_TYPES:
        raise bad_request(f"objectType must be one of {', '.join(OBJECT_TYPES)}")
    with client_errors():
        result = list_comments(
            engine,
            key.project_id,
            object_type=object_type,
            object_id=objectId or None,
            author_user_id=authorUserId or None,
            page=page,
            limit=limit,
        )
    return JSON(paged(result, comment_json))


@router.get("/comments/{commentId}", response_model=CommentOut, summary="One comment")
def get_one_comment(commentId: str, key: AuthKey, engine: DbEngine) -> JSON:
    return JSON(comment_json(or_404(get_comment(engine, key.project_id, commentId), "Comment", commentId)))
