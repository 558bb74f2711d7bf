"""Comments in the trace page: the trace's and each observation's, shown escaped with their line
breaks, added and deleted through the page's forms by role, bounded by the API's rules, read in
one query (both engines)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import event, insert

from interactiveai.server.query.review import list_comments, trace_comments
from interactiveai.server.storage.review_schema import comments
from interactiveai.server.tenancy import add_membership, create_user
from interactiveai.server.writes.review import MAX_COMMENT, create_comment
from tests.server.query.seed import add_observation, add_trace, obs_id, trace_id
from tests.server.ui.conftest import PASSWORD, csrf_from, login

HOSTILE = '<img src=x onerror="alert(1)">\n  second line'


@pytest.fixture
def trace(engine: Any, project: Any) -> str:
    """Trace 1 (observations 1 and 2) and trace 2 (observation 9); the path of trace 1's page."""
    add_trace(engine, project.id, trace_id(1), name="chat", session_id="s-1")
    add_observation(engine, project.id, trace_id(1), obs_id(1), name="llm")
    add_observation(engine, project.id, trace_id(1), obs_id(2), name="tool", parent_observation_id=obs_id(1))
    add_trace(engine, project.id, trace_id(2), name="other")
    add_observation(engine, project.id, trace_id(2), obs_id(9), name="elsewhere")
    return f"/project/{project.id}/traces/{trace_id(1)}"


def _post(client: Any, path: str, token: str, **data: Any) -> Any:
    return client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)


def _comment_on_page(client: Any, page: str, content: str, observation: str | None = None) -> Any:
    token = csrf_from(client.get(page).text)
    data = {"content": content, **({"observation_id": observation} if observation else {})}
    return _post(client, f"{page}/comments", token, **data)


def test_comments_shown_escaped_with_line_breaks_and_counts(ui: Any, project: Any, trace: str) -> None:
    on_trace = _comment_on_page(ui, trace, HOSTILE)
    assert on_trace.status_code == 303 and on_trace.headers["location"] == f"{trace}#trace-comments"
    on_obs = _comment_on_page(ui, trace, "looks <b>wrong</b>", observation=obs_id(1))
    assert on_obs.headers["location"] == f"{trace}?observation={obs_id(1)}#comments"

    page = ui.get(trace).text
    assert "<img" not in page and "<b>wrong" not in page  # neither in the header nor in the page's JSON
    assert re.search(r'id="trace-comment-count"[^>]*>1<', page)
    text = re.search(r'<div class="comment-text">(.*?)</div>', page, re.S)
    assert text and text.group(1) == "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;\n  second line"
    assert 'class="comment-author">member@example.com<' in page
    assert 'id="trace-comment-form"' in page and f'maxlength="{MAX_COMMENT}"' in page

    data = ui.get(f"{trace}.json").json()["comments"]
    assert [c["content"] for c in data["trace"]] == [HOSTILE]
    assert list(data["observations"]) == [obs_id(1)]
    mine = data["observations"][obs_id(1)][0]
    assert mine["author"] == "member@example.com" and mine["mine"] and mine["canDelete"]
    assert mine["createdAt"].endswith("Z") and data["canComment"] and not data["truncated"]


def test_the_api_rules_refuse_empty_and_long_text(ui: Any, engine: Any, project: Any, trace: str) -> None:
    for text in ("", "  \n\t "):
        refused = _comment_on_page(ui, trace, text)
        assert refused.status_code == 400 and "must be a non-empty string" in refused.text
    too_long = _comment_on_page(ui, trace, "x" * (MAX_COMMENT + 1), observation=obs_id(2))
    assert too_long.status_code == 400 and f"at most {MAX_COMMENT} characters" in too_long.text
    assert _comment_on_page(ui, trace, "nul \x00 inside").status_code == 400
    assert list_comments(engine, project.id).total == 0
    assert _comment_on_page(ui, trace, "x" * MAX_COMMENT, observation=obs_id(2)).status_code == 303
    at_limit = "y" * (MAX_COMMENT - 10) + "\r\n" * 10  # as a browser sends what its maxlength allowed
    assert _comment_on_page(ui, trace, at_limit).status_code == 303
    assert list_comments(engine, project.id, object_type="TRACE").items[0].content == at_limit.replace("\r", "")


