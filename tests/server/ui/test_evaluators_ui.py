"""Evaluators and model connections managed in the UI: forms posted with a signed-in session,
refused by the API's own rules with the message next to the field, the API key write-only, the
roles (viewers read, members and above change), and each evaluator's evaluations with the score
written, paginated."""

from __future__ import annotations

import html
import os
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, insert, select, update

from interactiveai.server.clock import now_us
from interactiveai.server.storage.eval_schema import evaluator_jobs, evaluators, llm_connections
from interactiveai.server.storage.schema import memberships, projects, scores
from interactiveai.server.tenancy import add_membership, create_project, create_user
from tests.conftest import Project
from tests.server.ui.conftest import PASSWORD, csrf_from, login

HOSTILE = '<script>alert("x")</script>'


@pytest.fixture
def app(engine: Any, tmp_path: Path) -> Any:
    """The app without its evaluation worker: the seeded evaluations stay as they are written."""
    from interactiveai.server.app import create_app
    from interactiveai.server.settings import load_settings

    url = str(engine.url.render_as_string(hide_password=False))
    return create_app(
        load_settings(data_dir=tmp_path, database_url=url, eval_poll_ms=0), engine=engine, first_start=False
    )


def signed_in(client: TestClient, engine: Any, project: Project, role: str) -> TestClient:
    email = f"{role.lower()}-{uuid.uuid4().hex[:6]}@example.com"
    add_membership(engine, create_user(engine, email, PASSWORD), project.id, role)
    client.cookies.clear()
    assert login(client, email).status_code == 303
    return client


def post(client: TestClient, path: str, data: dict[str, Any]) -> Any:
    token = csrf_from(client.get(f"/project/{path.split('/')[2]}/evaluators").text)
    return client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)


def add_connection(client: TestClient, project: Project, **fields: Any) -> str:
    data = {"name": "judge", "base_url": "http://127.0.0.1:9/v1", "model": "gpt-4o-mini", "api_key": "sk-abcdef-9876"}
    response = post(client, f"/project/{project.id}/llm-connections", {**data, **fields})
    assert response.status_code == 303, response.text
    listed = client.get("/api/public/llm-connections", headers=project.headers).json()["data"]
    return str(next(c["id"] for c in listed if c["name"] == {**data, **fields}["name"]))


def evaluator_form(connection_id: str, /, **fields: Any) -> dict[str, Any]:
    return {
        "name": "helpfulness",
        "enabled": "1",
        "connection_id": connection_id,
        "model": "",
        "target": "trace",
        "prompt": "Question: {{input}}\r\nAnswer: {{output}}\r\nTier: {{tier}}",
        "var_name": ["input", "output", "tier"],
        "var_from": ["", "", "trace.metadata"],
        "var_key": ["", "", "tier"],
        "score_name": "helpfulness",
        "score_type": "NUMERIC",
        "score_min": "0",
        "score_max": "1",
        "score_categories": "",
        "sampling_percent": "25",
        "filter": '[{"type": "stringOptions", "column": "name", "operator": "any of", "value": ["qa"]}]',
        "delay_seconds": "5",
        "trace_project": "",
        **fields,
    }


def api_evaluator(client: TestClient, project: Project, name: str) -> dict[str, Any]:
    listed = client.get("/api/public/evaluators", headers=project.headers).json()["data"]
    return dict(next(e for e in listed if e["name"] == name))


def field_error(page: str, field: str) -> str:
    match = re.search(rf'id="error-{re.escape(field)}">([^<]*)<', page)
    assert match, f"no error shown next to {field}"
    return html.unescape(match.group(1))


