"""The evaluation loop as a person meets it, in a real Chromium against a real server subprocess:
two experiment runs made through the SDK with item and run evaluators, read back through the
REST API and compared on the dataset's page; then a review queue stepped through from the keyboard.

What the pages show does not depend on the engine (the queries behind them are tested on both in
tests/server), so this module runs on the first selected one. Screenshots go to /tmp/ia-screens/.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from interactiveai import Evaluation, InteractiveAI
from tests.conftest import live_database_url
from tests.support.browser import SCREENS, chromium
from tests.support.live_server import LiveServer, live_server

pytestmark = [pytest.mark.browser, pytest.mark.engine_independent]

CAPITALS = {"France": "Paris", "Japan": "Tokyo", "Kenya": "Nairobi"}


@pytest.fixture(scope="module")
def server(
    dialect: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("evaluation-live"), live_database_url(dialect, request)) as srv:
        yield srv


def api(server: LiveServer, method: str, path: str, **kwargs: Any) -> Any:
    response = httpx.request(method, f"{server.url}/api/public{path}", headers=server.auth_header, timeout=10, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def exact(*, output: Any, expected_output: Any, **_: Any) -> Evaluation:
    return Evaluation(name="exact", value=output == expected_output)


def accuracy(*, item_results: list[Any], **_: Any) -> Evaluation:
    hits = [e.value for r in item_results for e in r.evaluations if e.name == "exact"]
    return Evaluation(name="accuracy", value=sum(hits) / len(hits))


@pytest.fixture(scope="module")
def experiment(server: LiveServer) -> dict[str, Any]:
    client = InteractiveAI(public_key=server.public_key, secret_key=server.secret_key, host=server.url)
    client.create_dataset(name="capitals")
    for country, capital in CAPITALS.items():
        client.create_dataset_item(dataset_name="capitals", input={"country": country}, expected_output=capital)
    dataset = client.get_dataset("capitals")
    answers = {"baseline": {**CAPITALS, "Kenya": "Mombasa"}, "improved": CAPITALS}
    results = {}
    for run, table in answers.items():
        results[run] = dataset.run_experiment(
            name="capitals",
            run_name=run,
            task=lambda *, item, table=table, **_: table[item.input["country"]],
            evaluators=[exact],
            run_evaluators=[accuracy],
        )
    client.shutdown(timeout=10)
    return {"dataset": dataset, "results": results}


@pytest.fixture(scope="module")
def browser(server: LiveServer) -> Iterator[Any]:
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser: Any, server: LiveServer) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.goto(server.url + "/login")
    tab.fill("input[name=email]", server.email)
    tab.fill("input[name=password]", server.password)
    tab.click("button[type=submit]")
    tab.wait_for_url(f"**/project/{server.project_id}/traces")
    tab.errors = errors
    yield tab
    assert not errors, errors
    context.close()


def test_experiment_runs_read_back_and_compared(page: Any, server: LiveServer, experiment: dict[str, Any]) -> None:
    baseline, improved = experiment["results"]["baseline"], experiment["results"]["improved"]
    assert baseline.run_evaluations[0].value == pytest.approx(2 / 3) and improved.run_evaluations[0].value == 1
    run = api(server, "GET", "/datasets/capitals/runs/baseline")
    assert len(run["datasetRunItems"]) == 3
    run_scores = api(server, "GET", "/v2/scores", params={"datasetRunId": run["id"]})["data"]
    assert [s["name"] for s in run_scores] == ["accuracy"]

    dataset_id = experiment["dataset"].id
    page.goto(f"{server.url}/project/{server.project_id}/datasets/{dataset_id}")
    rows = page.locator("#runs-table tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#runs-table")).to_contain_text("0.667")  # baseline's exact mean
    page.click("#compare-button")  # the two newest runs are picked
    expect(page.locator("h1")).to_have_text("Compare runs")
    expect(page.locator("#compare-table tbody tr")).to_have_count(3)
    kenya = page.locator("#compare-table tbody tr", has_text="Kenya")
    expect(kenya.locator("td.answer.differs")).to_have_count(1)
    expect(kenya.locator(".chip.trend-up")).to_have_count(1)  # "improved" scores above the baseline
    expect(page.locator("#compare-table td.answer .match-mark")).to_have_count(5)  # all but Mombasa
    SCREENS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENS / "evaluation-compare.png"), full_page=True)
    page.locator("#compare-table a", has_text="trace").first.click()
    expect(page.locator("h1")).to_have_text("experiment-item-run")


def test_a_queue_reviewed_from_the_keyboard(page: Any, server: LiveServer, experiment: dict[str, Any]) -> None:
    config = api(server, "POST", "/score-configs", json={"name": "correct", "dataType": "BOOLEAN"})
    queue = api(server, "POST", "/annotation-queues", json={"name": "Capitals check", "scoreConfigIds": [config["id"]]})
    traces = [r.trace_id for r in experiment["results"]["baseline"].item_results]
    for trace_id in traces:
        api(
            server,
            "POST",
            f"/annotation-queues/{queue['id']}/items",
            json={"objectType": "TRACE", "objectId": trace_id},
        )

    page.goto(f"{server.url}/project/{server.project_id}/queues")
    page.click("#queues-table a:text('Capitals check')")
    page.click("#start-review")
    expect(page.locator("#review-progress")).to_have_text("0 of 3 reviewed")
    first = page.locator("#review").get_attribute("data-item")
    page.keyboard.press("1")  # True
    expect(page.locator("fieldset.score-field input[value='1']")).to_be_checked()
    page.fill("textarea[name=comment]", "right answer, terse <b>style</b>")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#review-progress")).to_have_text("1 of 3 reviewed")
    second = page.locator("#review").get_attribute("data-item")
    assert second != first
    page.locator("body").click()  # focus out of the form: "s" skips
    page.keyboard.press("s")
    expect(page.locator("#review")).not_to_have_attribute("data-item", second)
    page.screenshot(path=str(SCREENS / "evaluation-review.png"), full_page=True)

    progress = api(server, "GET", f"/annotation-queues/{queue['id']}")
    assert (progress["completedItems"], progress["pendingItems"]) == (1, 2)
    item = next(i for i in api(server, "GET", f"/annotation-queues/{queue['id']}/items")["data"] if i["id"] == first)
    scores = api(server, "GET", "/v2/scores", params={"traceId": item["objectId"], "name": "correct"})["data"]
    assert [(s["source"], s["value"]) for s in scores] == [("ANNOTATION", 1)]
    comments = api(server, "GET", "/comments", params={"objectType": "TRACE", "objectId": item["objectId"]})["data"]
    assert [c["content"] for c in comments] == ["right answer, terse <b>style</b>"]
    page.goto(f"{server.url}/project/{server.project_id}/queues/{queue['id']}")
    expect(page.locator("#reviewed-by")).to_contain_text(server.email)
