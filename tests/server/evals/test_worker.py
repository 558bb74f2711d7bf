"""The evaluation worker end to end: traces sent through ingestion, a fake judge on loopback,
scores and job states read back through the REST API, on both engines."""

from __future__ import annotations

import os
from typing import Any

import pytest

from interactiveai.server.evals.jobs import EVAL_ENVIRONMENT, sampled
from tests.conftest import Project
from tests.server.evals.conftest import create_evaluator, eval_scores, jobs_of, send_span, wait_for
from tests.server.evals.fake_judge import FakeJudge


def _ids() -> tuple[str, str]:
    return os.urandom(16).hex(), os.urandom(8).hex()


def test_a_matching_trace_gets_exactly_one_eval_score_with_the_reasoning(
    fast_client: Any, project: Project, judge: FakeJudge
) -> None:
    evaluator = create_evaluator(fast_client, project, judge)
    matching, other = _ids(), _ids()
    send_span(fast_client, project, *matching, name="qa", input="What is 2+2?", output="4")
    send_span(fast_client, project, *other, name="chit-chat")

    job = wait_for(lambda: jobs_of(fast_client, project, evaluator["id"], "done"), what="a done job")[0]
    assert job["traceId"] == matching[0]
    assert job["attempts"] == 1 and job["error"] is None
    assert job["inputTokens"] == 100 and job["outputTokens"] == 20 and job["totalTokens"] == 120
    assert job["cost"] is not None and job["cost"] > 0  # priced like any generation of that model
    assert job["latencyMs"] is not None
    [score] = eval_scores(fast_client, project, matching[0])
    assert score["id"] == job["scoreId"]
    assert (score["name"], score["value"], score["dataType"]) == ("helpfulness", 0.8, "NUMERIC")
    assert score["comment"] == "Polite and correct."
    # the prompt was filled from the trace; the key went in the Authorization header
    assert judge.prompts() == ["Question: What is 2+2?\nAnswer: 4\nRate the answer."]
    assert judge.headers[0]["authorization"] == "Bearer sk-judge-secret-1234"
    assert judge.requests[0]["response_format"] == {"type": "json_object"}

    # the other trace is not evaluated, and nothing is evaluated twice, however many rounds pass
    wait_for(lambda: not jobs_of(fast_client, project, evaluator["id"], "pending"), what="no pending job")
    send_span(fast_client, project, *_ids(), name="qa")  # a later trace: its evaluation proves rounds went by
    wait_for(lambda: len(jobs_of(fast_client, project, evaluator["id"], "done")) == 2, what="the second job")
    assert eval_scores(fast_client, project, other[0]) == []
    assert len(eval_scores(fast_client, project, matching[0])) == 1
    assert len(judge.requests) == 2


def test_unsampled_traces_and_traces_before_the_evaluator_are_not_evaluated(
    fast_client: Any, project: Project, judge: FakeJudge
) -> None:
    earlier = _ids()
    send_span(fast_client, project, *earlier)
    never = create_evaluator(fast_client, project, judge, samplingRate=0.0)
    always = create_evaluator(fast_client, project, judge, samplingRate=1.0)
    trace = _ids()
    send_span(fast_client, project, *trace)
    wait_for(lambda: jobs_of(fast_client, project, always["id"], "done"), what="the sampled evaluation")
    assert jobs_of(fast_client, project, never["id"]) == []
    assert [j["traceId"] for j in jobs_of(fast_client, project, always["id"])] == [trace[0]]
    assert len(eval_scores(fast_client, project, trace[0])) == 1
    assert eval_scores(fast_client, project, earlier[0]) == []


def test_sampling_is_decided_by_the_trace_id() -> None:
    ids = [f"{n:032x}" for n in range(2000)]
    taken = [i for i in ids if sampled(i, 0.25)]
    assert 400 < len(taken) < 600
    assert taken == [i for i in ids if sampled(i, 0.25)]  # the same in every replica
    assert set(taken) <= {i for i in ids if sampled(i, 0.5)}  # a higher rate takes a superset