def test_connections_added_edited_and_deleted_with_a_write_only_key(
    client: TestClient, engine: Any, project: Project
) -> None:
    ui = signed_in(client, engine, project, "MEMBER")
    connection_id = add_connection(ui, project, name=HOSTILE, params='{\r\n"temperature": 0}')
    page = ui.get(f"/project/{project.id}/evaluators")
    assert "sk-abcdef-9876" not in page.text and "sk-…9876" in page.text
    assert HOSTILE not in page.text and "&lt;script&gt;alert" in page.text
    with engine.connect() as conn:
        stored = conn.execute(select(llm_connections)).mappings().one()
    assert "sk-abcdef-9876" not in stored["api_key_encrypted"] and stored["params"] == '{"temperature":0}'

    edit = ui.get(f"/project/{project.id}/llm-connections/{connection_id}")
    assert edit.status_code == 200 and "sk-abcdef-9876" not in edit.text and 'value="gpt-4o-mini"' in edit.text
    path = f"/project/{project.id}/llm-connections/{connection_id}"
    kept = {"name": "judge", "base_url": "http://127.0.0.1:9/v1/", "model": "gpt-4o", "api_key": "", "params": ""}
    assert post(ui, path, kept).status_code == 303  # an empty key field keeps the stored key
    with engine.connect() as conn:
        after = conn.execute(select(llm_connections)).mappings().one()
    assert after["api_key_encrypted"] == stored["api_key_encrypted"] and after["model"] == "gpt-4o"
    assert after["base_url"] == "http://127.0.0.1:9/v1"

    refused = post(ui, path, {**kept, "api_key": "sk-new-key-1111", "base_url": "ftp://x", "params": "[1]"})
    assert refused.status_code == 400 and "sk-new-key-1111" not in refused.text  # never sent back
    assert "http" in field_error(refused.text, "baseUrl") and "JSON object" in field_error(refused.text, "params")
    assert post(ui, path, {**kept, "api_key": " sk-new-key-1111\n"}).status_code == 303
    assert "sk-…1111" in ui.get(path).text
    assert post(ui, path, {**kept, "remove_key": "1"}).status_code == 303
    assert ui.get(f"{path}.json").json()["apiKeyHint"] is None

    other = add_connection(ui, project, name="second")
    taken = post(ui, f"/project/{project.id}/llm-connections/{other}", {**kept, "name": "judge"})
    assert taken.status_code == 400 and "already exists" in field_error(taken.text, "name")
    used = post(ui, f"/project/{project.id}/evaluators", evaluator_form(connection_id, name="uses it"))
    assert used.status_code == 303, used.text
    assert "disabled" in ui.get(path).text.split('id="delete-connection"')[1].split("</form>")[0]
    kept_back = post(ui, f"{path}/delete", {})
    assert kept_back.status_code == 409 and "uses it" in kept_back.text  # the API's 409, said on the page
    assert post(ui, f"/project/{project.id}/llm-connections/{other}/delete", {}).status_code == 303
    assert ui.get(f"/project/{project.id}/llm-connections/{other}").status_code == 404


