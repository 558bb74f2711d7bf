"""Every cost source ingestion stores has a truthful label on the trace detail, in its JSON and in
the page a browser renders from it, including the two the matching budget adds (costs/budget.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, update

from interactiveai.server.clock import now_us
from interactiveai.server.query.ui_trace_detail import COST_SOURCES
from interactiveai.server.storage.schema import observations
from tests.conftest import live_database_url
from tests.server.ui.seed import add_trace, obs, oid, tid
from tests.support.browser import MINUTE, chromium
from tests.support.live_server import LiveServer, live_server

DEFERRED = "custom model matching deferred: project over its matching budget"
# (observation, cost source, matched model id, label, matched model name)
CASES = [
    ("s-provided", "provided", None, "provided by the client", None),
    ("s-catalog", "catalog", "openai/gpt-4o", "catalog", "gpt-4o"),
    ("s-catalog-ob", "catalog_over_budget", "openai/gpt-4o", f"catalog price ({DEFERRED})", "gpt-4o"),
    ("s-over", "over_budget", None, f"no price ({DEFERRED})", None),
    ("s-none", None, None, "no price known", None),
]


def _seed(engine: Engine, project_id: str, timestamp_us: int) -> str:
    trace_id = add_trace(
        engine, project_id, tid("sources"), timestamp_us=timestamp_us,
        observations_=[obs(oid(name), type="GENERATION", name=name, model="gpt-4o", usage={"input": 10})
                       for name, *_ in CASES],
    )  # fmt: skip
    with engine.begin() as conn:
        for name, source, model_id, *_ in CASES:
            conn.execute(
                update(observations)
                .where(observations.c.project_id == project_id, observations.c.id == oid(name))
                .values(cost_source=source, matched_model_id=model_id)
            )
    return trace_id


def test_every_cost_source_has_a_label() -> None:
    sources = {"provided", "project_model", "catalog", "catalog_over_budget", "over_budget"}  # costs/calculator.py
    assert set(COST_SOURCES) == sources


def test_observation_json_labels_the_budget_sources(ui: Any, engine: Any, project: Any) -> None:
    trace_id = _seed(engine, project.id, now_us() - 60 * MINUTE)
    base = f"/project/{project.id}/traces/{trace_id}/observations/"
    for name, source, model_id, label, model_name in CASES:
        info = ui.get(f"{base}{oid(name)}.json").json()["cost_source_info"]
        assert info == {"source": source, "label": label, "matchedModelId": model_id, "matchedModelName": model_name}
    assert ui.get(f"/project/{project.id}/traces/{trace_id}").status_code == 200


@pytest.fixture(scope="module")
def server(
    dialect: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("cost-labels"), live_database_url(dialect, request)) as srv:
        yield srv


@pytest.mark.browser
def test_the_trace_page_shows_each_price_source(server: LiveServer) -> None:
    from playwright.sync_api import expect

    from interactiveai.server.storage.engines import create_db_engine

    engine = create_db_engine(server.database_url, pool_size=1)
    try:
        trace_id = _seed(engine, server.project_id, now_us() - 10 * MINUTE)
    finally:
        engine.dispose()
    with chromium() as browser:
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(server.url + "/login")
        page.fill("input[name=email]", server.email)
        page.fill("input[name=password]", server.password)
        page.click("button[type=submit]")
        page.wait_for_url(f"**/project/{server.project_id}/traces")
        for name, _source, _model_id, label, _model_name in CASES:
            page.goto(f"{server.url}/project/{server.project_id}/traces/{trace_id}?observation={oid(name)}")
            expect(page.locator("#price-source")).to_contain_text(label)
        assert errors == []