def test_a_trace_still_receiving_spans_is_evaluated_after_the_delay(
    fast_client: Any, project: Project, judge: FakeJudge
) -> None:
    evaluator = create_evaluator(fast_client, project, judge, delaySeconds=1.5)
    trace_id, root = _ids()
    _, child = _ids()
    send_span(fast_client, project, trace_id, child, parent=root, name="retrieve", input="docs", output="chunk")
    wait_for(lambda: jobs_of(fast_client, project, evaluator["id"], "pending"), what="the job to be found")
    # the root span (name, input, output of the trace) arrives late: the trace was not complete yet
    send_span(fast_client, project, trace_id, root, name="qa", input="late question", output="late answer")
    wait_for(lambda: jobs_of(fast_client, project, evaluator["id"], "done"), what="the evaluation")
    assert judge.prompts() == ["Question: late question\nAnswer: late answer\nRate the answer."]
    assert len(eval_scores(fast_client, project, trace_id)) == 1


@pytest.mark.parametrize(
    ("behaviour", "error"),
    [("500", "answered 500"), ("slow", "did not answer within"), ("garbage", "unparseable answer")],
)
def test_a_failing_judge_is_retried_then_the_job_fails_with_the_error(
    fast_client: Any, project: Project, judge: FakeJudge, behaviour: str, error: str
) -> None:
    judge.behaviour = behaviour
    evaluator = create_evaluator(fast_client, project, judge)
    trace = _ids()
    send_span(fast_client, project, *trace)
    [job] = wait_for(lambda: jobs_of(fast_client, project, evaluator["id"], "failed"), what="a failed job")
    assert error in job["error"]
    assert job["attempts"] == 2  # eval_max_attempts in these tests
    assert len(judge.requests) == 2
    assert eval_scores(fast_client, project, trace[0]) == []


def test_a_refusal_no_retry_can_change_fails_at_once(fast_client: Any, project: Project, judge: FakeJudge) -> None:
    judge.behaviour = "401"
    evaluator = create_evaluator(fast_client, project, judge)
    send_span(fast_client, project, *_ids())
    [job] = wait_for(lambda: jobs_of(fast_client, project, evaluator["id"], "failed"), what="a failed job")
    assert job["attempts"] == 1 and "answered 401" in job["error"]


def test_the_judges_calls_are_traced_in_the_chosen_project_and_never_evaluated(
    fast_client: Any, project: Project, judge: FakeJudge
) -> None:
    evaluator = create_evaluator(fast_client, project, judge, traceProjectId=project.id, filter=[])
    trace = _ids()
    send_span(fast_client, project, *trace)
    [job] = wait_for(lambda: jobs_of(fast_client, project, evaluator["id"], "done"), what="the evaluation")
    judge_trace = wait_for(
        lambda: (
            (r := fast_client.get(f"/api/public/traces/{job['judgeTraceId']}", headers=project.headers)).status_code
            == 200
            and r.json()
        ),
        what="the judge's trace",
    )
    assert judge_trace["environment"] == EVAL_ENVIRONMENT
    [generation] = judge_trace["observations"]
    assert generation["type"] == "GENERATION" and generation["model"] == "gpt-4o-mini"
    assert generation["usageDetails"]["input"] == 100
    assert generation["calculatedTotalCost"] == pytest.approx(job["cost"])
    # rounds go by (a later trace is evaluated): the judge's own trace never gets a job
    later = _ids()
    send_span(fast_client, project, *later)
    wait_for(lambda: len(jobs_of(fast_client, project, evaluator["id"], "done")) == 2, what="the later evaluation")
    assert {j["traceId"] for j in jobs_of(fast_client, project, evaluator["id"])} == {trace[0], later[0]}


def test_an_observation_evaluator_reads_and_scores_the_chosen_observation(
    fast_client: Any, project: Project, judge: FakeJudge
) -> None:
    judge.verdict = {"score": "polite", "reasoning": "Says please."}
    evaluator = create_evaluator(
        fast_client,
        project,
        judge,
        target="observation",
        observationType="GENERATION",
        prompt="Reply: {{output}} (asked in {{where}})",
        variableMapping={"where": {"source": "trace", "field": "metadata", "key": "region"}},
        score={"name": "tone", "dataType": "CATEGORICAL", "categories": ["polite", "rude"]},
        filter=[],
    )
    trace_id, root = _ids()
    _, call = _ids()
    send_span(
        fast_client, project, trace_id, call, parent=root, name="llm", output="Yes, please.", span_type="generation"
    )
    send_span(fast_client, project, trace_id, root, name="agent", output="done")
    [job] = wait_for(lambda: jobs_of(fast_client, project, evaluator["id"], "done"), what="the evaluation")
    assert job["observationId"] == call
    [score] = eval_scores(fast_client, project, trace_id)
    assert (score["observationId"], score["stringValue"], score["comment"]) == (call, "polite", "Says please.")
    assert judge.prompts() == ["Reply: Yes, please. (asked in )"]