def test_an_evaluator_created_edited_paused_and_deleted_through_the_form(
    client: TestClient, engine: Any, project: Project
) -> None:
    ui = signed_in(client, engine, project, "MEMBER")
    connection_id = add_connection(ui, project)
    assert ui.get(f"/project/{project.id}/evaluators/new").status_code == 200
    created = post(ui, f"/project/{project.id}/evaluators", evaluator_form(connection_id, trace_project=project.id))
    assert created.status_code == 303, created.text
    stored = api_evaluator(ui, project, "helpfulness")
    assert created.headers["location"].startswith(f"/project/{project.id}/evaluators/{stored['id']}?notice=")
    assert stored["prompt"] == "Question: {{input}}\nAnswer: {{output}}\nTier: {{tier}}"
    assert stored["variableMapping"] == {"tier": {"source": "trace", "field": "metadata", "key": "tier"}}
    assert stored["samplingRate"] == 0.25 and stored["delaySeconds"] == 5 and stored["traceProjectId"] == project.id
    assert stored["score"] == {"name": "helpfulness", "dataType": "NUMERIC", "minValue": 0, "maxValue": 1}
    assert stored["filter"][0]["value"] == ["qa"] and stored["model"] is None and stored["enabled"] is True

    path = f"/project/{project.id}/evaluators/{stored['id']}"
    page = ui.get(path)
    assert page.status_code == 200 and "{{tier}}" in page.text and "(its own field)" in page.text
    edit = ui.get(f"{path}/edit")
    assert 'value="25"' in edit.text and "trace.metadata" in edit.text and 'value="tier"' in edit.text
    changed = evaluator_form(
        connection_id,
        name="verdict",
        enabled="",
        model="judge-large",
        target="observation",
        observation_name="answer",
        observation_type="GENERATION",
        prompt="Is {{output}} right?",
        var_name=["output"],
        var_from=["observation.output"],
        var_key=[""],
        score_type="CATEGORICAL",
        score_min="5",  # hidden for a categorical score: not sent to the API
        score_categories="good\r\nbad\r\n",
        filter="",
        trace_project="",
    )
    assert post(ui, f"{path}/edit", changed).status_code == 303
    stored = api_evaluator(ui, project, "verdict")
    assert stored["score"] == {"name": "helpfulness", "dataType": "CATEGORICAL", "categories": ["good", "bad"]}
    assert (stored["target"], stored["observationName"], stored["observationType"]) == (
        "observation",
        "answer",
        "GENERATION",
    )
    assert stored["enabled"] is False and stored["model"] == "judge-large" and stored["filter"] == []
    assert stored["traceProjectId"] is None

    assert post(ui, f"{path}/resume", {}).status_code == 303
    assert api_evaluator(ui, project, "verdict")["enabled"] is True
    assert post(ui, f"{path}/pause", {}).status_code == 303
    assert "paused" in ui.get(path).text and api_evaluator(ui, project, "verdict")["enabled"] is False
    assert post(ui, f"{path}/delete", {}).status_code == 303
    assert ui.get(path).status_code == 404 and ui.get(f"{path}.json").status_code == 404


REFUSALS: list[tuple[dict[str, Any], str, str]] = [
    (
        {"prompt": "Rate {{answer}}", "var_name": ["answer"], "var_from": [""], "var_key": [""]},
        "variableMapping",
        "no mapping",
    ),
    ({"filter": "[{"}, "filter", "not valid JSON"),
    ({"filter": '[{"type": "string", "column": "nope", "operator": "=", "value": "x"}]'}, "filter", "column"),
    ({"score_type": "CATEGORICAL", "score_categories": " \r\n"}, "score-categories", "needs categories"),
    ({"score_min": "1", "score_max": "1"}, "score-minValue", "below maxValue"),
    ({"score_min": "low"}, "score-minValue", "number"),
    ({"sampling_percent": "150"}, "samplingRate", "0 to 100"),
    ({"sampling_percent": "a lot"}, "samplingRate", "0 to 100"),
    ({"delay_seconds": "-1"}, "delaySeconds", "greater than or equal"),
    ({"name": "   "}, "name", "blank"),
    ({"connection_id": "gone"}, "connectionId", "does not exist"),
    ({"var_from": ["observation.input", "", "trace.metadata"]}, "variableMapping", "target 'observation'"),
    ({"var_from": ["", "", "trace.name"]}, "variableMapping", "key applies to field 'metadata' only"),
]


def test_refusals_are_the_apis_shown_next_to_their_field(client: TestClient, engine: Any, project: Project) -> None:
    ui = signed_in(client, engine, project, "ADMIN")
    connection_id = add_connection(ui, project)
    for fields, field, words in REFUSALS:
        form = evaluator_form(connection_id, **fields)
        refused = post(ui, f"/project/{project.id}/evaluators", form)
        assert refused.status_code == 400, fields
        assert words in field_error(refused.text, field), fields
        assert 'id="form-errors"' in refused.text
        assert f'value="{html.escape(form["name"])}"' in refused.text  # what was typed is kept
    odd = [{}, {"score_type": "BOOLEAN", "target": "both", "var_from": "trace"}, {"var_name": ["a"] * 3}]
    for fields in odd:  # what no browser sends: refused, never a failure
        response = post(ui, f"/project/{project.id}/evaluators", fields)
        assert response.status_code == 400, fields
    twice = post(
        ui, f"/project/{project.id}/llm-connections", {"name": ["a", "b"], "base_url": "http://x/v1", "model": "m"}
    )
    assert twice.status_code == 303  # a field sent twice counts once
    assert post(ui, f"/project/{project.id}/llm-connections", {}).status_code == 400
    assert ui.get("/api/public/evaluators", headers=project.headers).json()["data"] == []
    names = [c["name"] for c in ui.get("/api/public/llm-connections", headers=project.headers).json()["data"]]
    assert sorted(names) == ["a", "judge"]


