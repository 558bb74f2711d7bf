"""Migration 0017 over a database holding observations without a model: their hours are marked
dirty (rounded down, before 1970 too), the refresher then fills their roll-ups; downgrade and
upgrade again, both engines."""

from __future__ import annotations

from alembic import command
from sqlalchemy import func, select, text

from interactiveai.server.rollups.refresher import refresh_all
from interactiveai.server.storage import migrate
from interactiveai.server.storage.engines import create_db_engine
from interactiveai.server.storage.rollup_schema import HOUR_US, rollup_dirty, rollup_span_hours
from tests.server.query.seed import SECOND, T0, add_observation, add_trace, obs_id, trace_id

BEFORE_1970 = -HOUR_US - 90 * SECOND  # 1969-12-31 22:58:30


def test_migration_0017_marks_and_fills_the_roll_ups_of_observations_without_a_model(database_url: str) -> None:
    engine = create_db_engine(database_url, pool_size=2)
    migrate.upgrade(engine, "0016")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO projects (id, name, created_at_us) VALUES ('p1', 'p1', 1)"))
    add_trace(engine, "p1", trace_id(1), timestamp_us=T0)
    add_observation(engine, "p1", trace_id(1), obs_id(1), type="TOOL", start_time_us=T0 + 5 * SECOND)
    add_observation(engine, "p1", trace_id(1), obs_id(2), type="GENERATION", model="gpt-4o", start_time_us=T0)
    add_trace(engine, "p1", trace_id(2), timestamp_us=BEFORE_1970)
    add_observation(engine, "p1", trace_id(2), obs_id(3), type="SPAN", start_time_us=BEFORE_1970)

    migrate.upgrade(engine, "0017")
    with engine.connect() as conn:
        marked = set(conn.execute(select(rollup_dirty.c.hour_us)).scalars())
    assert marked == {T0 - T0 % HOUR_US, -2 * HOUR_US}
    refresh_all(engine)
    with engine.connect() as conn:
        rows = conn.execute(
            select(rollup_span_hours.c.hour_us, rollup_span_hours.c.type, rollup_span_hours.c.calls).where(
                rollup_span_hours.c.hours == 1
            )
        ).all()
    assert sorted(rows) == [(-2 * HOUR_US, "SPAN", 1), (T0 - T0 % HOUR_US, "TOOL", 1)]

    command.downgrade(migrate.alembic_config(engine), "0016")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM observations")).scalar_one() == 3
    migrate.upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(rollup_span_hours)).scalar_one() == 0
    refresh_all(engine)
    with engine.connect() as conn:
        assert (
            conn.execute(
                select(func.count()).select_from(rollup_span_hours).where(rollup_span_hours.c.hours == 1)
            ).scalar_one()
            == 2
        )
    engine.dispose()
