"""The sessions and users lists equal an exact grouping of the window's traces, whatever the writes did.

The lists find their page by walking the newest traces (``query/recent_keys.py``) and read users'
figures from ``rollup_user_hours`` beside exactly scanned hours; both must give the rows, order,
counts and sums of grouping every trace. Checked with the changes dirty and once refreshed, after
late spans (a trace moving to an earlier hour), deletion and retention, with walks in small
batches (so that batch edges and equal timestamps are crossed) and walks that give up.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from interactiveai.server.query import pagination, recent_keys
from interactiveai.server.query import users as users_module
from interactiveai.server.query.filters import SessionFilter, UserFilter, session_conditions, user_conditions
from interactiveai.server.query.records import User
from interactiveai.server.query.sessions import _aggregate, list_sessions
from interactiveai.server.query.users import list_users
from interactiveai.server.retention import apply_retention, set_retention
from interactiveai.server.storage.rollup_schema import DAY_US, rollup_user_hours
from interactiveai.server.storage.schema import traces
from tests.server.ingest.otlp_builders import SpanSpec
from tests.server.query.seed import SECOND, T0, add_trace, trace_id
from tests.server.rollups.conftest import BASE_NS, BASE_US, HOUR_NS, HOUR_US, WINDOWS, refresh
from tests.server.rollups.test_rollups_equal_exact import post, trace_spans

MINUTE_NS = 60_000_000_000
FILTERS: list[dict[str, Any]] = [{}, {"environments": ["production"]}, {"environments": ["staging", "default"]}]


@pytest.fixture(params=["walk", "small batches", "grouped"])
def walk_mode(request: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if request.param == "small batches":  # and users counted past the page from the roll-ups
        monkeypatch.setattr(recent_keys, "BATCH", 3)
        monkeypatch.setattr(users_module, "COUNT_WALK", 1)
    elif request.param == "grouped":  # every walk gives up: the grouping query answers
        monkeypatch.setattr(recent_keys, "BATCH", 2)
        monkeypatch.setattr(recent_keys, "WALK_LIMIT", 1)
    yield request.param


def spans_of(n: int, start_ns: int, **kw: Any) -> list[SpanSpec]:
    spans = trace_spans(n, start_ns, **kw)
    if kw.get("first_span", 0) == 0 and n % 5:
        spans[0].attributes["session.id"] = f"session-{n % 9}"
    return spans


def seed(client: Any, project: Any, other_project: Any) -> None:
    spans: list[SpanSpec] = []
    for n in range(1, 40):
        # traces 30-35 share one start time: ties in both orders
        start = BASE_NS + 20 * HOUR_NS if 30 <= n <= 35 else BASE_NS + (n * 53 % 48) * HOUR_NS + n * 7 * MINUTE_NS
        spans += spans_of(n, start)
    post(client, project, spans)
    post(client, other_project, spans_of(1, BASE_NS + HOUR_NS))


def exact_users(engine: Any, project_id: str, f: UserFilter) -> list[User]:
    t = traces.c
    query = (
        select(
            t.user_id,
            func.min(t.timestamp_us),
            func.max(t.timestamp_us),
            func.count(),
            func.sum(t.input_tokens),
            func.sum(t.output_tokens),
            func.sum(t.total_tokens),
            func.sum(t.total_cost),
        )
        .where(*user_conditions(project_id, f))
        .group_by(t.user_id)
    )
    with engine.connect() as conn:
        rows = [
            User(u, int(a), int(b), int(n), int(i or 0), int(o or 0), int(tt or 0), None if c is None else float(c))
            for u, a, b, n, i, o, tt, c in conn.execute(query)
        ]
    return sorted(rows, key=lambda u: (-u.last_seen_us, u.id))


def exact_session_ids(engine: Any, project_id: str, f: SessionFilter) -> list[str]:
    first = func.min(traces.c.timestamp_us)
    query = select(traces.c.session_id, first).where(*session_conditions(project_id, f)).group_by(traces.c.session_id)
    with engine.connect() as conn:
        return [s for _first, s in sorted(((int(a), s) for s, a in conn.execute(query)), reverse=True)]


def same_user(a: User, b: User) -> bool:
    cost = a.total_cost == b.total_cost or (
        a.total_cost is not None and b.total_cost is not None and math.isclose(a.total_cost, b.total_cost)
    )
    return (
        cost
        and (a.id, a.first_seen_us, a.last_seen_us, a.trace_count, a.total_tokens)
        == (
            b.id,
            b.first_seen_us,
            b.last_seen_us,
            b.trace_count,
            b.total_tokens,
        )
        and (a.input_tokens, a.output_tokens) == (b.input_tokens, b.output_tokens)
    )


def windows() -> list[tuple[int | None, int | None]]:
    return [(None, None), (BASE_US + 20 * HOUR_US, None), *WINDOWS]


def assert_lists_exact(engine: Any, project_id: str) -> None:
    for from_us, to_us in windows():
        for extra in FILTERS:
            label = f"window {from_us}..{to_us}, {extra}"
            uf = UserFilter(from_us=from_us, to_us=to_us, **extra)
            expected = exact_users(engine, project_id, uf)
            for limit in (2, 5, 50):
                got: list[User] = []
                for page in range(1, len(expected) // limit + 3):
                    result = list_users(engine, project_id, uf, page=page, limit=limit)
                    assert result.total == len(expected) and result.total_exact, label
                    got += result.items
                assert len(got) == len(expected) and all(map(same_user, got, expected)), (label, got, expected)
            for one in expected[:2]:
                named = list_users(
                    engine, project_id, UserFilter(from_us=from_us, to_us=to_us, user_ids=[one.id], **extra)
                )
                assert len(named.items) == 1 and same_user(named.items[0], one), label
            sf = SessionFilter(from_us=from_us, to_us=to_us, **extra)
            ids = exact_session_ids(engine, project_id, sf)
            with engine.connect() as conn:
                whole = _aggregate(conn, project_id, ids)
            for limit in (3, 50):
                pages = [
                    list_sessions(engine, project_id, sf, page=p, limit=limit) for p in range(1, len(ids) // limit + 3)
                ]
                assert all(p.total == len(ids) and p.total_exact for p in pages), label
                assert [s for p in pages for s in p.items] == whole, label
            for user in ("user-1", "user-2"):
                by_user = SessionFilter(from_us=from_us, to_us=to_us, user_id=user, **extra)
                assert [s.id for s in list_sessions(engine, project_id, by_user).items] == exact_session_ids(
                    engine, project_id, by_user
                ), label


def check(engine: Any, project: Any) -> None:
    assert_lists_exact(engine, project.id)  # the changed hours dirty: scanned
    refresh(engine)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(rollup_user_hours)).scalar_one() > 0
    assert_lists_exact(engine, project.id)  # from the roll-ups


def test_lists_after_ingestion_late_spans_deletion_and_retention(
    quiet_client: Any, engine: Any, project: Any, other_project: Any, walk_mode: str
) -> None:
    seed(quiet_client, project, other_project)
    check(engine, project)
    # late spans: trace 7 gains a span three hours before its start (an earlier hour, first in
    # its session), trace 8 a later one; then a trace of a new user and session
    late = spans_of(7, BASE_NS + (7 * 53 % 48) * HOUR_NS - 3 * HOUR_NS, first_span=5, spans=1)
    post(quiet_client, project, late + spans_of(8, BASE_NS + 30 * HOUR_NS, first_span=10, spans=2))
    post(quiet_client, project, spans_of(41, BASE_NS + 47 * HOUR_NS))
    check(engine, project)
    for n in (2, 11):
        assert quiet_client.delete(f"/api/public/traces/{n:032x}", headers=project.headers).status_code == 200
    check(engine, project)
    set_retention(engine, project.id, 1)
    assert apply_retention(engine, now=BASE_US + 25 * HOUR_US + DAY_US).get(project.id)
    check(engine, project)


def test_counts_stop_at_the_bound(engine: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the bound the total is bound + 1 and not exact (the page itself is still exact)."""
    monkeypatch.setattr(pagination, "COUNT_CAP", 5)
    for n in range(12):
        add_trace(engine, "p1", trace_id(n), user_id=f"u{n}", session_id=f"s{n}", timestamp_us=T0 + n * SECOND)
    users = list_users(engine, "p1", limit=2)
    sessions = list_sessions(engine, "p1", limit=2)
    assert [u.id for u in users.items] == ["u11", "u10"] and (users.total, users.total_exact) == (6, False)
    assert [s.id for s in sessions.items] == ["s11", "s10"] and (sessions.total, sessions.total_exact) == (6, False)


