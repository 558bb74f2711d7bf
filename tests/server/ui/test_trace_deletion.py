"""Deleting traces from the UI: one from its page, the selected ones, all matching the list's filters;
CSRF, project access, the read-only role; and the observation panel's cost source."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select, update

from interactiveai.server.clock import now_us
from interactiveai.server.costs.models import create_model
from interactiveai.server.storage.schema import observations, scores, traces
from interactiveai.server.tenancy import add_membership, create_user
from tests.server.ui.conftest import PASSWORD, csrf_from, login
from tests.server.ui.seed import add_trace, obs, oid, tid

HOUR = 3600 * 1_000_000


def _count(engine: Any, table: Any, project_id: str, trace_id: str | None = None) -> int:
    cond = table.c.project_id == project_id
    if trace_id is not None:
        cond = cond & ((table.c.id if table is traces else table.c.trace_id) == trace_id)
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(cond)).scalar_one())


@pytest.fixture
def seeded(engine: Any, project: Any, other_project: Any) -> dict[str, str]:
    now = now_us()
    ids: dict[str, str] = {}
    for i in range(5):
        env = "production" if i < 3 else "staging"
        ids[f"t{i}"] = add_trace(
            engine, project.id, tid(f"t{i}"), timestamp_us=now - (i + 1) * HOUR, name=f"job-{i}", environment=env,
            observations_=[obs(oid(f"t{i}a"), name="root"), obs(oid(f"t{i}b"), parent=oid(f"t{i}a"), name="child")],
            trace_scores=[{"name": "quality", "value": 0.5}],
        )  # fmt: skip
    ids["foreign"] = add_trace(
        engine, other_project.id, tid("foreign"), timestamp_us=now - HOUR, name="job-x", environment="production"
    )
    return ids


def _token(ui: Any, path: str) -> str:
    return csrf_from(ui.get(path).text)


def test_trace_page_has_delete_button_and_deletes(ui: Any, engine: Any, project: Any, seeded: dict[str, str]) -> None:
    page = f"/project/{project.id}/traces/{seeded['t0']}"
    html = ui.get(page).text
    assert 'id="delete-trace"' in html and "data-confirm=" in html
    assert _count(engine, observations, project.id, seeded["t0"]) == 2
    assert _count(engine, scores, project.id, seeded["t0"]) == 1
    response = ui.post(f"{page}/delete", data={"csrf_token": _token(ui, page)}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/project/{project.id}/traces?notice=trace-deleted"
    for table in (traces, observations, scores):
        assert _count(engine, table, project.id, seeded["t0"]) == 0
    assert _count(engine, traces, project.id) == 4
    listing = ui.get(response.headers["location"])
    assert "The trace was deleted" in listing.text
    assert ui.get(page).status_code == 404


def test_delete_selected(ui: Any, engine: Any, project: Any, seeded: dict[str, str]) -> None:
    listing = f"/project/{project.id}/traces?range=all"
    html = ui.get(listing).text
    assert 'form="bulk-delete"' in html and 'id="delete-selected"' in html
    chosen = [seeded["t1"], seeded["t2"], seeded["foreign"]]  # another project's id is ignored
    response = ui.post(
        f"/project/{project.id}/traces/delete-selected",
        data={"csrf_token": csrf_from(html), "trace_id": chosen, "list_query": "range=all"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"].endswith("?range=all&notice=traces-deleted&n=2")
    assert _count(engine, traces, project.id) == 3
    assert _count(engine, observations, project.id, seeded["t1"]) == 0
    assert _count(engine, traces, "proj-b") == 1
    assert "2 trace(s) deleted" in ui.get(response.headers["location"]).text


def test_delete_all_matching_shows_count_then_deletes_only_those(
    ui: Any, engine: Any, project: Any, seeded: dict[str, str]
) -> None:
    confirm = ui.get(f"/project/{project.id}/traces/delete-matching?range=all&env=production")
    assert confirm.status_code == 200
    assert "<strong>3</strong> traces match" in confirm.text
    assert ui.get(f"/project/{project.id}/traces/delete-matching.json?range=all&env=production").json()["matching"] == 3
    response = ui.post(
        f"/project/{project.id}/traces/delete-matching",
        data={"csrf_token": csrf_from(confirm.text), "list_query": "range=all&env=production&cursor=abc"},
        follow_redirects=False,
    )
    assert response.status_code == 303 and "n=3" in response.headers["location"]
    with engine.connect() as conn:
        left = {r[0] for r in conn.execute(select(traces.c.environment).where(traces.c.project_id == project.id))}
    assert left == {"staging"}
    assert _count(engine, traces, project.id) == 2
    assert _count(engine, traces, "proj-b") == 1  # the other project's production trace stays
    assert _count(engine, observations, "proj-b") == 1


def test_delete_matching_is_capped(
    ui: Any, engine: Any, project: Any, seeded: dict[str, str], monkeypatch: Any
) -> None:
    from interactiveai.server.ui import views_trace_actions

    monkeypatch.setattr(views_trace_actions, "MAX_DELETE_MATCHING", 2)
    confirm = ui.get(f"/project/{project.id}/traces/delete-matching?range=all")
    assert "More than <strong>2</strong> traces match" in confirm.text and "At most 2 traces" in confirm.text
    ui.post(
        f"/project/{project.id}/traces/delete-matching",
        data={"csrf_token": csrf_from(confirm.text), "list_query": "range=all"},
    )
    assert _count(engine, traces, project.id) == 3
    with engine.connect() as conn:  # the newest went first
        names = {r[0] for r in conn.execute(select(traces.c.name).where(traces.c.project_id == project.id))}
    assert names == {"job-2", "job-3", "job-4"}


@pytest.mark.parametrize("token", [None, "forged"])
def test_deletion_needs_csrf(ui: Any, engine: Any, project: Any, seeded: dict[str, str], token: str | None) -> None:
    data = {"csrf_token": token} if token else {}
    for path, extra in [
        (f"/traces/{seeded['t0']}/delete", {}),
        ("/traces/delete-selected", {"trace_id": seeded["t1"]}),
        ("/traces/delete-matching", {"list_query": "range=all"}),
    ]:
        response = ui.post(f"/project/{project.id}{path}", data={**data, **extra}, follow_redirects=False)
        assert response.status_code == 403
    assert _count(engine, traces, project.id) == 5


def test_non_member_gets_404(ui: Any, engine: Any, project: Any, seeded: dict[str, str]) -> None:
    token = _token(ui, f"/project/{project.id}/traces")
    response = ui.post(f"/project/proj-b/traces/{seeded['foreign']}/delete", data={"csrf_token": token})
    assert response.status_code == 404
    response = ui.post("/project/proj-b/traces/delete-matching", data={"csrf_token": token, "list_query": "range=all"})
    assert response.status_code == 404
    assert ui.get("/project/proj-b/traces/delete-matching?range=all").status_code == 404
    assert _count(engine, traces, "proj-b") == 1
    # a trace id of another project, through this project's URL, is not found either
    response = ui.post(f"/project/{project.id}/traces/{seeded['foreign']}/delete", data={"csrf_token": token})
    assert response.status_code == 404 and _count(engine, traces, "proj-b") == 1


def test_read_only_member_cannot_delete(client: Any, engine: Any, project: Any, seeded: dict[str, str]) -> None:
    user_id = create_user(engine, "viewer@example.com", PASSWORD)
    add_membership(engine, user_id, project.id, role="MEMBER")
    login(client, "viewer@example.com")
    page = f"/project/{project.id}/traces/{seeded['t0']}"
    html = client.get(page).text
    assert 'id="delete-trace"' not in html and 'id="add-to-dataset"' not in html
    assert 'id="bulk-delete"' not in client.get(f"/project/{project.id}/traces").text
    response = client.post(f"{page}/delete", data={"csrf_token": csrf_from(html)})
    assert response.status_code == 403
    assert _count(engine, traces, project.id) == 5


def test_observation_json_tells_which_price_applied(ui: Any, engine: Any, project: Any) -> None:
    model = create_model(engine, project.id, model_name="<b>my-model</b>", match_pattern="my-model", input_price=1e-6)
    trace_id = add_trace(
        engine, project.id, tid("costed"), timestamp_us=now_us() - HOUR,
        observations_=[obs(oid("p1"), type="GENERATION", model="my-model", usage={"input": 10}),
                       obs(oid("p2"), type="GENERATION", model="gpt-4o", usage={"input": 10}, cost={"input": 0.5}),
                       obs(oid("p3"), type="GENERATION", model="gpt-4o-mini", usage={"input": 10})],
    )  # fmt: skip
    with engine.begin() as conn:
        conn.execute(update(observations).where(observations.c.id == oid("p1"))
                     .values(cost_source="project_model", matched_model_id=model.id))  # fmt: skip
        conn.execute(update(observations).where(observations.c.id == oid("p3"))
                     .values(cost_source="catalog", matched_model_id="openai/gpt-4o-mini"))  # fmt: skip
    base = f"/project/{project.id}/traces/{trace_id}/observations/"
    first = ui.get(f"{base}{oid('p1')}.json").json()
    assert first["cost_source"] == "project_model" and first["matched_model_id"] == model.id
    assert first["cost_source_info"]["label"] == "project model <b>my-model</b>"
    assert ui.get(f"{base}{oid('p2')}.json").json()["cost_source_info"]["label"] == "provided by the client"
    third = ui.get(f"{base}{oid('p3')}.json").json()["cost_source_info"]
    assert third["label"] == "catalog" and third["matchedModelName"] == "gpt-4o-mini"