def test_viewers_read_and_members_change(client: TestClient, engine: Any, project: Project) -> None:
    ui = signed_in(client, engine, project, "OWNER")
    connection_id = add_connection(ui, project)
    assert post(ui, f"/project/{project.id}/evaluators", evaluator_form(connection_id)).status_code == 303
    evaluator_id = api_evaluator(ui, project, "helpfulness")["id"]

    viewer = signed_in(client, engine, project, "VIEWER")
    page = viewer.get(f"/project/{project.id}/evaluators")
    assert page.status_code == 200 and "helpfulness" in page.text
    assert 'id="new-evaluator"' not in page.text and 'id="new-connection"' not in page.text
    detail = viewer.get(f"/project/{project.id}/evaluators/{evaluator_id}")
    assert detail.status_code == 200 and 'id="pause-evaluator"' not in detail.text
    assert viewer.get(f"/project/{project.id}/evaluators/new").status_code == 403
    for path, data in [
        (f"/project/{project.id}/evaluators", evaluator_form(connection_id, name="mine")),
        (f"/project/{project.id}/evaluators/{evaluator_id}/pause", {}),
        (f"/project/{project.id}/evaluators/{evaluator_id}/delete", {}),
        (f"/project/{project.id}/llm-connections", {"name": "x", "base_url": "http://a/v1", "model": "m"}),
        (f"/project/{project.id}/llm-connections/{connection_id}/delete", {}),
    ]:
        assert post(viewer, path, data).status_code == 403, path
    assert api_evaluator(viewer, project, "helpfulness")["enabled"] is True

    member = signed_in(client, engine, project, "MEMBER")
    forged = member.post(f"/project/{project.id}/evaluators/{evaluator_id}/pause", data={"csrf_token": "x"})
    assert forged.status_code == 403  # no CSRF token, no change
    assert post(member, f"/project/{project.id}/evaluators/{evaluator_id}/pause", {}).status_code == 303
    assert api_evaluator(member, project, "helpfulness")["enabled"] is False


def test_other_projects_evaluators_are_not_found(
    client: TestClient, engine: Any, project: Project, other_project: Project
) -> None:
    ui = signed_in(client, engine, other_project, "OWNER")
    theirs = add_connection(ui, other_project)
    assert post(ui, f"/project/{other_project.id}/evaluators", evaluator_form(theirs)).status_code == 303
    evaluator_id = api_evaluator(ui, other_project, "helpfulness")["id"]
    ui = signed_in(client, engine, project, "OWNER")  # an owner of project A only
    for path in [f"/project/{project.id}/evaluators/{evaluator_id}", f"/project/{project.id}/llm-connections/{theirs}"]:
        assert ui.get(path).status_code == 404
    assert post(ui, f"/project/{project.id}/evaluators/{evaluator_id}/delete", {}).status_code == 404
    assert (
        post(ui, f"/project/{project.id}/evaluators", evaluator_form(theirs)).status_code == 400
    )  # not its connection
    assert ui.get(f"/project/{other_project.id}/evaluators/{evaluator_id}").status_code == 404


