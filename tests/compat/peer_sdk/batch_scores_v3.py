"""The existing SDK's 3.x ``create_score``, every data type and target: sent through ``POST /ingestion``.

Scores of each data type (numeric, boolean, categorical, text) on a trace, an observation, a
session and a dataset run, one with its own timestamp (carried by the event, not the body), one
with metadata and a comment, then ``flush()``. Every request the SDK makes is recorded with its
status and, for a 207, the events the server refused. The test reads the scores through our API.

Usage: python batch_scores_v3.py SUMMARY_PATH (configured by LANGFUSE_* variables and PEER_RUN).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import traceback
from typing import Any

import httpx

REQUESTS: list[dict[str, Any]] = []
_send = httpx.Client.send


def _recording_send(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
    response = _send(self, request, *args, **kwargs)
    entry: dict[str, Any] = {"method": request.method, "path": request.url.path, "status": response.status_code}
    if response.status_code == 207:
        response.read()
        entry["errors"] = json.loads(response.content).get("errors")
    REQUESTS.append(entry)
    return response


httpx.Client.send = _recording_send  # type: ignore[method-assign]

from langfuse import Langfuse  # noqa: E402

TAG = os.environ["PEER_RUN"]
langfuse = Langfuse()
trace_id = Langfuse.create_trace_id(seed=f"scores-{TAG}")
observation_id = "0123456789abcdef"
session_id = f"session-{TAG}"
run_id = f"run-{TAG}"
STAMP = dt.datetime(2025, 6, 1, 8, 30, 0, tzinfo=dt.UTC)
SCORES: list[dict[str, Any]] = [
    {"score_id": f"num-{TAG}", "name": "accuracy", "value": 0.92, "trace_id": trace_id, "data_type": "NUMERIC"},
    {
        "score_id": f"obs-{TAG}",
        "name": "relevance",
        "value": 3,
        "trace_id": trace_id,
        "observation_id": observation_id,
        "comment": "on the generation",
        "metadata": {"judge": "human"},
    },
    {"score_id": f"bool-{TAG}", "name": "correct", "value": 1, "trace_id": trace_id, "data_type": "BOOLEAN"},
    {"score_id": f"cat-{TAG}", "name": "tone", "value": "friendly", "trace_id": trace_id, "data_type": "CATEGORICAL"},
    {"score_id": f"text-{TAG}", "name": "note", "value": "concise", "trace_id": trace_id, "data_type": "TEXT"},
    {"score_id": f"session-{TAG}", "name": "satisfaction", "value": 4.5, "session_id": session_id},
    {"score_id": f"run-{TAG}", "name": "pass-rate", "value": 0.8, "dataset_run_id": run_id},
    {"score_id": f"stamped-{TAG}", "name": "late", "value": 1.0, "trace_id": trace_id, "timestamp": STAMP},
]
errors: dict[str, str] = {}
for score in SCORES:
    try:
        langfuse.create_score(**score)
    except Exception as exc:  # what the SDK raised is the finding
        errors[score["score_id"]] = f"{type(exc).__name__}: {exc}"
        traceback.print_exc()
langfuse.flush()
summary = {
    "trace_id": trace_id,
    "observation_id": observation_id,
    "session_id": session_id,
    "run_id": run_id,
    "scores": SCORES,
    "errors": errors,
    "requests": REQUESTS,
}
with open(sys.argv[1], "w") as out:
    json.dump(summary, out, indent=1, default=str)
