"""Fuzz the batch ingestion API (``POST /api/public/ingestion``) with hostile events, then read back.

Schemathesis (test_rest_api.py) checks the envelope, whose events the document leaves free; here
Hypothesis builds batches of events of every type whose fields take valid, borderline and hostile
values (ids that repeat across events and traces so that updates meet stored rows, NUL, lone
high code points, deep JSON, out-of-range times and numbers, wrong types). Every batch must be
answered 207 with exactly one entry per event; a 5xx or an exception is a failure. Then the
read-back sweep reads every stored row through every endpoint and UI page, and another project's
rows must be unchanged.
"""

from __future__ import annotations

import time
import traceback
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from interactiveai.server.ingest.legacy_events import EVENT_TYPES
from tests.conftest import Project
from tests.fuzz.conftest import fuzz_examples, fuzz_timeout, seed_project
from tests.support.read_back import project_rows, read_back

pytestmark = [pytest.mark.fuzz, pytest.mark.slow]

URL = "/api/public/ingestion"

EXAMPLES_PER_BUDGET = 4

_DEEP: Any = "bottom"
for _ in range(80):
    _DEEP = {"d": [_DEEP]}

good_ids = st.sampled_from(["a", "b", "c", "trace-1", "0" * 64, "é\u0301", "\n", " ", "?#%"])
ids = st.one_of(good_ids, st.sampled_from(["x" * 65, "a/b", "..", "id\x00", ""]))
texts = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["", "\x00", "n" * 3_000, "\U0010ffff" * 300, "<script>alert(1)</script>", "a\nb"]),
)
good_times = st.sampled_from(
    [
        "2026-01-31T12:00:00Z",
        "2026-01-31T12:00:00.5+05:30",
        "2026-01-31T11:59:59.999999Z",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "2026-12-31T23:59:60Z",
    ]
)
times = st.one_of(good_times, st.sampled_from(["9999-12-31T23:59:59-23:59", "2026-02-30T00:00:00Z", "yesterday", ""]))
counts = st.one_of(st.integers(min_value=0, max_value=10**6), st.floats(min_value=0, max_value=1e6))
numbers = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["12", "-1", "x", None, True]),
)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), numbers, texts),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(texts, inner, max_size=3)),
    max_leaves=8,
) | st.just(_DEEP)
usage_keys = st.sampled_from(["input", "output", "total", "prompt_tokens", "completion_tokens", "input_cached_tokens"])
usage_maps = st.dictionaries(usage_keys, counts, max_size=4)

# Fields with values of the kind each takes (hostile within it: long, NUL, extreme but valid times).
plausible: dict[str, st.SearchStrategy[Any]] = {
    "id": good_ids,
    "traceId": good_ids,
    "parentObservationId": good_ids,
    "name": texts,
    "userId": texts,
    "sessionId": texts,
    "release": texts,
    "version": st.one_of(texts, st.integers()),
    "environment": st.sampled_from(["production", "LANGFUSE", "a" * 41, "Dev"]),
    "tags": st.lists(texts, max_size=5),
    "metadata": json_values,
    "input": json_values,
    "output": json_values,
    "public": st.booleans(),
    "timestamp": good_times,
    "startTime": good_times,
    "endTime": good_times,
    "completionStartTime": good_times,
    "level": st.sampled_from(["DEBUG", "DEFAULT", "WARNING", "ERROR", "error"]),
    "statusMessage": texts,
    "model": st.sampled_from(["gpt-4o-mini", "claude-3-5-sonnet", "m" * 2_000]),
    "modelParameters": st.dictionaries(texts, json_values, max_size=3),
    "usage": usage_maps,
    "usageDetails": usage_maps,
    "costDetails": st.dictionaries(usage_keys, counts, max_size=3),
    "promptName": texts,
    "promptVersion": st.integers(min_value=0, max_value=10**6),
    "value": st.one_of(st.floats(min_value=-1e6, max_value=1e6), st.sampled_from([0, 1, "good", "fine"])),
    "dataType": st.sampled_from(["NUMERIC", "BOOLEAN", "CATEGORICAL", "TEXT"]),
    "observationId": good_ids,
    "datasetRunId": good_ids,
    "comment": texts,
    "log": json_values,
}
# Any field, any value: wrong types, bad ids, times out of range.
hostile: dict[str, st.SearchStrategy[Any]] = {
    **{name: st.one_of(strategy, json_values) for name, strategy in plausible.items()},
    **{name: ids for name in ("id", "traceId", "parentObservationId", "observationId")},
    **{name: times for name in ("timestamp", "startTime", "endTime", "completionStartTime")},
    "type": st.sampled_from(["GENERATION", "SPAN", "EVENT", "AGENT", None]),
}
plausible["type"] = st.sampled_from(["GENERATION", "SPAN", "EVENT"])