def test_an_evaluators_page_lists_its_evaluations_with_scores_paginated(
    client: TestClient, engine: Any, project: Project
) -> None:
    ui = signed_in(client, engine, project, "MEMBER")
    connection_id = add_connection(ui, project)
    assert post(ui, f"/project/{project.id}/evaluators", evaluator_form(connection_id, name=HOSTILE)).status_code == 303
    evaluator_id = api_evaluator(ui, project, HOSTILE)["id"]
    now = now_us()
    jobs: list[dict[str, Any]] = []
    for n in range(53):
        status, attempts, error = (
            ("done", 1, None)
            if n < 50
            else [("failed", 3, f"judge said {HOSTILE}"), ("pending", 2, "429"), ("running", 1, None)][n - 50]
        )
        jobs.append(
            {
                "id": str(uuid.uuid4()),
                "project_id": project.id,
                "evaluator_id": evaluator_id,
                "trace_id": os.urandom(16).hex(),
                "status": status,
                "attempts": attempts,
                "error": error,
                "score_id": f"score-{n}" if status == "done" else None,
                "cost": 0.00012 if status == "done" else None,
                "next_attempt_us": now,
                "created_at_us": now - n,  # job 0 is the newest
                "updated_at_us": now,
            }
        )
    score_rows = [
        {
            "id": f"score-{n}",
            "project_id": project.id,
            "trace_id": jobs[n]["trace_id"],
            "name": "helpfulness",
            "value": 0.75,
            "data_type": "NUMERIC",
            "source": "EVAL",
            "comment": f"reasoning {HOSTILE}",
            "metadata": "{}",
            "environment": "default",
            "timestamp_us": now,
            "created_at_us": now,
            "updated_at_us": now,
        }
        for n in range(50)
    ]
    with engine.begin() as conn:
        conn.execute(insert(evaluator_jobs), jobs)
        conn.execute(insert(scores), score_rows)

    path = f"/project/{project.id}/evaluators/{evaluator_id}"
    first = ui.get(path)
    assert first.status_code == 200 and HOSTILE not in first.text
    assert first.text.count('<tr class="job-') == 50 and 'rel="next"' in first.text
    assert f'href="/project/{project.id}/traces/{jobs[0]["trace_id"]}"' in first.text
    assert "0.75" in first.text and "$0.00012" in first.text
    twin = ui.get(f"{path}.json").json()
    assert twin["meta"]["totalItems"] == 53 and twin["counts"] == {
        "pending": 0,
        "retrying": 1,
        "running": 1,
        "done": 50,
        "failed": 1,
    }
    assert twin["jobs"][0]["score"]["value"] == 0.75 and twin["jobs"][0]["state"] == "done"
    second = ui.get(f"{path}.json?page=2").json()["jobs"]
    assert [j["state"] for j in second] == ["failed", "retrying", "running"]
    assert second[0]["error"] == f"judge said {HOSTILE}" and second[0]["score"] is None
    failed = ui.get(f"{path}?status=failed")
    assert failed.text.count('<tr class="job-') == 1 and "judge said &lt;script&gt;" in failed.text
    index = ui.get(f"/project/{project.id}/evaluators")
    assert HOSTILE not in index.text and index.text.count('<tr class="job-') == 50