def test_objects_outside_the_trace_and_forms_without_token(ui: Any, engine: Any, project: Any, trace: str) -> None:
    assert _comment_on_page(ui, trace, "hi", observation=obs_id(9)).status_code == 404  # trace 2's
    assert _comment_on_page(ui, trace, "hi", observation="f" * 16).status_code == 404
    token = csrf_from(ui.get(trace).text)
    assert _post(ui, f"/project/{project.id}/traces/{'e' * 32}/comments", token, content="hi").status_code == 404
    no_token = ui.post(f"{trace}/comments", data={"content": "hi"}, follow_redirects=False)
    assert no_token.status_code == 403
    assert list_comments(engine, project.id).total == 0
    other = f"/project/{project.id}/traces/{trace_id(2)}"
    assert _comment_on_page(ui, other, "on the other trace").status_code == 303
    theirs = list_comments(engine, project.id).items[0].id
    assert _post(ui, f"{trace}/comments/{theirs}/delete", token).status_code == 404  # not this trace's
    assert _post(ui, f"{trace}/comments/no-such-id/delete", token).status_code == 404


def _as(client: Any, email: str) -> None:
    client.cookies.clear()
    assert login(client, email).status_code == 303


def test_roles_add_and_delete(ui: Any, client: Any, engine: Any, project: Any, member: str, trace: str) -> None:
    pid = project.id
    owner_comment = create_comment(
        engine,
        pid,
        {"objectType": "TRACE", "objectId": trace_id(1), "content": "the owner's word"},
        author_user_id=member,
    )
    api = ui.post(
        "/api/public/comments",
        json={"objectType": "OBSERVATION", "objectId": obs_id(1), "content": "from a script"},
        headers=project.headers,
    )
    assert api.status_code == 200
    add_membership(engine, create_user(engine, "mo@example.com", PASSWORD), pid, role="MEMBER")
    add_membership(engine, create_user(engine, "vi@example.com", PASSWORD), pid, role="VIEWER")

    _as(client, "mo@example.com")
    assert _comment_on_page(client, trace, "member's note", observation=obs_id(2)).status_code == 303
    data = client.get(f"{trace}.json").json()["comments"]
    own = data["observations"][obs_id(2)][0]
    api_comment = data["observations"][obs_id(1)][0]
    assert own["canDelete"] and api_comment["author"] == "API" and not api_comment["canDelete"]
    assert not data["trace"][0]["canDelete"]
    token = csrf_from(client.get(trace).text)
    assert _post(client, f"{trace}/comments/{api_comment['id']}/delete", token).status_code == 403
    assert _post(client, f"{trace}/comments/{owner_comment.id}/delete", token).status_code == 403
    gone = _post(client, f"{trace}/comments/{own['id']}/delete", token)
    assert gone.status_code == 303 and gone.headers["location"] == f"{trace}?observation={obs_id(2)}#comments"
    assert list_comments(engine, pid).total == 2

    _as(client, "vi@example.com")
    page = client.get(trace).text
    assert 'id="trace-comment-form"' not in page and "the owner&#39;s word" in page
    data = client.get(f"{trace}.json").json()["comments"]
    assert not data["canComment"] and not any(c["canDelete"] for c in data["trace"])
    token = csrf_from(page)
    assert _comment_on_page(client, trace, "viewer").status_code == 403
    assert _post(client, f"{trace}/comments/{owner_comment.id}/delete", token).status_code == 403

    _as(client, "member@example.com")  # an OWNER of the project: deletes anyone's
    token = csrf_from(client.get(trace).text)
    assert _post(client, f"{trace}/comments/{api_comment['id']}/delete", token).status_code == 303
    assert _post(client, f"{trace}/comments/{owner_comment.id}/delete", token).status_code == 303
    assert list_comments(engine, pid).total == 0


