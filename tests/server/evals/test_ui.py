"""The Evaluators page: the project's evaluators and their evaluations, and its JSON twin."""

from __future__ import annotations

import os
from typing import Any

from fastapi.testclient import TestClient

from interactiveai.server.tenancy import add_membership, create_user
from tests.conftest import Project
from tests.server.evals.conftest import create_evaluator, jobs_of, send_span, wait_for
from tests.server.evals.fake_judge import FakeJudge
from tests.server.ui.conftest import PASSWORD, login


def test_the_page_lists_evaluators_and_their_evaluations(
    fast_client: TestClient, engine: Any, project: Project, other_project: Project, judge: FakeJudge
) -> None:
    judge.behaviour = "401"
    evaluator = create_evaluator(fast_client, project, judge, name="<b>judge</b>")
    trace_id = os.urandom(16).hex()
    send_span(fast_client, project, trace_id, os.urandom(8).hex())
    wait_for(lambda: jobs_of(fast_client, project, evaluator["id"], "failed"), what="the failed evaluation")
    user = create_user(engine, "member@example.com", PASSWORD)
    add_membership(engine, user, project.id)
    assert login(fast_client, "member@example.com").status_code == 303

    page = fast_client.get(f"/project/{project.id}/evaluators?status=failed")
    assert page.status_code == 200
    assert "&lt;b&gt;judge&lt;/b&gt;" in page.text and "<b>judge</b>" not in page.text  # escaped
    assert trace_id in page.text and "answered 401" in page.text
    twin = fast_client.get(f"/project/{project.id}/evaluators.json?status=done").json()
    assert [e["id"] for e in twin["evaluators"]] == [evaluator["id"]]
    assert twin["jobs"] == [] and twin["filter"] == {"status": "done", "evaluator": None}
    assert "'apiKey'" not in str(twin["connections"]) and "sk-judge-secret" not in str(twin)
    # a project the user is not a member of is not found
    assert fast_client.get(f"/project/{other_project.id}/evaluators").status_code == 404