def test_pages_read_whatever_is_stored(client: TestClient, engine: Any, project: Project) -> None:
    from tests.server.ui.test_poisoned_rows import BIG, POISON_JSON

    ui = signed_in(client, engine, project, "MEMBER")
    base = f"/project/{project.id}"
    odd = [*POISON_JSON.values(), '{"x": 5, "y": {"source": 1}}', "[1, null, {}]", '{"a": "list?"}']
    with engine.begin() as conn:
        for n, bad in enumerate(odd):
            conn.execute(
                insert(llm_connections).values(
                    project_id=project.id,
                    id=f"c-{n}",
                    name=f"c {n}",
                    base_url=bad or "-",
                    model="-",
                    params=bad,
                    created_at_us=BIG,
                    updated_at_us=-BIG,
                )
            )
            conn.execute(
                insert(evaluators).values(
                    project_id=project.id,
                    id=f"e-{n}",
                    name=f"e {n}",
                    enabled=bool(n % 2),
                    connection_id=f"c-{n}",
                    prompt=(bad or "-") + " {{unknown}}",
                    variable_mapping=bad,
                    score_name="s",
                    score_data_type="CATEGORICAL" if n % 2 else "NUMERIC",
                    score_min=-1e308,
                    score_max=BIG,
                    score_categories=bad,
                    filter=bad,
                    delay_ms=BIG,
                    sampling_rate=0.5,
                    scan_created_us=0,
                    created_at_us=-BIG,
                    updated_at_us=BIG,
                )
            )
    urls = [f"{base}/evaluators", f"{base}/evaluators.json", f"{base}/evaluators/new"]
    for n in range(len(odd)):
        urls += [f"{base}/evaluators/e-{n}", f"{base}/evaluators/e-{n}.json", f"{base}/evaluators/e-{n}/edit"]
        urls += [f"{base}/llm-connections/c-{n}", f"{base}/llm-connections/c-{n}.json"]
    for url in urls:
        assert ui.get(url).status_code == 200, url
    paused = post(ui, f"{base}/evaluators/e-0/resume", {})  # its stored prompt has an unmapped variable
    assert paused.status_code == 400 and "unknown" in paused.text


def user_of(client: TestClient, engine: Any, roles: dict[str, str], *, is_admin: bool = False) -> str:
    """A new user with these project roles, signed in on ``client``; their id."""
    email = f"user-{uuid.uuid4().hex[:6]}@example.com"
    user_id = create_user(engine, email, PASSWORD, is_admin=is_admin)
    for project_id, role in roles.items():
        add_membership(engine, user_id, project_id, role)
    client.cookies.clear()
    assert login(client, email).status_code == 303
    return user_id


def trace_menu(page: str) -> tuple[dict[str, str], str | None]:
    """The form's "trace the judge's calls" menu: label by value, and the selected value."""
    menu = page.split('id="trace-project"')[1].split("</select>")[0]
    options = re.findall(r'<option value="([^"]*)"( selected)?>([^<]*)</option>', menu)
    labels = {html.unescape(value): html.unescape(label) for value, _, label in options}
    return labels, next((html.unescape(value) for value, chosen, _ in options if chosen), None)


