from __future__ import annotations

from typing import Any

from interactiveai.server.query.filters import UserFilter
from interactiveai.server.query.users import get_user, list_users
from tests.server.query.seed import SECOND, T0, add_trace, trace_id


def test_users_aggregate_per_project_and_window(engine: Any) -> None:
    add_trace(engine, "p1", trace_id(1), user_id="alice", timestamp_us=T0, total_tokens=10, total_cost=0.5)
    add_trace(engine, "p1", trace_id(2), user_id="alice", timestamp_us=T0 + 10 * SECOND, total_tokens=5)
    add_trace(engine, "p1", trace_id(3), user_id="bob", timestamp_us=T0 + 5 * SECOND, environment="staging")
    add_trace(engine, "p1", trace_id(4), timestamp_us=T0)  # no user
    add_trace(engine, "p2", trace_id(5), user_id="alice", timestamp_us=T0, total_tokens=1000)

    page = list_users(engine, "p1")
    assert [u.id for u in page.items] == ["alice", "bob"] and page.total == 2
    alice = page.items[0]
    assert (alice.first_seen_us, alice.last_seen_us, alice.trace_count) == (T0, T0 + 10 * SECOND, 2)
    assert alice.total_tokens == 15 and alice.total_cost == 0.5
    assert page.items[1].total_cost is None

    windowed = list_users(engine, "p1", UserFilter(from_us=T0 + SECOND))
    assert [(u.id, u.trace_count) for u in windowed.items] == [("alice", 1), ("bob", 1)]
    assert [u.id for u in list_users(engine, "p1", UserFilter(environments=["staging"])).items] == ["bob"]
    assert list_users(engine, "p1", limit=1, page=2).items[0].id == "bob"

    found = get_user(engine, "p2", "alice")
    assert found is not None and found.total_tokens == 1000
    assert get_user(engine, "p2", "bob") is None
