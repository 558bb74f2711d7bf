"""A NUL character in any field of a UI form (which no browser sends, but any client can): the
page answers 4xx or handles it, never 500 (PostgreSQL refuses NUL in a text parameter)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.server.ui.conftest import csrf_from
from tests.server.ui.seed import add_trace, obs, oid, tid

NUL = "a\x00b"


@pytest.fixture
def trace(engine: Any, project: Any) -> str:
    return add_trace(engine, project.id, tid("t"), timestamp_us=1_767_225_600_000_000, observations_=[obs(oid("o"))])


def _forms(project_id: str, trace_id: str) -> list[tuple[str, dict[str, Any]]]:
    base = f"/project/{project_id}"
    return [
        (f"{base}/traces/delete-selected", {"trace_id": [NUL, "\x00"]}),
        (f"{base}/traces/delete-matching", {"list_query": f"name={NUL}&user={NUL}&session={NUL}&tag={NUL}"}),
        (f"{base}/traces/delete-matching", {"list_query": f"q={NUL}&env={NUL}&level={NUL}&release={NUL}"}),
        (f"{base}/traces/{trace_id}/add-to-dataset", {"new_dataset": NUL}),
        (f"{base}/traces/{trace_id}/add-to-dataset", {"dataset": "d", "observation_id": NUL}),
        (f"{base}/traces/{trace_id}/scores", {"name": "n", "value": "1", "observation_id": NUL}),
        (f"{base}/traces/{trace_id}/scores", {"config_id": NUL, "value": "1"}),
        (f"{base}/traces/{trace_id}/scores", {"name": NUL, "value": NUL, "data_type": NUL, "comment": NUL}),
        (f"{base}/datasets", {"name": NUL, "description": NUL}),
        (f"{base}/datasets", {"name": "d", "description": NUL}),
        (f"{base}/settings/api-keys", {"note": NUL}),
        (f"{base}/settings/name", {"name": NUL}),
        ("/login", {"email": NUL, "password": NUL}),
    ]


def test_no_form_field_fails_with_a_nul(ui: Any, project: Any, trace: str) -> None:
    token = csrf_from(ui.get(f"/project/{project.id}/traces/{trace}").text)
    problems = []
    for url, form in _forms(project.id, trace):
        response = ui.post(url, data={**form, "csrf_token": token}, follow_redirects=False)
        if response.status_code >= 500:
            problems.append(f"POST {url} {form}: {response.status_code}")
    assert not problems, "\n".join(problems)
    assert ui.get(f"/project/{project.id}/traces/{trace}").status_code == 200  # not deleted by the NUL list


def test_a_nul_split_across_chunks_is_refused(ui: Any, project: Any) -> None:
    token = csrf_from(ui.get(f"/project/{project.id}/datasets").text)
    chunks = [b"name=ok&name2=a%0", b"0b&csrf_token=" + token.encode()]
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    response = ui.post(f"/project/{project.id}/datasets", content=iter(chunks), headers=headers)
    assert response.status_code == 400
    assert "NUL" in response.json()["message"]
    early = [b"name=a%00b", b"&more=" + b"y" * 1000, b"&csrf_token=" + token.encode()]  # refused at once, rest drained
    response = ui.post(f"/project/{project.id}/datasets", content=iter(early), headers=headers)
    assert response.status_code == 400
    ok = ui.post(f"/project/{project.id}/datasets", data={"name": "100%00 sure", "csrf_token": token})
    assert ok.status_code == 200 and "100%00 sure" in ok.text  # a literal "%00" is "%2500" in a form
