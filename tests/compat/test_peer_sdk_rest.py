"""Our REST API's JSON as the existing SDK's own API models read it (3.x, 4.x and 5.x).

The scenario ``peer_sdk/rest_models.py`` runs in each release's virtual environment against a
live server of ours and reads, through the SDK's ``api`` client (which validates every response
with its generated models): the project and its organization (``get_trace_url``), a trace with a
score of every type, trace and observation lists with the ``filter`` parameter, the score list,
dataset items as they are and as they stood before an upsert, and a dataset run.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.compat.conftest import CompatServer
from tests.support.compat_venv import compat_venv

SCENARIO = Path(__file__).parent / "peer_sdk" / "rest_models.py"
RELEASES = {"v3": ["langfuse>=3,<4"], "v4": ["langfuse>=4,<5"], "v5": ["langfuse>=5,<6"]}

pytestmark = pytest.mark.slow


def read_back(release: str, server: CompatServer, tmp_path: Path) -> dict[str, Any]:
    venv = compat_venv(f"langfuse-{release}", RELEASES[release])
    out = tmp_path / "read.json"
    env = {
        "LANGFUSE_HOST": server.url,
        "LANGFUSE_BASE_URL": server.url,
        "LANGFUSE_PUBLIC_KEY": server.public_key,
        "LANGFUSE_SECRET_KEY": server.secret_key,
        "PEER_RUN": f"{release}-{server.dialect}-{uuid.uuid4().hex[:8]}",
    }
    venv.run(SCENARIO, str(out), env=env, timeout=240)
    result: dict[str, Any] = json.loads(out.read_text())
    return result


@pytest.mark.parametrize("release", list(RELEASES))
def test_the_sdk_models_read_our_responses(release: str, live_server_for_compat: CompatServer, tmp_path: Path) -> None:
    server = live_server_for_compat
    read = read_back(release, server, tmp_path)
    assert read["errors"] == {}, read["errors"]

    assert read["project"] == {
        "id": server.project_id,
        "organization": {"id": "default", "name": "Default organization"},
    }
    assert read["trace_url"] == f"{server.url}/project/{server.project_id}/traces/{'ab' * 16}"

    if read["major"] < 5:
        expected_scores = [
            {"name": "ok", "dataType": "BOOLEAN", "value": 1.0, "stringValue": "True"},
            {"name": "quality", "dataType": "NUMERIC", "value": 0.9, "stringValue": None},
            {"name": "remark", "dataType": "TEXT", "value": None, "stringValue": "fine"},
            {"name": "tone", "dataType": "CATEGORICAL", "value": 0.0, "stringValue": "polite"},
        ]
        assert read["trace_scores"] == expected_scores
        assert read["listed_scores"] == expected_scores
        assert read["model_parameters"] == {"temperature": "0.2", "max_tokens": "64"}
        assert read["trace_list_ids"] == [read["trace_id"]] and read["trace_list_none"] == []
        assert read["observation_names"] == ["llm"]
        assert read["observation_model_parameters"] == [{"temperature": "0.2", "max_tokens": "64"}]

    a, b = f"a-{read['tag']}", f"b-{read['tag']}"
    assert read["items_now"] == [
        {"id": a, "input": {"q": "changed"}, "metadata": None, "status": "ACTIVE", "mediaReferences": []}
    ]
    assert read["items_then"] == [
        {"id": a, "input": {"q": 1}, "metadata": None, "status": "ACTIVE", "mediaReferences": []},
        {"id": b, "input": {"q": 2}, "metadata": {"m": 1}, "status": "ACTIVE", "mediaReferences": []},
    ]
    assert read["item_get"] == read["items_now"][0]
    assert read["dataset_items"] == [a] and read["dataset_metadata"] is None

    if read["major"] < 5:
        assert read["run"] == {"name": "run-1", "metadata": None, "items": [a]}
        assert read["runs"] == ["run-1"] and read["run_items"] == [[a, read["trace_id"]]]