def test_one_query_for_a_trace_and_its_observations(engine: Any, project: Any, trace: str) -> None:
    pid = project.id

    def comment(object_type: str, object_id: str, content: str) -> None:
        create_comment(
            engine, pid, {"objectType": object_type, "objectId": object_id, "content": content}, author_user_id=None
        )

    comment("OBSERVATION", obs_id(2), "first")
    comment("TRACE", trace_id(1), "second")
    comment("OBSERVATION", obs_id(9), "other trace's observation")
    comment("TRACE", trace_id(2), "other trace")
    comment("SESSION", "s-1", "the session")
    comment("OBSERVATION", obs_id(1), "third")
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        found = trace_comments(engine, pid, trace_id(1), [obs_id(1), obs_id(2)])
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert [c.content for c in found] == ["first", "second", "third"]
    assert len(statements) == 1
    assert [c.content for c in trace_comments(engine, pid, trace_id(1))] == ["first", "second", "third"]  # ids read
    assert [c.content for c in trace_comments(engine, pid, trace_id(1), limit=2)] == ["first", "second"]
    assert trace_comments(engine, pid, trace_id(1), []) == [found[1]]
    assert trace_comments(engine, "no-such-project", trace_id(1)) == []


def test_session_and_review_pages_show_the_comments(ui: Any, engine: Any, project: Any, trace: str) -> None:
    pid = project.id
    for object_type, object_id, content in (
        ("SESSION", "s-1", "the whole <i>conversation</i>"),
        ("TRACE", trace_id(1), HOSTILE),
        ("OBSERVATION", obs_id(2), "the tool\nfailed"),
        ("TRACE", trace_id(2), "not in the session"),
    ):
        body = {"objectType": object_type, "objectId": object_id, "content": content}
        create_comment(engine, pid, body, author_user_id=None)

    session = ui.get(f"/project/{pid}/sessions/s-1")
    assert session.status_code == 200 and "<img" not in session.text and "<i>" not in session.text
    assert "the whole &lt;i&gt;conversation&lt;/i&gt;" in session.text and "1 comment on this trace" in session.text
    assert "not in the session" not in session.text
    twin = ui.get(f"/project/{pid}/sessions/s-1.json").json()
    assert [c["content"] for c in twin["comments"]] == ["the whole <i>conversation</i>"]
    assert [c["content"] for c in twin["traces"][0]["comments"]] == [HOSTILE]

    page = ui.get(f"/project/{pid}/queues")
    queued = ui.post(
        f"/project/{pid}/queues", data={"csrf_token": csrf_from(page.text), "name": "q"}, follow_redirects=False
    )
    base = queued.headers["location"].split("?")[0]
    token = csrf_from(ui.get(base).text)
    added = ui.post(
        f"/project/{pid}/queues/add",
        data={
            "csrf_token": token,
            "queue_id": base.rsplit("/", 1)[1],
            "object_type": "TRACE",
            "object_id": trace_id(1),
        },
        follow_redirects=False,
    )
    assert added.status_code == 303
    review = ui.get(f"{base}/review").text
    assert "<img" not in review and "&lt;img src=x" in review
    assert '<div class="comment-text">the tool\nfailed</div>' in review
    assert f"{trace}?observation={obs_id(2)}#comments" in review and "not in the session" not in review


def test_a_big_trace_reads_the_same_comments_either_way(engine: Any, project: Any, trace: str) -> None:
    """Past 64 observations the ids the project's comments name are read first (when there are not
    more of them than observations) and only those probed: the same comments as probing all."""
    pid = project.id
    ids = [obs_id(1), obs_id(2), *(obs_id(100 + k) for k in range(70))]  # most without any comment
    for object_type, object_id, content in (
        ("OBSERVATION", obs_id(2), "a"),
        ("TRACE", trace_id(1), "b"),
        ("OBSERVATION", obs_id(9), "another trace's"),
        ("OBSERVATION", obs_id(1), "c"),
    ):
        create_comment(
            engine, pid, {"objectType": object_type, "objectId": object_id, "content": content}, author_user_id=None
        )
    assert [c.content for c in trace_comments(engine, pid, trace_id(1), ids)] == ["a", "b", "c"]
    many = [
        {
            "project_id": pid,
            "id": f"bulk-{k}",
            "object_type": "OBSERVATION",
            "object_id": f"0-bulk-{k % 3}",  # few ids, many rows, first in the index's order
            "content": "x",
            "created_at_us": k,
            "updated_at_us": k,
        }
        for k in range(len(ids) + 5)
    ]
    with engine.begin() as conn:
        conn.execute(insert(comments), many)  # more rows than the trace's observations: every id is probed
    assert [c.content for c in trace_comments(engine, pid, trace_id(1), ids)] == ["a", "b", "c"]
