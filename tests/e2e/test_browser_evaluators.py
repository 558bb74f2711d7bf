"""LLM-as-a-judge set up in the UI, in a real Chromium against a real server subprocess: a model
connection and an evaluator made through the forms, pointed at a fake OpenAI-compatible judge on
loopback; a trace sent; its evaluation seen done, with its score, on the evaluator's page.

The pages' queries are tested on both engines in tests/server/ui/test_evaluators_ui.py; this
module runs on the first selected engine. Screenshots go to /tmp/ia-screens/.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.conftest import Project, live_database_url
from tests.server.evals.conftest import send_span
from tests.server.evals.fake_judge import FakeJudge, fake_judge
from tests.support.browser import SCREENS, chromium
from tests.support.live_server import LiveServer, live_server

pytestmark = [pytest.mark.browser, pytest.mark.engine_independent]

FAST_WORKER = {
    "INTERACTIVEAI_EVAL_POLL_MS": "100",
    "INTERACTIVEAI_EVAL_SCAN_LAG_MS": "300",
    "INTERACTIVEAI_EVAL_RETRY_MS": "100",
}


@pytest.fixture(scope="module")
def judge() -> Iterator[FakeJudge]:
    with fake_judge() as running:
        yield running


@pytest.fixture(scope="module")
def server(
    dialect: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp("evaluators-live")
    with live_server(data_dir, live_database_url(dialect, request), extra_env=FAST_WORKER) as srv:
        yield srv


@pytest.fixture
def page(server: LiveServer) -> Iterator[Any]:
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        tab = context.new_page()
        errors: list[str] = []
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        tab.goto(server.url + "/login")
        tab.fill("input[name=email]", server.email)
        tab.fill("input[name=password]", server.password)
        tab.click("button[type=submit]")
        tab.wait_for_url(f"**/project/{server.project_id}/traces")
        yield tab
        assert not errors, errors
        context.close()


def test_a_judge_set_up_in_the_ui_scores_a_new_trace(page: Any, server: LiveServer, judge: FakeJudge) -> None:
    judge.verdict = {"score": 0.8, "reasoning": "Polite and <b>correct</b>."}
    page.goto(f"{server.url}/project/{server.project_id}/evaluators")
    page.click("#new-connection")
    page.fill("input[name=name]", "loopback judge")
    page.fill("input[name=base_url]", judge.base_url)
    page.fill("input[name=model]", "judge-mini")
    page.fill("input[name=api_key]", "sk-browser-secret-4321")
    page.click("#save-connection")
    expect(page.locator("#notice")).to_contain_text("model connection was saved")
    expect(page.locator("#connections-table")).to_contain_text("sk-…4321")
    assert "sk-browser-secret-4321" not in page.content()

    page.click("#new-evaluator")
    page.fill("input[name=name]", "helpfulness judge")
    expect(page.locator("#model-input")).to_have_attribute("placeholder", "default: judge-mini")
    page.fill("#prompt-input", "Question: {{input}}\nAnswer: {{output}}\nTier: {{tier}}\nRate the answer.")
    tier = page.locator("#mapping-table tr[data-variable=tier]")  # a row appears as the prompt is typed
    expect(page.locator("#variables-preview .chip")).to_have_text(["{{input}}", "{{output}}", "{{tier}}"])
    tier.locator("select[name=var_from]").select_option("trace.metadata")
    tier.locator("input[name=var_key]").fill("tier")
    page.fill("input[name=score_name]", "helpfulness")
    expect(page.locator("textarea[name=score_categories]")).to_be_hidden()  # numeric by default
    page.fill("input[name=score_min]", "0")
    page.fill("input[name=score_max]", "1")
    page.fill("input[name=delay_seconds]", "0.2")
    page.select_option("#trace-project", server.project_id)  # the judge traced in this project
    page.click("#save-evaluator")
    expect(page.locator("#notice")).to_contain_text("evaluator was created")
    expect(page.locator("#evaluator-name")).to_have_text("helpfulness judge")
    expect(page.locator("#variables-table")).to_contain_text("trace metadata tier")

    trace_id = os.urandom(16).hex()
    project = Project(server.project_id, server.public_key, server.secret_key)
    with httpx.Client(base_url=server.url, timeout=10) as client:
        send_span(client, project, trace_id, os.urandom(8).hex(), input="What is 2+2?", output="4")
    done = page.locator("#jobs-table tr.job-done")
    deadline = time.monotonic() + 30
    while done.count() == 0 and time.monotonic() < deadline:
        page.wait_for_timeout(300)
        page.reload()
    expect(done).to_have_count(1)
    expect(done.locator(".job-score")).to_contain_text("0.8")
    expect(done.locator("a.trace-link")).to_have_attribute("href", f"/project/{server.project_id}/traces/{trace_id}")
    expect(done.locator("a", has_text="trace").last).to_be_visible()  # the judge's own call, traced
    expect(page.locator("#state-counts")).to_contain_text("done 1")
    assert "Answer: 4" in judge.prompts()[-1]
    assert judge.headers[-1]["authorization"] == "Bearer sk-browser-secret-4321"  # decrypted by the worker
    SCREENS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENS / "evaluator-page.png"), full_page=True)

    page.click("#pause-evaluator")
    expect(page.locator("#evaluator-state")).to_have_text("paused")
    page.click("#edit-evaluator")
    expect(page.locator("#enabled")).not_to_be_checked()
    expect(page.locator("#mapping-table tr[data-variable=tier] input[name=var_key]")).to_have_value("tier")
    page.screenshot(path=str(SCREENS / "evaluator-form.png"), full_page=True)
    page.goto(f"{server.url}/project/{server.project_id}/evaluators")
    expect(page.locator("#evaluators-table")).to_contain_text("paused")
    expect(page.locator("#connections-table")).to_contain_text("helpfulness judge")  # used by
    page.screenshot(path=str(SCREENS / "evaluators.png"), full_page=True)
