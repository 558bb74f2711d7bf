"""Every trace a live evaluator takes is judged once when complete, whatever its shape: only
trace-level input and output (the batch ingestion API, no observation at all), a first
observation long after the trace row, only events; spans arriving after the judgement do not
bring a second one. Both engines."""

from __future__ import annotations

import os
import time
from typing import Any

import pytest
from sqlalchemy import insert

from interactiveai.server.clock import now_us
from interactiveai.server.storage.schema import traces
from tests.conftest import Project
from tests.server.evals.conftest import create_evaluator, eval_scores, jobs_of, send_span, wait_for
from tests.server.evals.fake_judge import FakeJudge

T = "2026-01-31T12:00:00.000Z"


def _ids() -> tuple[str, str]:
    return os.urandom(16).hex(), os.urandom(8).hex()


def batch(client: Any, project: Project, *events: tuple[str, dict[str, Any]]) -> None:
    """Events of the batch ingestion API (the reference SDK 2.x's path)."""
    body = {
        "batch": [{"id": os.urandom(8).hex(), "type": kind, "timestamp": T, "body": event} for kind, event in events],
        "metadata": {"sdk_name": "python"},
    }
    response = client.post("/api/public/ingestion", json=body, headers=project.headers)
    assert response.status_code == 207 and response.json()["errors"] == [], response.text


def test_a_trace_without_observations_is_judged_from_its_own_input_and_output(
    fast_client: Any, project: Project, judge: FakeJudge
) -> None:
    evaluator = create_evaluator(fast_client, project, judge)
    trace_id = os.urandom(16).hex()
    batch(
        fast_client, project, ("trace-create", {"id": trace_id, "name": "qa", "input": "Capital?", "output": "Paris"})
    )
    [job] = wait_for(lambda: jobs_of(fast_client, project, evaluator["id"], "done"), what="the evaluation")
    assert job["traceId"] == trace_id and job["observationId"] is None
    assert judge.prompts() == ["Question: Capital?\nAnswer: Paris\nRate the answer."]
    [score] = eval_scores(fast_client, project, trace_id)
    assert score["id"] == job["scoreId"] and score["observationId"] is None


def test_a_first_observation_arriving_long_after_its_trace_row_is_waited_for(
    fast_client: Any, project: Project, judge: FakeJudge
) -> None:
    evaluator = create_evaluator(
        fast_client, project, judge, target="observation", observationType="GENERATION", delaySeconds=1.0, filter=[]
    )
    trace_id, generation = os.urandom(16).hex(), os.urandom(8).hex()
    batch(fast_client, project, ("trace-create", {"id": trace_id, "name": "chat"}))
    # the scan has passed the trace row (its job waits) before the generation exists
    wait_for(lambda: jobs_of(fast_client, project, evaluator["id"], "pending"), what="the job to be found")
    batch(
        fast_client,
        project,
        ("generation-create", {"id": generation, "traceId": trace_id, "name": "llm", "input": "hi", "output": "hello"}),
    )
    [job] = wait_for(lambda: jobs_of(fast_client, project, evaluator["id"], "done"), what="the evaluation")
    assert job["observationId"] == generation
    assert judge.prompts() == ["Question: hi\nAnswer: hello\nRate the answer."]


def test_a_trace_of_events_only_is_judged(fast_client: Any, project: Project, judge: FakeJudge) -> None:
    evaluator = create_evaluator(fast_client, project, judge, filter=[])
    otlp_trace = _ids()
    send_span(fast_client, project, *otlp_trace, span_type="event", input="ping", output="pong")
    batch_trace = os.urandom(16).hex()
    batch(fast_client, project, ("event-create", {"id": os.urandom(8).hex(), "traceId": batch_trace, "input": "x"}))
    done = wait_for(
        lambda: len(jobs := jobs_of(fast_client, project, evaluator["id"], "done")) == 2 and jobs,
        what="both evaluations",
    )
    assert {j["traceId"] for j in done} == {otlp_trace[0], batch_trace}
    assert len(eval_scores(fast_client, project, otlp_trace[0])) == len(eval_scores(fast_client, project, batch_trace))


def test_spans_arriving_after_the_judgement_do_not_bring_a_second_one(
    fast_client: Any, project: Project, judge: FakeJudge
) -> None:
    evaluator = create_evaluator(fast_client, project, judge, filter=[])
    trace_id, root = _ids()
    send_span(fast_client, project, trace_id, root, input="first", output="answer")
    wait_for(lambda: jobs_of(fast_client, project, evaluator["id"], "done"), what="the evaluation")
    send_span(fast_client, project, trace_id, os.urandom(8).hex(), parent=root, name="late", output="more")
    batch(fast_client, project, ("trace-create", {"id": trace_id, "output": "a late answer"}))
    later = _ids()
    send_span(fast_client, project, *later)  # its evaluation proves that rounds went by
    wait_for(lambda: len(jobs_of(fast_client, project, evaluator["id"], "done")) == 2, what="the later evaluation")
    assert sorted(j["traceId"] for j in jobs_of(fast_client, project, evaluator["id"])) == sorted([trace_id, later[0]])
    assert len(eval_scores(fast_client, project, trace_id)) == 1
    assert len(judge.requests) == 2


def test_a_trace_committed_late_by_a_slow_write_is_not_passed_over(
    dialect: str, engine: Any, fast_client: Any, project: Project, judge: FakeJudge
) -> None:
    if dialect != "postgresql":
        pytest.skip("SQLite has one writer, whose transactions are short")
    evaluator = create_evaluator(fast_client, project, judge, filter=[])
    slow = os.urandom(16).hex()
    now = now_us()
    with engine.connect() as conn, conn.begin():  # a replica's write, waiting on locks past the scan lag
        conn.execute(
            insert(traces).values(
                project_id=project.id, id=slow, name="qa", input='"held up"', timestamp_us=now,
                created_at_us=now, updated_at_us=now,
            )
        )  # fmt: skip
        quick = _ids()
        send_span(fast_client, project, *quick)  # created later, committed first
        time.sleep(1.0)  # rounds go by (the tests' scan lag is 0.3 s)
    done = wait_for(
        lambda: len(found := jobs_of(fast_client, project, evaluator["id"], "done")) == 2 and found,
        what="both evaluations",
    )
    assert {j["traceId"] for j in done} == {slow, quick[0]}