def test_a_paused_evaluator_does_not_evaluate_the_traces_of_its_pause(
    fast_client: Any, project: Project, judge: FakeJudge
) -> None:
    evaluator = create_evaluator(fast_client, project, judge, enabled=False)
    paused = _ids()
    send_span(fast_client, project, *paused)
    path = f"/api/public/evaluators/{evaluator['id']}"
    assert fast_client.patch(path, json={"enabled": True}, headers=project.headers).status_code == 200
    later = _ids()
    send_span(fast_client, project, *later)
    [job] = wait_for(lambda: jobs_of(fast_client, project, evaluator["id"], "done"), what="the evaluation")
    assert job["traceId"] == later[0]
    assert [j["traceId"] for j in jobs_of(fast_client, project, evaluator["id"])] == [later[0]]
    assert eval_scores(fast_client, project, paused[0]) == []


def test_a_traces_evaluations_are_listed_by_trace_and_its_scores_name_them(
    fast_client: Any, project: Project, judge: FakeJudge
) -> None:
    first = create_evaluator(fast_client, project, judge, filter=[], traceProjectId=project.id)
    second = create_evaluator(fast_client, project, judge, filter=[])
    trace, other = _ids(), _ids()
    send_span(fast_client, project, *trace)
    send_span(fast_client, project, *other)
    wait_for(lambda: len(jobs_of(fast_client, project, second["id"], "done")) == 2, what="the evaluations")
    wait_for(lambda: len(jobs_of(fast_client, project, first["id"], "done")) == 2, what="the evaluations")
    listed = fast_client.get("/api/public/evaluator-jobs", params={"traceId": trace[0]}, headers=project.headers)
    jobs = {j["evaluatorId"]: j for j in listed.json()["data"]}
    assert set(jobs) == {first["id"], second["id"]} and {j["traceId"] for j in jobs.values()} == {trace[0]}
    for score in eval_scores(fast_client, project, trace[0]):
        job = next(j for j in jobs.values() if j["scoreId"] == score["id"])
        assert score["metadata"] == {
            "evaluatorId": job["evaluatorId"],
            "evaluatorJobId": job["id"],
            "judgeTraceId": job["judgeTraceId"],
        }
    assert jobs[first["id"]]["judgeTraceId"] is not None and jobs[second["id"]]["judgeTraceId"] is None


def test_the_judges_calls_can_be_traced_in_another_project_the_user_may_choose(
    engine: Any, fast_client: Any, project: Project, other_project: Project, judge: FakeJudge
) -> None:
    from interactiveai.server.evals import store
    from interactiveai.server.evals.models import EvaluatorCreate, EvaluatorUpdate

    connection = create_evaluator(fast_client, project, judge, enabled=False)["connectionId"]
    body = {
        "name": "elsewhere",
        "connectionId": connection,
        "prompt": "{{output}}",
        "score": {"name": "s", "dataType": "NUMERIC"},
    }
    chosen = EvaluatorCreate.model_validate({**body, "traceProjectId": other_project.id})
    with pytest.raises(ValueError, match="traceProjectId"):  # an API key's own project only
        store.create_evaluator(engine, project.id, chosen)
    created = store.create_evaluator(engine, project.id, chosen, trace_projects=[other_project.id])
    # a later change through the API keeps the project chosen in the UI
    path = f"/api/public/evaluators/{created['id']}"
    assert fast_client.patch(path, json={"samplingRate": 1}, headers=project.headers).status_code == 200
    assert store.update_evaluator(engine, project.id, created["id"], EvaluatorUpdate(delaySeconds=0.2)) is not None
    trace = _ids()
    send_span(fast_client, project, *trace)
    [job] = wait_for(lambda: jobs_of(fast_client, project, created["id"], "done"), what="the evaluation")
    judged = fast_client.get(f"/api/public/traces/{job['judgeTraceId']}", headers=other_project.headers)
    assert judged.status_code == 200 and judged.json()["environment"] == EVAL_ENVIRONMENT
    assert fast_client.get(f"/api/public/traces/{job['judgeTraceId']}", headers=project.headers).status_code == 404
