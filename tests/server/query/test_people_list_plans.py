"""The sessions and users lists never group a whole window.

On SQLite (no statistics, as a database filled through ingestion): every statement the lists run
is captured and planned. Grouping reads only the page's sessions or users by their key; the
window's traces are walked newest first instead, through a covering index.
"""

from __future__ import annotations

from typing import Any

import pytest

from interactiveai.server.query.filters import SessionFilter, UserFilter
from interactiveai.server.query.sessions import list_sessions
from interactiveai.server.query.users import list_users
from tests.server.query.seed import SECOND, T0, add_observation, add_trace, obs_id, trace_id
from tests.server.storage.test_query_plans import captured

KEYED = ("session_id=?", "user_id=?", "timestamp_us=?")


def plans(engine: Any, statements: list[tuple[str, Any]]) -> list[tuple[str, str]]:
    found = []
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        for statement, parameters in statements:
            for row in raw.execute("EXPLAIN QUERY PLAN " + statement, parameters).fetchall():
                found.append((statement, row[-1]))
    return found


def seed(engine: Any) -> None:
    for n in range(30):
        add_trace(
            engine,
            "p1",
            trace_id(n),
            user_id=f"user-{n % 4}",
            session_id=f"session-{n % 7}",
            timestamp_us=T0 + n * SECOND,
            environment=("production", "default")[n % 2],
        )
        add_observation(engine, "p1", trace_id(n), obs_id(n), level=("ERROR", "DEFAULT")[n % 2])


@pytest.mark.parametrize(
    "call",
    [
        lambda e: list_sessions(e, "p1"),
        lambda e: list_sessions(e, "p1", SessionFilter(from_us=T0 + 5 * SECOND, environments=["production"])),
        lambda e: list_users(e, "p1"),
        lambda e: list_users(e, "p1", UserFilter(from_us=T0 + 5 * SECOND, to_us=T0 + 20 * SECOND)),
    ],
)
def test_people_lists_group_only_the_page(dialect: str, engine: Any, call: Any) -> None:
    if dialect != "sqlite":
        pytest.skip("SQLite's plans")
    seed(engine)
    with captured(engine) as statements:
        assert call(engine).items
    wrong = []
    for statement, detail in plans(engine, statements):
        reads = " traces " in f"{detail} " or "rollup_user_hours" in detail
        if not reads:
            continue
        if detail.startswith("SCAN") or ("GROUP BY" in statement and not any(k in detail for k in KEYED)):
            wrong.append(f"{detail}  <-  {statement[:200]}")
        walk = "ORDER BY traces.timestamp_us DESC" in statement and "LIMIT" in statement
        if walk and ("traces.session_id" in statement or "traces.user_id" in statement):
            assert "ix_traces_project_time_keys" in detail and "COVERING" in detail, detail
    assert not wrong, "\n".join(wrong)
