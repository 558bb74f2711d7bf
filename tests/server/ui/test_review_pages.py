"""Review queues in the UI: create a queue, add traces (one, selected, all matching), step through
the items scoring each, skip, re-complete without duplicate scores, roles (both engines)."""

from __future__ import annotations

from typing import Any

import pytest

from interactiveai.server.query.review import list_comments
from interactiveai.server.query.scores import scores_for_trace
from interactiveai.server.tenancy import add_membership, create_user
from tests.server.query.seed import add_observation, add_trace, obs_id, trace_id
from tests.server.ui.conftest import PASSWORD, csrf_from, login


@pytest.fixture
def queue(ui: Any, engine: Any, project: Any) -> dict[str, Any]:
    for n in range(4):
        add_trace(engine, project.id, trace_id(n), name="chat" if n < 3 else "job", input={"q": f"<b>question {n}</b>"})
    add_observation(engine, project.id, trace_id(0), obs_id(0), name="llm")
    h = project.headers
    good = ui.post("/api/public/score-configs", json={"name": "good", "dataType": "BOOLEAN"}, headers=h).json()
    tone = {
        "name": "tone",
        "dataType": "CATEGORICAL",
        "categories": [{"label": "kind", "value": 1}, {"label": "rude", "value": 0}],
    }
    tone = ui.post("/api/public/score-configs", json=tone, headers=h).json()
    page = ui.get(f"/project/{project.id}/queues")
    assert page.status_code == 200 and "No review queues" in page.text
    created = ui.post(
        f"/project/{project.id}/queues",
        data={
            "csrf_token": csrf_from(page.text),
            "name": "Weekly <review>",
            "score_config_id": [good["id"], tone["id"]],
        },
        follow_redirects=False,
    )
    assert created.status_code == 303
    queue_id = created.headers["location"].split("/queues/")[1].split("?")[0]
    return {"id": queue_id, "good": good["id"], "tone": tone["id"], "base": f"/project/{project.id}/queues/{queue_id}"}


def test_add_traces_review_skip_and_complete(ui: Any, engine: Any, project: Any, queue: dict[str, Any]) -> None:
    pid = project.id
    page = ui.get(queue["base"])
    assert "Weekly &lt;review&gt;" in page.text and "Weekly <review>" not in page.text
    token = csrf_from(page.text)
    added = ui.post(
        f"/project/{pid}/queues/add-traces",
        data={"csrf_token": token, "queue_id": queue["id"], "matching": "1", "list_query": "name=chat&range=all"},
        follow_redirects=False,
    )
    assert added.status_code == 303 and "n=3" in added.headers["location"]
    again = ui.post(
        f"/project/{pid}/queues/add-traces",
        data={"csrf_token": token, "queue_id": queue["id"], "trace_id": [trace_id(0), trace_id(3)]},
        follow_redirects=False,
    )
    assert "n=1" in again.headers["location"]  # trace 0 was queued already
    one = ui.post(
        f"/project/{pid}/queues/add",
        data={
            "csrf_token": token,
            "queue_id": queue["id"],
            "object_type": "OBSERVATION",
            "object_id": obs_id(0),
            "back": f"/project/{pid}/traces/{trace_id(0)}",
        },
        follow_redirects=False,
    )
    assert one.headers["location"].startswith(f"/project/{pid}/traces/{trace_id(0)}?notice=queued")

    first = ui.get(f"{queue['base']}/review")
    assert first.status_code == 200 and "0 of 5 reviewed" in first.text
    assert "&lt;b&gt;question" in first.text and "<b>question" not in first.text
    item_id = first.text.split('data-item="')[1].split('"')[0]
    skipped = ui.get(f"{queue['base']}/review?after={item_id}")
    assert skipped.text.split('data-item="')[1].split('"')[0] != item_id

    form = {"csrf_token": csrf_from(first.text), f"score_{queue['good']}": "1", f"score_{queue['tone']}": "rude"}
    done = ui.post(
        f"{queue['base']}/items/{item_id}/complete", data={**form, "comment": "too curt"}, follow_redirects=False
    )
    assert done.status_code == 303 and f"after={item_id}" in done.headers["location"]
    # completing it again corrects the scores instead of adding more
    form[f"score_{queue['tone']}"] = "kind"
    ui.post(f"{queue['base']}/items/{item_id}/complete", data=form, follow_redirects=False)
    reviewed = next(i for i in ui.get(f"{queue['base']}.json").json()["items"] if i["id"] == item_id)["objectId"]
    assert reviewed == trace_id(2)  # the newest matching trace first, as the list shows them
    scores = {s.name: s for s in scores_for_trace(engine, pid, reviewed) if s.observation_id is None}
    assert set(scores) == {"good", "tone"} and scores["tone"].string_value == "kind"
    assert scores["good"].source == "ANNOTATION" and scores["good"].author_user_id is not None
    notes = list_comments(engine, pid, object_type="TRACE", object_id=reviewed).items
    assert [c.content for c in notes] == ["too curt"] and notes[0].author_email == "member@example.com"

    listing = ui.get(queue["base"]).text
    assert "1 of 5 reviewed" in listing and "member@example.com (1)" in listing
    data = ui.get(f"{queue['base']}.json").json()
    assert {i["objectType"] for i in data["items"]} == {"TRACE", "OBSERVATION"}
    observation = next(i for i in data["items"] if i["objectType"] == "OBSERVATION")
    assert observation["objectPath"] == f"/project/{pid}/traces/{trace_id(0)}?observation={obs_id(0)}"


