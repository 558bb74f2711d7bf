"""Dataset items in the web UI: create on the dataset page, edit (a new version), archive, restore,
delete; JSON checked with a message that says where; CSRF, read-only role, names as text."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from interactiveai.server.query.datasets import get_dataset_item, list_dataset_items
from interactiveai.server.tenancy import add_membership, create_user
from interactiveai.server.writes.datasets import upsert_dataset, upsert_dataset_item
from tests.server.ui.conftest import PASSWORD, csrf_from, login

XSS = "<script>window.__xss=1</script>"


@pytest.fixture
def dataset(engine: Any, project: Any) -> Any:
    return upsert_dataset(engine, project.id, {"name": f"golden {XSS}"})


def _page(project: Any, dataset: Any) -> str:
    return f"/project/{project.id}/datasets/{dataset.id}"


def test_breadcrumb_names_the_dataset(ui: Any, project: Any, dataset: Any) -> None:
    html = ui.get(_page(project, dataset)).text
    crumbs = html.split('<nav class="crumbs">', 1)[1].split("</nav>", 1)[0]
    assert "golden &lt;script&gt;" in crumbs and f">{dataset.id}<" not in crumbs and "<script>window" not in html


def test_create_an_item_from_the_dataset_page(ui: Any, engine: Any, project: Any, dataset: Any) -> None:
    page = _page(project, dataset)
    token = csrf_from(ui.get(page).text)
    form = {"csrf_token": token, "input": '{"q": "2+2?"}', "expected_output": '"4"', "metadata": '{"topic": "math"}'}
    response = ui.post(f"{page}/items", data=form, follow_redirects=False)
    assert response.status_code == 303 and "notice=dataset-item-created" in response.headers["location"]
    [item] = list_dataset_items(engine, project.id, dataset_id=dataset.id).items
    assert (item.input, item.expected_output, item.metadata, item.status) == (
        {"q": "2+2?"},
        "4",
        {"topic": "math"},
        "ACTIVE",
    )
    listed = ui.get(response.headers["location"]).text
    assert f'href="{page}/items/{item.id}"' in listed and "was added" in listed


@pytest.mark.parametrize(
    ("field", "text", "message"),
    [
        ("input", "", "Input is required"),
        ("input", "hello there", "Input is not valid JSON: Expecting value at line 1, column 1."),
        (
            "expected_output",
            '{"a": 1,\n "b": }',
            "Expected output is not valid JSON: Expecting value at line 2, column 7",
        ),
        ("metadata", "NaN", "Metadata is not valid JSON: NaN is not JSON"),
    ],
)
def test_bad_json_is_refused_with_where_and_the_text_kept(
    ui: Any, engine: Any, project: Any, dataset: Any, field: str, text: str, message: str
) -> None:
    page = _page(project, dataset)
    form = {"csrf_token": csrf_from(ui.get(page).text), "input": '"ok"', field: text}
    response = ui.post(f"{page}/items", data=form)
    assert response.status_code == 400 and message in response.text
    assert list_dataset_items(engine, project.id, dataset_id=dataset.id).items == []
    if text:
        assert text.replace('"', "&#34;").split("\n")[0] in response.text  # kept, escaped, for fixing


def test_edit_archive_restore_and_delete(ui: Any, engine: Any, project: Any, dataset: Any) -> None:
    item = upsert_dataset_item(engine, project.id, {"datasetName": dataset.name, "id": "it/1", "input": XSS})
    url = f"{_page(project, dataset)}/items/{quote(item.id, safe='')}"
    html = ui.get(url).text
    assert "&#34;&lt;script&gt;window.__xss=1&lt;/script&gt;&#34;" in html and "<script>window" not in html
    token = csrf_from(html)
    version = html.split('name="version" value="', 1)[1].split('"', 1)[0]
    saved = ui.post(url, data={"csrf_token": token, "version": version, "action": "save", "input": '{"x": [1, 2]}',
                               "expected_output": "", "metadata": '"note"'}, follow_redirects=False)  # fmt: skip
    assert saved.status_code == 303 and "dataset-item-saved" in saved.headers["location"]
    now = get_dataset_item(engine, project.id, item.id)
    assert now is not None and (now.input, now.expected_output, now.metadata) == ({"x": [1, 2]}, None, "note")
    # the REST layer's versions: the item as it stood before the edit is still listed
    before = list_dataset_items(engine, project.id, dataset_id=dataset.id, at_us=item.updated_at_us).items
    assert [i.input for i in before] == [XSS]
    # a stale form (the version it was opened at) is refused, the text kept
    stale = ui.post(url, data={"csrf_token": token, "version": version, "action": "save", "input": '"mine"'})
    assert stale.status_code == 409 and "Someone changed this item" in stale.text and "&#34;mine&#34;" in stale.text
    archived = ui.post(url, data={"csrf_token": token, "action": "archive"}, follow_redirects=False)
    assert archived.status_code == 303
    assert get_dataset_item(engine, project.id, item.id).status == "ARCHIVED"  # type: ignore[union-attr]
    assert 'value="restore"' in ui.get(url).text
    ui.post(url, data={"csrf_token": token, "action": "restore"}, follow_redirects=False)
    assert get_dataset_item(engine, project.id, item.id).status == "ACTIVE"  # type: ignore[union-attr]
    deleted = ui.post(url, data={"csrf_token": token, "action": "delete"}, follow_redirects=False)
    assert deleted.status_code == 303 and "dataset-item-deleted" in deleted.headers["location"]
    assert get_dataset_item(engine, project.id, item.id) is None
    assert ui.get(url).status_code == 404


def test_item_changes_need_csrf_a_manager_and_the_right_dataset(
    client: Any, engine: Any, project: Any, dataset: Any
) -> None:
    item = upsert_dataset_item(engine, project.id, {"datasetName": dataset.name, "id": "it-2", "input": "q"})
    other = upsert_dataset(engine, project.id, {"name": "other"})
    viewer = create_user(engine, "viewer@example.com", PASSWORD)
    add_membership(engine, viewer, project.id, role="VIEWER")
    assert login(client, "viewer@example.com").status_code == 303
    url = f"{_page(project, dataset)}/items/{item.id}"
    html = client.get(url).text
    assert (
        "readonly" in html
        and 'value="delete"' not in html
        and 'id="new-item"' not in client.get(_page(project, dataset)).text
    )
    token = csrf_from(html)
    assert client.post(url, data={"csrf_token": token, "action": "delete"}).status_code == 403
    assert client.post(url, data={"csrf_token": "forged", "action": "delete"}).status_code == 403
    assert client.get(f"{_page(project, other)}/items/{item.id}").status_code == 404
    assert get_dataset_item(engine, project.id, item.id) is not None


def test_row_buttons_on_the_dataset_page_archive_and_delete(ui: Any, engine: Any, project: Any, dataset: Any) -> None:
    item = upsert_dataset_item(engine, project.id, {"datasetName": dataset.name, "id": "row-1", "input": "q"})
    page = _page(project, dataset)
    html = ui.get(page).text
    url = f"{page}/items/{item.id}"
    assert f'action="{url}"' in html and 'value="archive"' in html and 'value="delete"' in html
    token = csrf_from(html)
    archived = ui.post(url, data={"csrf_token": token, "action": "archive", "back": "dataset"}, follow_redirects=False)
    assert archived.status_code == 303 and archived.headers["location"].startswith(
        f"{page}?notice=dataset-item-archived"
    )
    assert 'value="restore"' in ui.get(page).text
    deleted = ui.post(url, data={"csrf_token": token, "action": "delete", "back": "dataset"}, follow_redirects=False)
    assert deleted.headers["location"].startswith(f"{page}?notice=dataset-item-deleted")
    assert list_dataset_items(engine, project.id, dataset_id=dataset.id).items == []
