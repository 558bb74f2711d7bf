"""Datasets pages and the trace page's "Add to dataset": lists, counts, items with source links,
create/delete, CSRF, project access, the read-only role, names shown as text."""

from __future__ import annotations

from typing import Any

import pytest

from interactiveai.server.clock import now_us
from interactiveai.server.query.datasets import get_dataset, list_dataset_items
from interactiveai.server.tenancy import add_membership, create_user
from interactiveai.server.writes.datasets import create_item_from_trace, create_run_item, upsert_dataset
from tests.server.ui.conftest import PASSWORD, csrf_from, login
from tests.server.ui.seed import add_trace, obs, oid, tid

XSS = "<script>window.__xss=1</script><img src=x onerror=alert(1)>"
HOUR = 3600 * 1_000_000


@pytest.fixture
def trace_id(engine: Any, project: Any, other_project: Any) -> str:
    add_trace(engine, other_project.id, tid("foreign"), timestamp_us=now_us() - HOUR, input="x", output="y")
    return add_trace(
        engine, project.id, tid("qa"), timestamp_us=now_us() - HOUR, name="qa", input={"question": "What is 2+2?"},
        output="four", observations_=[obs(oid("q1"), name="llm", input="inner question", output="inner answer")],
    )  # fmt: skip


def test_add_trace_to_new_and_existing_dataset(ui: Any, engine: Any, project: Any, trace_id: str) -> None:
    page = f"/project/{project.id}/traces/{trace_id}"
    html = ui.get(page).text
    assert 'id="add-to-dataset"' in html and "in datasets" not in html
    response = ui.post(f"{page}/add-to-dataset", data={"csrf_token": csrf_from(html), "new_dataset": XSS},
                       follow_redirects=False)  # fmt: skip
    assert response.status_code == 303 and "notice=item-added" in response.headers["location"]
    dataset = get_dataset(engine, project.id, XSS)
    assert dataset is not None
    [item] = list_dataset_items(engine, project.id, source_trace_id=trace_id).items
    assert item.input == {"question": "What is 2+2?"} and item.expected_output == "four"
    after = ui.get(response.headers["location"]).text
    assert 'id="in-datasets"' in after and "&lt;script&gt;window.__xss" in after and "<script>window.__xss" not in after
    # the selected observation, into the existing dataset
    upsert_dataset(engine, project.id, {"name": "golden"})
    response = ui.post(
        f"{page}/add-to-dataset",
        data={"csrf_token": csrf_from(after), "dataset": "golden", "observation_id": oid("q1")},
        follow_redirects=False,
    )
    assert response.status_code == 303 and f"observation={oid('q1')}" in response.headers["location"]
    [obs_item] = list_dataset_items(engine, project.id, source_observation_id=oid("q1")).items
    assert obs_item.dataset_name == "golden" and obs_item.input == "inner question"


def test_add_to_dataset_errors(ui: Any, engine: Any, project: Any, trace_id: str) -> None:
    page = f"/project/{project.id}/traces/{trace_id}"
    token = csrf_from(ui.get(page).text)
    missing = ui.post(f"{page}/add-to-dataset", data={"csrf_token": token})
    assert missing.status_code == 400 and "Choose a dataset" in missing.text
    unknown = ui.post(f"{page}/add-to-dataset", data={"csrf_token": token, "dataset": "nope"})
    assert unknown.status_code == 400 and "not found" in unknown.text
    assert ui.post(f"{page}/add-to-dataset", data={"dataset": "x"}).status_code == 403
    foreign = ui.post(f"/project/{project.id}/traces/{tid('foreign')}/add-to-dataset",
                      data={"csrf_token": token, "new_dataset": "d"})  # fmt: skip
    assert foreign.status_code == 404
    assert ui.post(f"/project/proj-b/traces/{tid('foreign')}/add-to-dataset",
                   data={"csrf_token": token, "new_dataset": "d"}).status_code == 404  # fmt: skip
    assert get_dataset(engine, project.id, "d") is None and get_dataset(engine, "proj-b", "d") is None


def test_dataset_list_and_page(ui: Any, engine: Any, project: Any, trace_id: str) -> None:
    dataset = upsert_dataset(engine, project.id, {"name": XSS, "description": "golden answers"})
    item = create_item_from_trace(engine, project.id, XSS, trace_id)
    create_item_from_trace(engine, project.id, XSS, trace_id, oid("q1"))
    create_run_item(engine, project.id, {"runName": "run-1", "datasetItemId": item.id, "traceId": trace_id})
    upsert_dataset(engine, "proj-b", {"name": "hidden-dataset"})
    listing = ui.get(f"/project/{project.id}/datasets")
    assert listing.status_code == 200 and "hidden-dataset" not in listing.text
    assert "&lt;script&gt;window.__xss" in listing.text and "<script>window.__xss" not in listing.text
    data = ui.get(f"/project/{project.id}/datasets.json").json()
    assert [(d["name"], d["itemCount"], d["runCount"]) for d in data["data"]] == [(XSS, 2, 1)]
    page = ui.get(f"/project/{project.id}/datasets/{dataset.id}")
    assert page.status_code == 200
    assert "What is 2+2?" in page.text and "inner question" in page.text and "run-1" in page.text
    assert f'href="/project/{project.id}/traces/{trace_id}?observation={oid("q1")}"' in page.text
    detail = ui.get(f"/project/{project.id}/datasets/{dataset.id}.json").json()
    assert {i["sourceObservationId"] for i in detail["items"]} == {None, oid("q1")}
    assert [r["name"] for r in detail["runs"]] == ["run-1"]


