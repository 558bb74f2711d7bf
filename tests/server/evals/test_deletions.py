"""Deleting what an evaluation depends on while it is under way: the trace (by request or by
retention), the evaluator, its connection. No job is left stuck, no score is written for what
is gone, and the worker goes on. Both engines."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from interactiveai.server import retention
from interactiveai.server.clock import now_us
from interactiveai.server.evals import jobs
from interactiveai.server.storage.eval_schema import evaluator_jobs
from interactiveai.server.storage.schema import scores
from tests.conftest import Project
from tests.server.evals.conftest import create_evaluator, eval_scores, jobs_of, make_app, send_span, wait_for
from tests.server.evals.fake_judge import FakeJudge

LATER = 3_600_000_000  # "now" an hour ahead: every trace is past the scan lag and quiet


def _ids() -> tuple[str, str]:
    return os.urandom(16).hex(), os.urandom(8).hex()


@pytest.fixture
def idle_client(engine: Any, tmp_path: Path) -> Any:
    """An app without a running evaluation worker: the test moves the jobs itself."""
    with TestClient(make_app(engine, tmp_path, eval_poll_ms=0)) as client:
        yield client


def _claimed(engine: Any, project: Project, evaluator_id: str) -> jobs.Claimed:
    jobs.discover(engine, project.id, evaluator_id, now_us() + LATER, 0)
    [job] = jobs.claim(engine, 10, now_us() + LATER, 60_000_000)
    return job


def _score(job: jobs.Claimed) -> dict[str, Any]:
    return {"id": jobs.score_id(job.evaluator_id, job.trace_id), "name": "s", "value": 1.0, "data_type": "NUMERIC"}


def _count(engine: Any, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


@pytest.mark.parametrize("how", ["request", "retention"])
def test_a_trace_deleted_while_judged_gets_no_score_and_leaves_no_job(
    engine: Any, idle_client: Any, project: Project, judge: FakeJudge, how: str
) -> None:
    evaluator = create_evaluator(idle_client, project, judge, filter=[])
    trace_id, span = _ids()
    send_span(idle_client, project, trace_id, span)
    job = _claimed(engine, project, evaluator["id"])  # the judge is being asked…
    if how == "request":
        assert idle_client.delete(f"/api/public/traces/{trace_id}", headers=project.headers).status_code == 200
    else:
        assert retention.delete_traces_before(engine, project.id, now_us() + LATER) == 1
    assert not jobs.finish(engine, job, jobs.Outcome(), _score(job), now_us())  # …and answers too late
    assert _count(engine, scores) == 0 and _count(engine, evaluator_jobs) == 0


def test_an_evaluator_deleted_while_judging_writes_no_score(
    engine: Any, idle_client: Any, project: Project, judge: FakeJudge
) -> None:
    evaluator = create_evaluator(idle_client, project, judge, filter=[])
    send_span(idle_client, project, *_ids())
    job = _claimed(engine, project, evaluator["id"])
    path = f"/api/public/evaluators/{evaluator['id']}"
    assert idle_client.delete(path, headers=project.headers).status_code == 200
    assert not jobs.finish(engine, job, jobs.Outcome(), _score(job), now_us())
    jobs.fail(engine, job, "late", jobs.Outcome(), retry_at=None, now=now_us())  # a no-op as well
    assert _count(engine, scores) == 0 and _count(engine, evaluator_jobs) == 0


def test_a_connection_in_use_cannot_be_deleted(idle_client: Any, project: Project, judge: FakeJudge) -> None:
    evaluator = create_evaluator(idle_client, project, judge)
    path = f"/api/public/llm-connections/{evaluator['connectionId']}"
    refused = idle_client.delete(path, headers=project.headers)
    assert refused.status_code == 409 and evaluator["name"] in refused.json()["message"]


def test_the_worker_goes_on_after_a_waiting_trace_is_deleted(
    fast_client: Any, project: Project, judge: FakeJudge
) -> None:
    evaluator = create_evaluator(fast_client, project, judge, filter=[], delaySeconds=1.0)
    gone = _ids()
    send_span(fast_client, project, *gone)
    wait_for(lambda: jobs_of(fast_client, project, evaluator["id"], "pending"), what="the job to be found")
    assert fast_client.delete(f"/api/public/traces/{gone[0]}", headers=project.headers).status_code == 200
    assert jobs_of(fast_client, project, evaluator["id"]) == []
    kept = _ids()
    send_span(fast_client, project, *kept)
    [job] = wait_for(lambda: jobs_of(fast_client, project, evaluator["id"], "done"), what="the later evaluation")
    assert job["traceId"] == kept[0] and jobs_of(fast_client, project, evaluator["id"]) == [job]
    assert len(eval_scores(fast_client, project, kept[0])) == 1 and len(judge.requests) == 1