def test_bad_values_and_roles(ui: Any, client: Any, engine: Any, project: Any, queue: dict[str, Any]) -> None:
    pid = project.id
    token = csrf_from(ui.get(queue["base"]).text)
    ui.post(
        f"/project/{pid}/queues/add-traces",
        data={"csrf_token": token, "queue_id": queue["id"], "trace_id": [trace_id(1)]},
    )
    page = ui.get(f"{queue['base']}/review")
    item_id = page.text.split('data-item="')[1].split('"')[0]
    bad = ui.post(
        f"{queue['base']}/items/{item_id}/complete",
        data={"csrf_token": csrf_from(page.text), f"score_{queue['tone']}": "sarcastic"},
    )
    assert bad.status_code == 400 and "tone" in bad.text
    assert ui.get(f"{queue['base']}.json").json()["queue"]["completedItems"] == 0

    viewer = create_user(engine, "viewer@example.com", PASSWORD)
    add_membership(engine, viewer, pid, role="VIEWER")
    ui.cookies.clear()
    assert login(client, "viewer@example.com").status_code == 303
    seen = client.get(f"{queue['base']}/review")
    assert seen.status_code == 200 and 'id="review-form"' not in seen.text
    refused = client.post(
        f"{queue['base']}/items/{item_id}/complete", data={"csrf_token": csrf_from(seen.text)}, follow_redirects=False
    )
    assert refused.status_code == 403
    assert client.get(f"/project/{pid}/queues/no-such-queue").status_code == 404


def test_done_queue_and_deleted_object(ui: Any, engine: Any, project: Any, queue: dict[str, Any]) -> None:
    from interactiveai.server.retention import delete_traces

    token = csrf_from(ui.get(queue["base"]).text)
    ui.post(
        f"/project/{project.id}/queues/add-traces",
        data={"csrf_token": token, "queue_id": queue["id"], "trace_id": [trace_id(2)]},
    )
    delete_traces(engine, project.id, [trace_id(2)])
    page = ui.get(f"{queue['base']}/review")
    assert 'id="subject-gone"' in page.text
    item_id = page.text.split('data-item="')[1].split('"')[0]
    ui.post(f"{queue['base']}/items/{item_id}/complete", data={"csrf_token": csrf_from(page.text)})
    finished = ui.get(f"{queue['base']}/review")
    assert 'id="queue-done"' in finished.text
    assert "(gone)" in ui.get(queue["base"]).text or "deleted since" in ui.get(queue["base"]).text
