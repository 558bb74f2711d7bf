"""Sessions and users lists sorted by a column, searched by an id prefix, with totals; the session
replay's failed observations and per-trace scores."""

from __future__ import annotations

from typing import Any

import pytest

from interactiveai.server.clock import now_us
from interactiveai.server.query import pagination, ui_people
from interactiveai.server.ui import views_people
from tests.server.ui.seed import add_trace, obs, oid, tid

MINUTE = 60 * 1_000_000


def _trace(engine: Any, pid: str, seed: str, minutes_ago: int, session: str, user: str, cost: float) -> str:
    o = obs(oid(seed), type="GENERATION", name="llm", cost={"total": cost}, usage={"input": 10, "output": 5})
    return add_trace(engine, pid, tid(seed), timestamp_us=now_us() - minutes_ago * MINUTE, session_id=session,
                     user_id=user, observations_=[o])  # fmt: skip


@pytest.fixture
def people(engine: Any, project: Any, other_project: Any) -> Any:
    pid = project.id
    _trace(engine, pid, "a1", 50, "s-alpha-1", "ann", 0.1)
    _trace(engine, pid, "a2", 40, "s-alpha-1", "ann", 0.1)
    _trace(engine, pid, "a3", 30, "s-alpha-1", "bob", 0.1)
    _trace(engine, pid, "b1", 20, "s-alpha-2", "bob", 2.0)
    _trace(engine, pid, "c1", 10, "s_beta", "annika", 0.5)
    _trace(engine, other_project.id, "x1", 5, "s-alpha-9", "ann-other", 9.0)
    return project


def _ids(ui: Any, path: str) -> list[str]:
    return [row["id"] for row in ui.get(path).json()["data"]]


def test_sessions_sorted_by_each_column(ui: Any, people: Any) -> None:
    base = f"/project/{people.id}/sessions.json?range=24h"
    assert _ids(ui, base) == ["s_beta", "s-alpha-2", "s-alpha-1"]  # default: most recently started
    assert _ids(ui, base + "&sort=cost") == ["s-alpha-2", "s_beta", "s-alpha-1"]
    assert _ids(ui, base + "&sort=cost&dir=asc") == ["s-alpha-1", "s_beta", "s-alpha-2"]
    assert _ids(ui, base + "&sort=traces")[0] == "s-alpha-1"
    assert _ids(ui, base + "&sort=duration")[0] == "s-alpha-1"
    assert _ids(ui, base + "&sort=id") == ["s-alpha-1", "s-alpha-2", "s_beta"]
    assert _ids(ui, base + "&sort=id&dir=desc") == ["s_beta", "s-alpha-2", "s-alpha-1"]
    assert _ids(ui, base + "&sort=started&dir=asc") == ["s-alpha-1", "s-alpha-2", "s_beta"]
    bogus = ui.get(base + "&sort=drop%20table&dir=sideways").json()
    assert bogus["meta"]["sort"] == "started" and [r["id"] for r in bogus["data"]] == [
        "s_beta",
        "s-alpha-2",
        "s-alpha-1",
    ]
    row = next(r for r in ui.get(base + "&sort=cost").json()["data"] if r["id"] == "s-alpha-1")
    assert row["traceCount"] == 3 and row["userIds"] == ["ann", "bob"] and row["totalCost"] == pytest.approx(0.3)


def test_users_sorted_and_headers_say_so(ui: Any, people: Any) -> None:
    base = f"/project/{people.id}/users"
    assert _ids(ui, base + ".json?range=24h&sort=cost") == ["bob", "annika", "ann"]
    assert _ids(ui, base + ".json?range=24h&sort=traces&dir=desc")[0] == "ann"
    assert _ids(ui, base + ".json?range=24h&sort=first_seen&dir=asc") == ["ann", "bob", "annika"]
    html = ui.get(base + "?range=24h&sort=cost").text
    assert 'aria-sort="descending"' in html and html.count("aria-sort=") == 1
    assert "sort=cost&amp;dir=asc" in html  # the sorted column's link flips it
    assert "3 users" in html