def test_users_counted_from_rollups_and_scanned_hours(engine: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The users' total past the page is counted from the roll-ups of clean hours and days and
    the trace rows of dirty and edge hours: the same whichever holds the users, per environment,
    exact up to the bound and the bound + 1 past it."""
    monkeypatch.setattr(pagination, "COUNT_CAP", 6)
    monkeypatch.setattr(users_module, "COUNT_WALK", 0)
    for n in range(14):  # users u0-u6 over three days in production, u7-u13 in staging
        env = "production" if n < 7 else "staging"
        add_trace(engine, "p1", trace_id(n), user_id=f"u{n}", environment=env, timestamp_us=T0 + n % 3 * DAY_US + n)
    add_trace(engine, "p1", trace_id(20), user_id="u0", environment="production", timestamp_us=T0 + 3 * DAY_US)
    filters = [
        UserFilter(),
        UserFilter(environments=["production"]),
        UserFilter(from_us=T0 + DAY_US, environments=["production"]),
        UserFilter(from_us=T0 + 30 * SECOND, to_us=T0 + DAY_US + 5 * HOUR_US),
        UserFilter(from_us=T0 + 2 * DAY_US, to_us=T0 + 3 * DAY_US),
    ]
    for when in ("dirty", "refreshed"):
        if when == "refreshed":
            refresh(engine)
        totals = []
        for f in filters:
            n = len(exact_users(engine, "p1", f))
            page = list_users(engine, "p1", f, limit=1)
            assert (page.total, page.total_exact) == (min(n, 7), n <= 6), (when, f)
            totals.append(page.total)
        assert totals == [7, 7, 5, 5, 4], when  # past the bound (twice), under it (three times)
