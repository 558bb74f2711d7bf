"""Read-only helpers for the Scores page: a per-name summary over the filtered window, name suggestions.

Both queries are bounded: the summary groups by (name, data type) and keeps the ``MAX_NAMES`` most
frequent names; category counts are read only for those names, at most ``MAX_CATEGORIES`` rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, case, func, select

from interactiveai.server.query._db import Db, connect
from interactiveai.server.query.filters import ScoreFilter, score_conditions
from interactiveai.server.storage.schema import score_configs, scores

MAX_NAMES = 12
MAX_CATEGORIES = 200
MAX_NAME_OPTIONS = 200
MAX_AVERAGED = 1e300


@dataclass
class NameSummary:
    """One score name over the window: count, average of numeric/boolean values, category counts."""

    name: str
    data_type: str
    count: int
    average: float | None = None
    categories: list[tuple[str, int]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "dataType": self.data_type,
            "count": self.count,
            "average": self.average,
            "categories": [{"label": label, "count": n} for label, n in self.categories],
        }


def score_summary(db: Db, project_id: str, filters: ScoreFilter | None = None) -> list[NameSummary]:
    """The most frequent score names (and data types) matching ``filters``, most frequent first."""
    conditions = score_conditions(project_id, filters)
    count = func.count().label("n")
    # Values the API accepts are at most 1e300 in magnitude; a larger one (or an infinity) stored
    # by an older version is left out of the average: PostgreSQL's float sum would overflow and
    # fail the whole page, SQLite's would give an infinity that JSON cannot carry.
    averaged = case((func.abs(scores.c.value) <= MAX_AVERAGED, scores.c.value), else_=None)
    grouped = (
        select(scores.c.name, scores.c.data_type, count, func.avg(averaged).label("avg"))
        .where(*conditions)
        .group_by(scores.c.name, scores.c.data_type)
        .order_by(count.desc(), scores.c.name, scores.c.data_type)
        .limit(MAX_NAMES)
    )
    with connect(db) as conn:
        rows = conn.execute(grouped).all()
        result = [
            NameSummary(
                name=str(name),
                data_type=str(data_type),
                count=int(n),
                average=float(avg) if avg is not None and data_type in ("NUMERIC", "BOOLEAN") else None,
            )
            for name, data_type, n, avg in rows
        ]
        categorical = [s.name for s in result if s.data_type == "CATEGORICAL"]
        if categorical:
            cat_count = func.count().label("n")
            by_label = (
                select(scores.c.name, scores.c.string_value, cat_count)
                .where(*conditions, and_(scores.c.data_type == "CATEGORICAL", scores.c.name.in_(categorical)))
                .group_by(scores.c.name, scores.c.string_value)
                .order_by(cat_count.desc(), scores.c.string_value)
                .limit(MAX_CATEGORIES)
            )
            by_name = {s.name: s for s in result if s.data_type == "CATEGORICAL"}
            for name, label, n in conn.execute(by_label).all():
                by_name[str(name)].categories.append(("" if label is None else str(label), int(n)))
    return result


def score_names(db: Db, project_id: str) -> list[str]:
    """Distinct score names of the project, alphabetical, at most ``MAX_NAME_OPTIONS`` (filter suggestions)."""
    query = (
        select(scores.c.name)
        .where(scores.c.project_id == project_id)
        .group_by(scores.c.name)
        .order_by(scores.c.name)
        .limit(MAX_NAME_OPTIONS)
    )
    with connect(db) as conn:
        return [str(row[0]) for row in conn.execute(query)]


def config_names(db: Db, project_id: str, config_ids: list[str]) -> dict[str, str]:
    """Names of the project's score configs with these ids (archived ones too: scores keep them)."""
    wanted = sorted({i for i in config_ids if i})
    if not wanted:
        return {}
    query = select(score_configs.c.id, score_configs.c.name).where(
        score_configs.c.project_id == project_id, score_configs.c.id.in_(wanted)
    )
    with connect(db) as conn:
        return {str(i): str(n) for i, n in conn.execute(query)}