def test_prefix_search_is_a_prefix_not_a_pattern(ui: Any, people: Any) -> None:
    sessions = f"/project/{people.id}/sessions.json?range=all"
    assert _ids(ui, sessions + "&q=s-alpha") == ["s-alpha-2", "s-alpha-1"]  # not the other project's
    assert _ids(ui, sessions + "&q=s_") == ["s_beta"]  # "_" is a character, not a wildcard
    assert _ids(ui, sessions + "&q=s%25") == [] and _ids(ui, sessions + "&q=alpha") == []
    assert _ids(ui, sessions + "&q=s-alpha&sort=cost&dir=asc") == ["s-alpha-1", "s-alpha-2"]
    users = f"/project/{people.id}/users.json?range=all"
    assert _ids(ui, users + "&q=ann") == ["annika", "ann"] and _ids(ui, users + "&q=ann&sort=id") == ["ann", "annika"]
    meta = ui.get(users + "&q=ann").json()["meta"]
    assert (meta["totalItems"], meta["totalExact"], meta["hasMore"]) == (2, True, False)
    # the whole id of one session opens it, as the search box always did; a prefix lists
    opened = ui.get(f"/project/{people.id}/sessions?q=s-alpha-1", follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"].endswith("/sessions/s-alpha-1")
    listed = ui.get(f"/project/{people.id}/sessions?q=s-alpha")
    assert listed.status_code == 200 and "2 sessions" in listed.text and 'id="search-note"' in listed.text


def test_totals_exact_up_to_the_bound_then_a_lower_bound(ui: Any, people: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(views_people, "PAGE_SIZE", 2)
    html = ui.get(f"/project/{people.id}/sessions?range=24h").text
    assert "Page 1 · 3 sessions" in html and 'rel="next"' in html
    monkeypatch.setattr(pagination, "COUNT_CAP", 1)  # counts stop at the page's end (2) + 1
    body = ui.get(f"/project/{people.id}/users.json?range=24h&sort=cost").json()
    assert (body["meta"]["totalItems"], body["meta"]["totalExact"], body["meta"]["hasMore"]) == (3, False, True)
    assert "≥ 3 users" in ui.get(f"/project/{people.id}/users?range=24h&sort=cost").text


def test_sorting_by_a_figure_is_bounded(ui: Any, people: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ui_people, "SORT_SCAN_LIMIT", 2)
    body = ui.get(f"/project/{people.id}/sessions.json?range=24h&sort=cost").json()
    assert body["meta"]["sort"] == "id" and "sorting by a figure is offered up to 2 traces" in body["meta"]["note"]
    assert [r["id"] for r in body["data"]] == ["s-alpha-1", "s-alpha-2", "s_beta"]
    assert 'id="sort-note"' in ui.get(f"/project/{people.id}/sessions?range=24h&sort=cost").text


def test_session_replay_names_what_failed_and_shows_trace_scores(ui: Any, engine: Any, project: Any) -> None:
    failing = [
        obs(oid("root"), name="agent"),
        obs(oid("call"), parent=oid("root"), name="<b>weather-api</b>", level="ERROR", status="HTTP 503 <i>down</i>"),
        obs(oid("warn"), parent=oid("root"), name="retry", level="WARNING"),
    ]
    trace = add_trace(engine, project.id, tid("bad"), timestamp_us=now_us() - MINUTE, session_id="conv-1",
                      observations_=failing, trace_scores=[{"name": "helpfulness", "value": 0.25}])  # fmt: skip
    add_trace(engine, project.id, tid("good"), timestamp_us=now_us() - 2 * MINUTE, session_id="conv-1")
    html = ui.get(f"/project/{project.id}/sessions/conv-1").text
    assert 'class="page wide"' in html
    assert (
        "&lt;b&gt;weather-api&lt;/b&gt;" in html
        and "HTTP 503 &lt;i&gt;down&lt;/i&gt;" in html
        and "<i>down" not in html
    )
    assert f"/traces/{trace}?observation={oid('call')}" in html and "no status message" in html
    assert "helpfulness" in html and "0.25" in html
    turn = next(
        t for t in ui.get(f"/project/{project.id}/sessions/conv-1.json").json()["traces"] if t["traceId"] == trace
    )
    assert [p["name"] for p in turn["problems"]] == ["<b>weather-api</b>", "retry"]
    assert turn["problems"][0]["statusMessage"] == "HTTP 503 <i>down</i>"
    assert [s["name"] for s in turn["scores"]] == ["helpfulness"]
