from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, insert, select

from interactiveai.server.retention import apply_retention, delete_traces, set_retention
from interactiveai.server.storage.schema import observations, scores, trace_tags, traces
from tests.conftest import Project

DAY_US = 86_400_000_000
NOW_US = 1_800_000_000_000_000


def _seed_trace(engine: Any, project_id: str, trace_id: str, timestamp_us: int) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(traces).values(
                project_id=project_id,
                id=trace_id,
                timestamp_us=timestamp_us,
                created_at_us=timestamp_us,
                updated_at_us=timestamp_us,
                tags='["a"]',
                metadata="{}",
                environment="default",
                level="DEFAULT",
            )
        )
        conn.execute(
            insert(trace_tags).values(
                project_id=project_id, tag="a", trace_id=trace_id, trace_created_at_us=timestamp_us
            )
        )
        for index in range(3):
            conn.execute(
                insert(observations).values(
                    project_id=project_id,
                    trace_id=trace_id,
                    id=f"{trace_id}-{index}",
                    start_time_us=timestamp_us,
                    created_at_us=timestamp_us,
                    trace_created_at_us=timestamp_us,
                    metadata="{}",
                    usage_details="{}",
                    cost_details="{}",
                    type="SPAN",
                    level="DEFAULT",
                    environment="default",
                )
            )
        conn.execute(
            insert(scores).values(
                project_id=project_id,
                id=f"s-{trace_id}",
                trace_id=trace_id,
                name="q",
                value=1.0,
                data_type="NUMERIC",
                source="API",
                metadata="{}",
                environment="default",
                timestamp_us=timestamp_us,
                created_at_us=timestamp_us,
                updated_at_us=timestamp_us,
            )
        )


def _count(engine: Any, table: Any, project_id: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(select(func.count()).select_from(table).where(table.c.project_id == project_id)).scalar()
        )


def test_delete_traces_removes_observations_scores_and_tags(
    engine: Any, project: Project, other_project: Project
) -> None:
    for trace_id in ("t1", "t2"):
        _seed_trace(engine, project.id, trace_id, NOW_US)
    _seed_trace(engine, other_project.id, "t1", NOW_US)

    assert delete_traces(engine, project.id, ["t1", "missing"]) == 1

    assert _count(engine, traces, project.id) == 1
    assert _count(engine, observations, project.id) == 3
    assert _count(engine, scores, project.id) == 1
    assert _count(engine, trace_tags, project.id) == 1
    # the other project's trace with the same id is untouched
    assert _count(engine, observations, other_project.id) == 3


def test_retention_deletes_only_old_traces_of_projects_with_retention(
    engine: Any, project: Project, other_project: Project
) -> None:
    _seed_trace(engine, project.id, "old", NOW_US - 10 * DAY_US)
    _seed_trace(engine, project.id, "new", NOW_US - 1 * DAY_US)
    _seed_trace(engine, other_project.id, "old", NOW_US - 100 * DAY_US)
    assert set_retention(engine, project.id, 7)

    assert apply_retention(engine, now=NOW_US) == {project.id: 1}

    with engine.connect() as conn:
        remaining = conn.execute(select(traces.c.project_id, traces.c.id).order_by(traces.c.id)).all()
    assert sorted(map(tuple, remaining)) == [(project.id, "new"), (other_project.id, "old")]
    assert _count(engine, observations, project.id) == 3


def test_retention_rejects_nonsense(engine: Any, project: Project) -> None:
    with pytest.raises(ValueError):
        set_retention(engine, project.id, 0)
    assert not set_retention(engine, "no-such-project", 3)
