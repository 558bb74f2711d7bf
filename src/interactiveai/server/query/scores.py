"""Score queries: the filtered list (newest first), one score, and a trace's or session's scores."""

from __future__ import annotations

from sqlalchemy import func, select

from interactiveai.server.query._db import Db, connect
from interactiveai.server.query.filters import ScoreFilter, score_conditions
from interactiveai.server.query.pagination import Page, check_page, offset_of
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
    query = (
        select(scores)
        .where(*conditions)
        .order_by(scores.c.timestamp_us.desc(), scores.c.id.desc())
        .limit(limit)
        .offset(offset_of(page, limit))
    )
    with connect(db) as conn:
        items = [score_from_row(r) for r in conn.execute(query).mappings()]
        total = None
        if with_total:
            total = conn.execute(select(func.count()).select_from(scores).where(*conditions)).scalar_one()
    return Page(items=items, page=page, limit=limit, total=total)


def get_score(db: Db, project_id: str, score_id: str) -> Score | None:
    with connect(db) as conn:
        row = (
            conn.execute(select(scores).where(scores.c.project_id == project_id, scores.c.id == score_id))
            .mappings()
            .first()
        )
    return None if row is None else score_from_row(row)


def scores_for_session(db: Db, project_id: str, session_id: str) -> list[Score]:
    """Scores attached to the session itself (not to its traces), oldest first."""
    query = (
        select(scores)
        .where(scores.c.project_id == project_id, scores.c.session_id == session_id)
        .order_by(scores.c.timestamp_us, scores.c.id)
    )
    with connect(db) as conn:
        return [score_from_row(r) for r in conn.execute(query).mappings()]