def _events(
    event_ids: st.SearchStrategy[Any], body: st.SearchStrategy[Any], event_times: st.SearchStrategy[Any]
) -> st.SearchStrategy[Any]:
    return st.fixed_dictionaries(
        {"id": event_ids, "type": st.sampled_from(EVENT_TYPES), "body": body},
        optional={"timestamp": event_times, "metadata": json_values},
    )


_SCORE_NEEDS = ("name", "value", "traceId")
plausible_bodies = st.fixed_dictionaries(
    {name: plausible[name] for name in ("id", *_SCORE_NEEDS)},
    optional={name: strategy for name, strategy in plausible.items() if name not in ("id", *_SCORE_NEEDS)},
)
_kinds = (
    _events(st.one_of(good_ids, st.text(min_size=1, max_size=20)), plausible_bodies, good_times),
    _events(st.one_of(good_ids, texts), st.fixed_dictionaries({}, optional=hostile), times),
    json_values,  # not an event at all
)
# mostly plausible events (so that they are stored and meet each other), some hostile ones, a few non-events
events = st.sampled_from([0, 0, 0, 0, 1, 1, 2]).flatmap(_kinds.__getitem__)
batches = st.lists(events, max_size=12)


def _failure(kind: str, batch: list[Any], detail: str) -> str:
    return f"{kind}: {detail[:1500]}\n    batch: {str(batch)[:1500]}"


@pytest.mark.timeout(fuzz_timeout(300))
def test_batch_ingestion_fuzz(
    client: Any, engine: Any, project: Project, other_project: Project, ui_member: Any
) -> None:
    seed_project(client, other_project, "b")
    other_before = project_rows(engine, other_project.id)
    failures: dict[str, str] = {}
    counts = {"batches": 0, "events": 0, "refused": 0}

    @settings(
        max_examples=fuzz_examples() * EXAMPLES_PER_BUDGET,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],  # failures are collected, never raised: nothing to shrink
        print_blob=False,
    )
    @given(batch=batches)
    def post(batch: list[Any]) -> None:
        counts["batches"] += 1
        counts["events"] += len(batch)
        try:
            response = client.post(URL, json={"batch": batch}, headers=project.headers)
        except Exception:  # the in-process client re-raises what the server did not handle
            text = traceback.format_exc()
            failures.setdefault(text.strip().splitlines()[-1][:200], _failure("exception", batch, text[-2000:]))
            return
        if response.status_code != 207:
            failures.setdefault(str(response.status_code), _failure(str(response.status_code), batch, response.text))
            return
        answer = response.json()
        entries = len(answer["successes"]) + len(answer["errors"])
        counts["refused"] += len(answer["errors"])
        if entries != len(batch) or any(e["status"] != 400 for e in answer["errors"]):
            failures.setdefault("entries", _failure("entries", batch, response.text))

    started = time.perf_counter()
    post()
    seconds = time.perf_counter() - started
    sweep = read_back(client, engine, project.id, project.headers, ui_member)
    other_after = project_rows(engine, other_project.id)
    changed = sorted(table for table in other_before if other_before[table] != other_after.get(table))
    print(f"batch fuzz: {counts} in {seconds:.1f}s; sweep {sweep.requests} requests in {sweep.seconds:.1f}s")
    if failures or sweep.problems or changed:
        sections = [
            f"{len(failures)} distinct failure(s):\n" + "\n".join(failures.values()),
            sweep.report(),
            f"isolation: tables of the other project changed: {changed}",
        ]
        pytest.fail("\n\n".join(sections), pytrace=False)
