"""The refresher's bookkeeping: what it writes, what it leaves, and a result it must drop."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select

from interactiveai.server.rollups.refresher import DirtyDay, rebuild, refresh_all, refresh_day
from interactiveai.server.storage.rollup_schema import DAY_US, HOUR_US, rollup_dirty, rollup_trace_hours
from tests.server.query.seed import T0, add_trace, trace_id


def _log(engine: Any) -> list[tuple[int, int]]:
    with engine.connect() as conn:
        return [(r.id, r.hour_us) for r in conn.execute(select(rollup_dirty.c.id, rollup_dirty.c.hour_us))]


def _rolled(engine: Any) -> int:
    with engine.connect() as conn:
        query = select(func.coalesce(func.sum(rollup_trace_hours.c.traces), 0)).where(rollup_trace_hours.c.hours == 1)
        return int(conn.execute(query).scalar_one())


def test_a_refresh_writes_hour_and_day_rows_and_clears_what_it_read(engine: Any, project: Any) -> None:
    add_trace(engine, project.id, trace_id(1), timestamp_us=T0 + 5 * HOUR_US)
    add_trace(engine, project.id, trace_id(2), timestamp_us=T0 + 7 * HOUR_US + 1)
    log = _log(engine)
    assert sorted(h for _, h in log) == [T0 + 5 * HOUR_US, T0 + 7 * HOUR_US]
    assert refresh_day(engine, DirtyDay(project.id, T0, [i for i, _ in log], {h for _, h in log}))
    assert _log(engine) == [] and _rolled(engine) == 2
    with engine.connect() as conn:
        days = select(rollup_trace_hours.c.traces).where(rollup_trace_hours.c.hours == 24)
        assert conn.execute(days).scalars().all() == [2]
    # a later write leaves its own log row: the hour is dirty again until the next refresh
    add_trace(engine, project.id, trace_id(3), timestamp_us=T0 + DAY_US)
    assert [h for _, h in _log(engine)] == [T0 + DAY_US]
    refresh_all(engine)
    assert _log(engine) == [] and _rolled(engine) == 3


def test_sqlite_drops_a_result_whose_log_rows_another_process_cleared(engine: Any, project: Any) -> None:
    add_trace(engine, project.id, trace_id(1), timestamp_us=T0 + HOUR_US)
    log = _log(engine)
    with engine.begin() as conn:  # another refresher (process) cleared them meanwhile
        conn.execute(delete(rollup_dirty))
    done = refresh_day(engine, DirtyDay(project.id, T0, [i for i, _ in log], {h for _, h in log}))
    if engine.dialect.name == "sqlite":
        assert not done and _rolled(engine) == 0  # its snapshot may be older than the other's
    else:
        assert done and _rolled(engine) == 1  # under the day's advisory lock the later one is the newer


def test_rebuild_recomputes_rows_changed_behind_the_writers_back(engine: Any, project: Any) -> None:
    add_trace(engine, project.id, trace_id(1), timestamp_us=T0 + HOUR_US)
    refresh_all(engine)
    with engine.begin() as conn:
        from interactiveai.server.storage.schema import traces

        conn.execute(delete(traces))  # not through a writer: no dirty hour
    assert _rolled(engine) == 1
    assert rebuild(engine, project.id) >= 1
    assert _rolled(engine) == 0 and _log(engine) == []