def test_the_judges_calls_are_traced_only_where_the_user_may_write(
    client: TestClient, engine: Any, project: Project, other_project: Project
) -> None:
    viewed = create_project(engine, "viewed only", "proj-c")
    with engine.begin() as conn:
        conn.execute(update(projects).where(projects.c.id == other_project.id).values(name=HOSTILE))
    user_id = user_of(client, engine, {project.id: "MEMBER", other_project.id: "MEMBER", viewed: "VIEWER"})
    connection_id = add_connection(client, project)
    base = f"/project/{project.id}/evaluators"
    new = client.get(f"{base}/new")
    assert HOSTILE not in new.text
    assert trace_menu(new.text) == (
        {
            "": "Don't trace the judge's calls",
            project.id: f"This project (Project {project.id})",
            other_project.id: HOSTILE,  # a viewer's project is not offered
        },
        None,  # a new evaluator's calls are not traced unless chosen
    )
    for forged in (viewed, "proj-nowhere"):
        refused = post(client, base, evaluator_form(connection_id, trace_project=forged))
        assert refused.status_code == 400, forged
        assert "owner, admin or member" in field_error(refused.text, "traceProjectId")
    assert client.get("/api/public/evaluators", headers=project.headers).json()["data"] == []

    assert post(client, base, evaluator_form(connection_id, trace_project=other_project.id)).status_code == 303
    evaluator = api_evaluator(client, project, "helpfulness")
    assert evaluator["traceProjectId"] == other_project.id
    path = f"{base}/{evaluator['id']}"
    shown = client.get(path).text.split('id="evaluator-trace-project">')[1].split("</dd>")[0]
    assert HOSTILE not in shown and "&lt;script&gt;alert(" in shown
    assert f'href="/project/{other_project.id}/traces?env=interactiveai-evaluation"' in shown
    assert client.get(f"{path}.json").json()["traceProject"]["name"] == HOSTILE

    # a writer no more, then not a member: the choice is still shown, and kept by a save
    mine = (memberships.c.user_id == user_id) & (memberships.c.project_id == other_project.id)
    with engine.begin() as conn:
        conn.execute(update(memberships).where(mine).values(role="VIEWER"))
    labels, chosen = trace_menu(client.get(f"{path}/edit").text)
    assert chosen == other_project.id and labels[other_project.id] == f"{HOSTILE} (kept: you may no longer choose it)"
    with engine.begin() as conn:
        conn.execute(delete(memberships).where(mine))
    labels, chosen = trace_menu(client.get(f"{path}/edit").text)
    assert chosen == other_project.id and HOSTILE not in labels[other_project.id]
    assert "which you cannot open" in client.get(path).text
    assert client.get(f"{path}.json").json()["traceProject"] == {
        "id": other_project.id,
        "name": None,
        "own": False,
        "url": None,
    }
    kept = evaluator_form(connection_id, name="renamed", trace_project=other_project.id)
    assert post(client, f"{path}/edit", kept).status_code == 303
    assert api_evaluator(client, project, "renamed")["traceProjectId"] == other_project.id
    refused = post(client, f"{path}/edit", {**kept, "trace_project": viewed})
    assert refused.status_code == 400 and "owner, admin or member" in field_error(refused.text, "traceProjectId")
    older = {k: v for k, v in kept.items() if k != "trace_project"}  # an older form's checkbox: this project
    assert post(client, f"{path}/edit", {**older, "trace_judge": "1"}).status_code == 303
    assert api_evaluator(client, project, "renamed")["traceProjectId"] == project.id
    assert other_project.id not in trace_menu(client.get(f"{path}/edit").text)[0]  # changed: no longer offered
    assert 'href="/project/proj-a/traces?env=interactiveai-evaluation">this project</a>' in client.get(path).text

    user_of(client, engine, {}, is_admin=True)  # an instance admin writes to every project
    assert set(trace_menu(client.get(f"{base}/new").text)[0]) == {"", project.id, other_project.id, viewed}


def test_the_judges_trace_lands_in_the_project_chosen_on_the_form(
    engine: Any, tmp_path: Path, project: Project, other_project: Project
) -> None:
    from tests.server.evals.conftest import jobs_of, make_app, send_span, wait_for
    from tests.server.evals.fake_judge import fake_judge

    with fake_judge() as judge, TestClient(make_app(engine, tmp_path)) as client:
        user_of(client, engine, {project.id: "MEMBER", other_project.id: "OWNER"})
        connection_id = add_connection(client, project, base_url=judge.base_url)
        form = evaluator_form(
            connection_id,
            prompt="Question: {{input}}\r\nAnswer: {{output}}",
            var_name=["input", "output"],
            var_from=["", ""],
            var_key=["", ""],
            sampling_percent="100",
            delay_seconds="0.2",
            trace_project=other_project.id,
        )
        assert post(client, f"/project/{project.id}/evaluators", form).status_code == 303
        evaluator = api_evaluator(client, project, "helpfulness")
        trace_id = os.urandom(16).hex()
        send_span(client, project, trace_id, os.urandom(8).hex())
        [job] = wait_for(lambda: jobs_of(client, project, evaluator["id"], "done"), what="the evaluation")
        assert job["traceId"] == trace_id and job["judgeTraceId"]
        path = f"/api/public/traces/{job['judgeTraceId']}"
        judged = wait_for(
            lambda: (r := client.get(path, headers=other_project.headers)).status_code == 200 and r.json(),
            what="the judge's trace in the chosen project",
        )
        assert judged["environment"] == "interactiveai-evaluation"
        assert client.get(path, headers=project.headers).status_code == 404
