"""Score config queries (configs are archived, never deleted)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import false, select

from interactiveai.server.query._db import Db, fetch_one, fetch_page, load_json_list, matching_rows, record_from_row
from interactiveai.server.query.pagination import Page, check_page
from interactiveai.server.storage.schema import score_configs


@dataclass(frozen=True, slots=True)
class ScoreConfig:
    id: str
    project_id: str
    name: str
    data_type: str
    is_archived: bool
    min_value: float | None
    max_value: float | None
    categories: list[dict[str, Any]] | None
    description: str | None
    created_at_us: int
    updated_at_us: int


def score_config_from_row(row: Mapping[Any, Any]) -> ScoreConfig:
    return record_from_row(
        ScoreConfig,
        row,
        is_archived=bool(row["is_archived"]),
        categories=load_json_list(row["categories"]) if row["categories"] is not None else None,
    )


def list_score_configs(
    db: Db, project_id: str, *, page: int = 1, limit: int = 50, include_archived: bool = True
) -> Page[ScoreConfig]:
    """A project's score configs, newest first."""
    check_page(page, limit)
    cond = [score_configs.c.project_id == project_id]
    if not include_archived:
        cond.append(score_configs.c.is_archived == false())
    query = select(score_configs).where(*cond).order_by(score_configs.c.created_at_us.desc(), score_configs.c.id)
    return fetch_page(
        db, query, score_config_from_row, page=page, limit=limit, counted=matching_rows(score_configs, cond)
    )


def get_score_config(db: Db, project_id: str, config_id: str) -> ScoreConfig | None:
    query = select(score_configs).where(score_configs.c.project_id == project_id, score_configs.c.id == config_id)
    return fetch_one(db, query, score_config_from_row)
