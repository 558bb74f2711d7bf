"""Sessions (list and conversation replay) and users (list and page), with their JSON twins."""

from __future__ import annotations

from typing import Any

import pytest

from interactiveai.server.clock import now_us
from tests.server.ui.seed import add_trace, chat_trace, tid

MINUTE = 60 * 1_000_000


@pytest.fixture
def conversation(engine: Any, project: Any, other_project: Any) -> list[str]:
    now = now_us()
    turns = [
        ("Hi, can you help me plan a trip?", "Of course! Where would you like to go?"),
        ("Lisbon, in May.", "Great choice. May in Lisbon is warm and sunny."),
        ("What should I pack?", "Light clothes, comfortable shoes and a light jacket."),
    ]
    ids = []
    for i, (question, answer) in enumerate(turns):
        ids.append(
            chat_trace(
                engine,
                project.id,
                f"conv{i}",
                now - (30 - i * 2) * MINUTE,
                name="travel-agent",
                question=question,
                answer=answer,
                user_id="carol",
                session_id="trip-42",
            )
        )
    add_trace(engine, project.id, tid("solo"), timestamp_us=now - MINUTE, name="solo", user_id="dan", input="x")
    chat_trace(engine, other_project.id, "foreign", now - MINUTE, session_id="trip-42", user_id="mallory")
    return ids


def test_sessions_list(ui: Any, project: Any, conversation: list[str]) -> None:
    page = ui.get(f"/project/{project.id}/sessions")
    assert page.status_code == 200
    assert "trip-42" in page.text and "carol" in page.text and "mallory" not in page.text
    body = ui.get(f"/project/{project.id}/sessions.json").json()
    assert [s["id"] for s in body["data"]] == ["trip-42"]
    session = body["data"][0]
    assert session["traceCount"] == 3 and session["userIds"] == ["carol"]
    assert session["totalTokens"] == 3 * 138


def test_session_replay_is_a_conversation_in_order(ui: Any, project: Any, conversation: list[str]) -> None:
    page = ui.get(f"/project/{project.id}/sessions/trip-42")
    assert page.status_code == 200
    text = page.text
    positions = [text.index(s) for s in ("plan a trip", "Where would you like", "Lisbon, in May", "pack?")]
    assert positions == sorted(positions)
    for trace_id in conversation:
        assert f"/project/{project.id}/traces/{trace_id}" in text
    body = ui.get(f"/project/{project.id}/sessions/trip-42.json").json()
    assert [t["traceId"] for t in body["traces"]] == conversation
    assert body["userIds"] == ["carol"]


def test_unknown_session_is_404(ui: Any, project: Any, conversation: list[str]) -> None:
    assert ui.get(f"/project/{project.id}/sessions/nope").status_code == 404
    assert ui.get(f"/project/{project.id}/sessions/nope.json").status_code == 404


def test_users_list_and_page(ui: Any, project: Any, conversation: list[str]) -> None:
    body = ui.get(f"/project/{project.id}/users.json").json()
    assert [u["id"] for u in body["data"]] == ["dan", "carol"]
    carol = body["data"][1]
    assert carol["traceCount"] == 3 and carol["totalTokens"] == 3 * 138
    assert ui.get(f"/project/{project.id}/users.json?q=carol").json()["data"][0]["id"] == "carol"
    page = ui.get(f"/project/{project.id}/users/carol")
    assert page.status_code == 200
    assert "trip-42" in page.text and "travel-agent" in page.text
    user = ui.get(f"/project/{project.id}/users/carol.json").json()
    assert len(user["recentTraces"]) == 3 and user["recentSessions"][0]["id"] == "trip-42"
    assert ui.get(f"/project/{project.id}/users/mallory").status_code == 404


def test_people_pages_need_login_and_membership(client: Any, project: Any, other_project: Any) -> None:
    assert client.get(f"/project/{project.id}/sessions", follow_redirects=False).status_code == 303
    assert client.get(f"/project/{project.id}/users.json").status_code == 401


def test_session_search_opens_the_session(ui: Any, project: Any, conversation: list[str]) -> None:
    response = ui.get(f"/project/{project.id}/sessions?q=trip-42", follow_redirects=False)
    assert response.headers["location"] == f"/project/{project.id}/sessions/trip-42"