def test_create_and_delete_dataset(ui: Any, engine: Any, project: Any, trace_id: str) -> None:
    listing = ui.get(f"/project/{project.id}/datasets")
    token = csrf_from(listing.text)
    created = ui.post(f"/project/{project.id}/datasets", data={"csrf_token": token, "name": "evals"},
                      follow_redirects=False)  # fmt: skip
    assert created.status_code == 303
    dataset = get_dataset(engine, project.id, "evals")
    assert dataset is not None and created.headers["location"].startswith(
        f"/project/{project.id}/datasets/{dataset.id}"
    )
    empty = ui.post(f"/project/{project.id}/datasets", data={"csrf_token": token, "name": " "})
    assert empty.status_code == 400 and "needs a name" in empty.text
    assert ui.post(f"/project/{project.id}/datasets", data={"name": "x"}).status_code == 403
    create_item_from_trace(engine, project.id, "evals", trace_id)
    deleted = ui.post(f"/project/{project.id}/datasets/{dataset.id}/delete", data={"csrf_token": token},
                      follow_redirects=False)  # fmt: skip
    assert deleted.status_code == 303 and get_dataset(engine, project.id, "evals") is None
    assert list_dataset_items(engine, project.id, source_trace_id=trace_id).items == []


def test_non_member_and_read_only(client: Any, engine: Any, project: Any, other_project: Any, trace_id: str) -> None:
    other = upsert_dataset(engine, other_project.id, {"name": "theirs"})
    user_id = create_user(engine, "viewer@example.com", PASSWORD)
    add_membership(engine, user_id, project.id, role="VIEWER")
    login(client, "viewer@example.com")
    assert client.get(f"/project/{other_project.id}/datasets").status_code == 404
    assert client.get(f"/project/{project.id}/datasets/{other.id}").status_code == 404
    assert client.get(f"/project/{project.id}/datasets/{other.id}.json").status_code == 404
    listing = client.get(f"/project/{project.id}/datasets")
    assert listing.status_code == 200 and 'id="create-dataset"' not in listing.text
    token = csrf_from(listing.text)
    assert client.post(f"/project/{project.id}/datasets", data={"csrf_token": token, "name": "x"}).status_code == 403
    response = client.post(f"/project/{project.id}/traces/{trace_id}/add-to-dataset",
                           data={"csrf_token": token, "new_dataset": "x"})  # fmt: skip
    assert response.status_code == 403 and get_dataset(engine, project.id, "x") is None


def test_new_pages_need_no_inline_script_or_style(ui: Any, engine: Any, project: Any, trace_id: str) -> None:
    """Settings, datasets and the deletion confirmation run under the same CSP as every page."""
    from tests.server.ui.test_escaping import _Tags

    dataset = upsert_dataset(engine, project.id, {"name": XSS})
    create_item_from_trace(engine, project.id, XSS, trace_id)
    paths = ["/settings", "/settings?lookup=gpt-4o", "/datasets", f"/datasets/{dataset.id}",
             "/traces/delete-matching?range=all", f"/traces/{trace_id}"]  # fmt: skip
    pages = [ui.get(f"/project/{project.id}{path}").text for path in paths]
    token = csrf_from(pages[0])
    pages.append(ui.post(f"/project/{project.id}/settings/api-keys", data={"csrf_token": token, "note": XSS}).text)
    for html in pages:
        parser = _Tags()
        parser.feed(html)
        for tag, attrs in parser.tags:
            assert "style" not in attrs, (tag, attrs)
            assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
            if tag == "script":
                assert (attrs.get("src") or "").startswith("/static/") or attrs.get("type") == "application/json"
        assert all(tag != "img" for tag, _ in parser.tags)


def test_the_run_links_the_reference_sdk_prints_open_the_run(ui: Any, engine: Any, project: Any, trace_id: str) -> None:
    # 3.x and 4.x print /datasets/{id}/runs/{run id}, 5.x /experiments/results?baseline={run id} (404 before)
    dataset = upsert_dataset(engine, project.id, {"name": "golden"})
    item = create_item_from_trace(engine, project.id, "golden", trace_id)
    run = create_run_item(engine, project.id, {"runName": "run-1", "datasetItemId": item.id, "traceId": trace_id})
    page = f"/project/{project.id}/datasets/{dataset.id}"
    for link in (
        f"{page}/runs/{run.dataset_run_id}",
        f"/project/{project.id}/experiments/results?baseline={run.dataset_run_id}",
    ):
        response = ui.get(link, follow_redirects=False)
        assert response.status_code == 303, link
        assert response.headers["location"] == f"{page}/compare?runs={run.dataset_run_id}", link
    assert ui.get(f"/project/{project.id}/experiments/results?baseline=no-such-run").status_code == 404
    assert ui.get(f"/project/proj-b/experiments/results?baseline={run.dataset_run_id}").status_code == 404
