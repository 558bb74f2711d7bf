"""Score queries: the filtered list (newest first), one score, and a trace's or session's scores."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, select

from interactiveai.server.query._db import Db, fetch_all, fetch_one, fetch_page, matching_rows
from interactiveai.server.query.filters import ScoreFilter, score_conditions
from interactiveai.server.query.pagination import Page, check_page
from interactiveai.server.query.records import Score, score_from_row
from interactiveai.server.storage.schema import scores


def list_scores(
    db: Db,
    project_id: str,
    filters: ScoreFilter | None = None,
    *,
    page: int = 1,
    limit: int = 50,
    with_total: bool = True,
) -> Page[Score]:
    """One page of a project's scores, by timestamp descending (then id descending).

    Raises:
        ValueError: bad page/limit or value operator.
    """
    check_page(page, limit)
    conditions = score_conditions(project_id, filters)
    query = select(scores).where(*conditions).order_by(scores.c.timestamp_us.desc(), scores.c.id.desc())
    counted = matching_rows(scores, conditions) if with_total else None
    return fetch_page(db, query, score_from_row, page=page, limit=limit, counted=counted)


def get_score(db: Db, project_id: str, score_id: str) -> Score | None:
    return fetch_one(
        db, select(scores).where(scores.c.project_id == project_id, scores.c.id == score_id), score_from_row
    )


def scores_for_session(db: Db, project_id: str, session_id: str) -> list[Score]:
    """Scores attached to the session itself (not to its traces), oldest first."""
    return _scores_of(db, project_id, scores.c.session_id, session_id)


def scores_for_trace(db: Db, project_id: str, trace_id: str) -> list[Score]:
    """Scores attached to a trace or its observations, oldest first."""
    return _scores_of(db, project_id, scores.c.trace_id, trace_id)


def _scores_of(db: Db, project_id: str, target: ColumnElement[Any], target_id: str) -> list[Score]:
    # "+ 0": ordered by the bare column, SQLite without statistics walked the project's every score
    # on the (project_id, timestamp_us) index to avoid sorting a trace's or session's few
    query = (
        select(scores)
        .where(scores.c.project_id == project_id, target == target_id)
        .order_by(scores.c.timestamp_us + 0, scores.c.id)
    )
    return fetch_all(db, query, score_from_row)
