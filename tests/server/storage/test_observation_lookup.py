"""Observations by span id: right rows on both engines, and SQLite probes the (project_id, id) index."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, bindparam, text

from interactiveai.server.storage.observation_lookup import BY_ID_INDEX, _statement, observations_by_id
from interactiveai.server.storage.schema import observations
from tests.server.query.seed import add_observation, add_trace, obs_id, trace_id


def test_finds_each_stored_id_once_per_trace_across_chunks(engine: Engine, project: Any, other_project: Any) -> None:
    add_trace(engine, project.id, trace_id(1))
    add_trace(engine, project.id, trace_id(2))
    add_trace(engine, other_project.id, trace_id(3))
    for n in range(0, 1200, 2):  # more ids than one statement takes
        add_observation(engine, project.id, trace_id(1), obs_id(n))
    add_observation(engine, project.id, trace_id(2), obs_id(4))  # the same span id in another trace
    add_observation(engine, other_project.id, trace_id(3), obs_id(6))  # and in another project

    wanted = [obs_id(n) for n in range(1200)] + [obs_id(4)]  # duplicates and unknown ids too
    with engine.connect() as conn:
        found = list(observations_by_id(conn, project.id, wanted, ("trace_id", "id")))
    pairs = sorted((row["trace_id"], row["id"]) for row in found)
    expected = sorted([(trace_id(1), obs_id(n)) for n in range(0, 1200, 2)] + [(trace_id(2), obs_id(4))])
    assert pairs == expected


def test_every_column_reads_back_typed(engine: Engine, project: Any) -> None:
    add_trace(engine, project.id, trace_id(1))
    stored = add_observation(engine, project.id, trace_id(1), obs_id(1), model="gpt-4o", input_tokens=12)
    with engine.connect() as conn:
        (row,) = observations_by_id(conn, project.id, [obs_id(1)], [c.name for c in observations.c])
    assert {k: row[k] for k in stored} == stored


def test_sqlite_searches_the_span_id_index_not_the_project(engine: Engine, project: Any) -> None:
    # Without statistics SQLite chose the covering primary key on project_id alone: every
    # observation of the project read per batch of ingestion (0.57 s per 500 ids at 3.3 M).
    if engine.dialect.name != "sqlite":
        return
    statement = _statement("sqlite", [observations.c.trace_id, observations.c.id], ["a", "b", "c"])
    explain = text("EXPLAIN QUERY PLAN " + statement.element.text).bindparams(
        bindparam("ids", ["a", "b", "c"], expanding=True)
    )
    with engine.connect() as conn:
        plan = " ".join(str(row[-1]) for row in conn.execute(explain, {"project_id": project.id}))
    assert f"INDEX {BY_ID_INDEX} (project_id=? AND id=?)" in plan, plan
