"""Observations filtered by a level other than DEFAULT, or by a name, are read through their indexes.

On SQLite without statistics the list walked the project's start-time index and read every row
until it had a page of errors (and counted up to 1,001 of them the same way): 132-163 ms at
200,000 traces, whatever the page. A name few observations have took 6 s the same way on
PostgreSQL at 5 M observations (migration 0016).
"""

from __future__ import annotations

from typing import Any

import pytest

from interactiveai.server.query import observations as observation_queries
from interactiveai.server.query.filters import ObservationFilter
from interactiveai.server.query.observations import list_observations
from tests.server.query.seed import SECOND, T0, add_observation, obs_id, trace_id
from tests.server.query.test_people_list_plans import plans, seed
from tests.server.storage.test_query_plans import captured


@pytest.mark.parametrize("levels", [["ERROR"], ["error"]])
def test_observations_by_level_read_the_level_index(dialect: str, engine: Any, levels: list[str]) -> None:
    if dialect != "sqlite":
        pytest.skip("SQLite's plans")
    seed(engine)
    with captured(engine) as statements:
        page = list_observations(engine, "p1", ObservationFilter(levels=levels))
    assert len(page.items) == 15 and {o.level for o in page.items} == {"ERROR"}
    details = [d for _s, d in plans(engine, statements) if "observations" in d]
    assert details and all("ix_observations_project_level_start" in d for d in details), details


def test_observations_by_name_read_the_name_index(dialect: str, engine: Any) -> None:
    if dialect != "sqlite":
        pytest.skip("SQLite's plans")
    seed(engine)
    for n in range(0, 30, 10):
        add_observation(engine, "p1", trace_id(n), obs_id(100 + n), name="rerank", start_time_us=T0 + n * SECOND)
    with captured(engine) as statements:
        page = list_observations(engine, "p1", ObservationFilter(name="rerank"))
    assert [o.id for o in page.items] == [obs_id(120), obs_id(110), obs_id(100)]
    assert page.total == 3
    details = [d for _s, d in plans(engine, statements) if "observations" in d]
    assert details and all("ix_observations_project_name_start" in d for d in details), details


@pytest.mark.parametrize("few", [0, 5_000])
def test_a_users_observations_are_read_by_their_traces_keys(
    dialect: str, engine: Any, monkeypatch: pytest.MonkeyPatch, few: int
) -> None:
    """The count (and, for a user with few traces, the page) reads each of the user's traces'
    observations by the whole primary-key prefix: by the creation time alone, SQLite read every
    observation of each trace's ingestion batch."""
    if dialect != "sqlite":
        pytest.skip("SQLite's plans")
    monkeypatch.setattr(observation_queries, "FEW_TRACES", few)
    seed(engine)
    with captured(engine) as statements:
        page = list_observations(engine, "p1", ObservationFilter(user_id="user-1"), limit=3)
    assert len(page.items) == 3 and page.total == 8
    found = plans(engine, statements)
    reads = [d for _s, d in found if "SEARCH observations" in d]
    assert reads and all("trace_created_at_us=? AND trace_id=?" in d for d in reads if "_start" not in d), reads
    count = [d for s, d in found if "count(" in s.lower() and "JOIN observations" in s]
    assert [d.split(" USING")[0] for d in count if d.startswith("SEARCH")] == [
        "SEARCH traces",
        "SEARCH observations",
    ], count
