"""Filling a dataset in bulk from the UI: JSON, JSON Lines and CSV imports (all or nothing), and
traces from the trace list (selected, or all matching its filters)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from interactiveai.server.query.datasets import list_dataset_items
from interactiveai.server.ui.views_dataset_import import parse_records
from interactiveai.server.writes.errors import InvalidInputError
from tests.server.query.seed import add_trace, trace_id
from tests.server.ui.conftest import csrf_from


@pytest.fixture
def dataset(ui: Any, project: Any) -> dict[str, Any]:
    made = ui.post("/api/public/datasets", json={"name": "golden"}, headers=project.headers).json()
    return {**made, "page": f"/project/{project.id}/datasets/{made['id']}"}


def _items(engine: Any, project: Any, dataset: dict[str, Any]) -> list[Any]:
    return list_dataset_items(engine, project.id, dataset_id=dataset["id"], limit=100).items


def test_json_jsonl_and_csv_files_become_items(ui: Any, engine: Any, project: Any, dataset: dict[str, Any]) -> None:
    token = csrf_from(ui.get(dataset["page"]).text)
    array = json.dumps([{"input": {"q": "2+2"}, "expected_output": "4", "metadata": {"topic": "math"}}])
    lines = '{"input": "hi", "expectedOutput": "hello"}\n\n{"input": "<b>bye</b>"}\n'
    table = 'input,expected_output,metadata\n"{""q"": ""capital""}",Paris,"{""topic"": ""geo""}"\nplain text,42,\n'
    for name, text in (("a.json", array), ("b.jsonl", lines), ("c.csv", table)):
        response = ui.post(
            f"{dataset['page']}/import",
            data={"csrf_token": token},
            files={"file": (name, text.encode(), "application/octet-stream")},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
    pasted = ui.post(
        f"{dataset['page']}/import", data={"csrf_token": token, "text": '[{"input": 1}]'}, follow_redirects=False
    )
    assert "n=1" in pasted.headers["location"]
    items = {json.dumps(i.input, sort_keys=True): i for i in _items(engine, project, dataset)}
    assert items['{"q": "2+2"}'].expected_output == "4" and items['{"q": "2+2"}'].metadata == {"topic": "math"}
    assert items['"hi"'].expected_output == "hello" and '"<b>bye</b>"' in items
    assert items['{"q": "capital"}'].metadata == {"topic": "geo"} and items['"plain text"'].expected_output == "42"
    assert not items['"plain text"'].metadata and items['"<b>bye</b>"'].expected_output is None
    assert len(items) == 6
    assert "&lt;b&gt;bye" in ui.get(dataset["page"]).text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("[{", "not valid JSON"),
        ('[{"input": 1}, {"expected_output": 2}]', "record 2: input is required"),
        ('[{"input": 1, "colour": "red"}]', "unknown field 'colour'"),
        ('[{"input": 1, "metadata": [1]}]', "metadata must be a JSON object"),
        ("question,answer\nx,y\n", "header row with an input column"),
        ("[3]", "record 1: expected an object"),
    ],
)
def test_a_bad_file_imports_nothing_and_says_why(text: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        parse_records(text)


def test_refused_import_shows_the_reason_and_writes_nothing(
    ui: Any, engine: Any, project: Any, dataset: dict[str, Any]
) -> None:
    token = csrf_from(ui.get(dataset["page"]).text)
    body = '[{"input": 1}, {"input": 2, "metadata": "<script>x</script>"}]'
    refused = ui.post(f"{dataset['page']}/import", data={"csrf_token": token, "text": body})
    assert refused.status_code == 400 and 'id="import-error"' in refused.text and "record 2" in refused.text
    assert _items(engine, project, dataset) == []


def test_traces_from_the_list_become_items(ui: Any, engine: Any, project: Any, dataset: dict[str, Any]) -> None:
    for n in range(3):
        add_trace(engine, project.id, trace_id(n), name="qa" if n else "other", input={"q": n}, output=f"a{n}")
    page = ui.get(f"/project/{project.id}/traces?range=all")
    assert 'id="dataset-matching"' in page.text
    token = csrf_from(page.text)
    base = {"csrf_token": token, "dataset_id": dataset["id"]}
    matching = ui.post(
        f"/project/{project.id}/datasets/add-traces",
        data={**base, "matching": "1", "list_query": "name=qa&range=all"},
        follow_redirects=False,
    )
    assert "n=2" in matching.headers["location"]
    ui.post(f"/project/{project.id}/datasets/add-traces", data={**base, "trace_id": [trace_id(0), "gone"]})
    items = _items(engine, project, dataset)
    assert sorted(i.source_trace_id for i in items) == sorted(trace_id(n) for n in range(3))
    assert {i.expected_output for i in items} == {"a0", "a1", "a2"}
