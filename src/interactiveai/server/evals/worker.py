"""The evaluation worker: runs in every server process, like the roll-up refresher.

Every ``eval_poll_ms`` it finds new traces for each enabled evaluator and claims due jobs
(``jobs.py``), and runs each claimed job in a small thread pool (``eval_concurrency`` judge calls
at once): check the evaluator's filter on the complete trace, fill the prompt, call the judge,
read its verdict, write the score. A failed attempt (timeout, 429, 5xx, an answer without a
usable score) is tried again after ``eval_retry_ms``, doubled each time (at most an hour), up to
``eval_max_attempts``; a refusal that another attempt cannot change (401, 404, …) fails at once.

The judge's calls are traced, when the evaluator names a project for them, as generations sent
through the ingestion service like any span (priced by the same calculator), in the environment
``interactiveai-evaluation``, which evaluators never pick up.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import httpx
import orjson
from sqlalchemy import Engine, RowMapping, select

from interactiveai.server.clock import now_us
from interactiveai.server.evals import jobs, store
from interactiveai.server.evals.crypto import SecretBox
from interactiveai.server.evals.judge import JudgeAnswer, JudgeError, call_judge, encodable
from interactiveai.server.evals.templates import render
from interactiveai.server.evals.verdicts import ScoreSpec, UnparseableAnswer, instructions, parse
from interactiveai.server.query._db import fetch_all, load_json_list, load_json_object
from interactiveai.server.query.filter_conditions import parse_filter, trace_filter_sql
from interactiveai.server.query.records import Observation, observation_from_row
from interactiveai.server.query.traces import get_trace
from interactiveai.server.settings import Settings
from interactiveai.server.storage.eval_schema import evaluators
from interactiveai.server.storage.payload_sharing import OBSERVATION_COLUMNS
from interactiveai.server.storage.schema import START_TIME_IN_TRACE, observations, observations_of_trace, traces

if TYPE_CHECKING:
    from interactiveai.server.ingest.service import IngestService

logger = logging.getLogger("interactiveai.server.evals")

MAX_RETRY_WAIT_MS = 3_600_000  # the doubling stops at an hour between attempts


class EvalWorker:
    """Finds, claims and runs evaluations in a daemon thread (one per server process)."""

    def __init__(self, engine: Engine, settings: Settings, box: SecretBox, ingest: IngestService | None = None) -> None:
        self._engine = engine
        self._settings = settings
        self._box = box
        self._ingest = ingest
        self._interval = settings.eval_poll_ms / 1000
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._running = 0
        self._lock = threading.Lock()
        self._http = httpx.Client(follow_redirects=False)
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        """Start the worker; called from the app's lifespan, on the server's event loop."""
        if self._interval <= 0:
            return
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:  # started outside the server: the judge's calls are not traced
            self._loop = None
        self._stop.clear()
        self._pool = ThreadPoolExecutor(
            max(1, self._settings.eval_concurrency), thread_name_prefix="interactiveai-judge"
        )
        self._thread = threading.Thread(target=self._run, name="interactiveai-evals", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        if self._pool is not None:
            # calls in flight are not waited for (a judge may take eval_timeout_ms): their jobs'
            # leases run out and another process, or this one restarted, claims them again
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.round()
            except Exception:  # the next round tries again; the jobs table keeps the work
                logger.exception("evaluation round failed")

    def round(self) -> None:
        """Find new traces for every enabled evaluator, then start the due jobs there is room for."""
        now = now_us()
        with self._engine.connect() as conn:
            enabled = conn.execute(
                select(evaluators.c.project_id, evaluators.c.id).where(evaluators.c.enabled.is_(True))
            ).all()
        lag_us = self._settings.eval_scan_lag_ms * 1000
        if enabled:  # a write still open may yet commit traces created since it began
            try:
                lag_us = max(lag_us, jobs.in_flight_us(self._engine) + 100_000)
            except Exception:  # a database that hides its activity: the scan lag alone, as on SQLite
                logger.warning("could not read the database's open transactions", exc_info=True)
        for project_id, evaluator_id in enabled:
            try:  # one evaluator's failure leaves the others' traces and the due jobs to go on
                jobs.discover(self._engine, project_id, evaluator_id, now, lag_us)
            except Exception:
                logger.exception("finding new traces for evaluator %s failed", evaluator_id)
        with self._lock:
            room = max(1, self._settings.eval_concurrency) - self._running
        lease_us = (self._settings.eval_timeout_ms + 60_000) * 1000
        for job in jobs.claim(self._engine, room, now_us(), lease_us, self._settings.eval_max_attempts):
            with self._lock:
                self._running += 1
            assert self._pool is not None
            self._pool.submit(self._run_job, job)

    def _run_job(self, job: jobs.Claimed) -> None:
        try:
            self.run_job(job)
        except Exception as exc:  # a bug or a database error: the attempt counts, the job is retried
            if self._stop.is_set():
                return  # the server is stopping: the lease runs out and the job is claimed again
            logger.exception("evaluation %s failed", job.id)
            self._failed(job, f"internal error: {type(exc).__name__}: {exc}", jobs.Outcome(), retryable=True)
        finally:
            with self._lock:
                self._running -= 1

    def run_job(self, job: jobs.Claimed) -> None:
        """One attempt of one claimed job."""
        evaluator = store.get_evaluator(self._engine, job.project_id, job.evaluator_id)
        trace = get_trace(self._engine, job.project_id, job.trace_id)
        if evaluator is None or trace is None or not self._matches(evaluator, job):
            jobs.drop(self._engine, job)
            return
        observation = None
        if evaluator["target"] == "observation":
            observation = self._observation(job, evaluator["observation_name"], evaluator["observation_type"])
            if observation is None:
                jobs.drop(self._engine, job)  # the trace has no observation of that name and type
                return
        mapping = store.mapping_of(evaluator)
        named: dict[tuple[str | None, str | None], Observation | None] = {}
        for key in sorted({s.named for s in mapping.values() if s.named is not None}, key=str):
            named[key] = self._observation(job, *key)
            if named[key] is None:
                what = " ".join(
                    f"{label} {value!r}" for label, value in zip(("named", "of type"), key, strict=True) if value
                )
                self._failed(
                    job, f"the trace has no observation {what} (a variable reads it)", jobs.Outcome(), retryable=False
                )
                return
        connection = store.get_connection(self._engine, job.project_id, evaluator["connection_id"])
        if connection is None:
            self._failed(job, "the evaluator's connection was deleted", jobs.Outcome(), retryable=False)
            return
        spec = ScoreSpec(
            evaluator["score_name"],
            evaluator["score_data_type"],
            evaluator["score_min"],
            evaluator["score_max"],
            tuple(str(c) for c in load_json_list(evaluator["score_categories"])),
        )
        prompt = render(evaluator["prompt"], mapping, trace, observation, named)
        messages = [{"role": "system", "content": instructions(spec)}, {"role": "user", "content": encodable(prompt)}]
        model = evaluator["model"] or connection["model"]
        started = now_us()
        observation_id = observation.id if observation is not None else None
        try:
            api_key = self._box.decrypt(connection["api_key_encrypted"]) if connection["api_key_encrypted"] else None
            answer = call_judge(
                self._http,
                base_url=connection["base_url"],
                api_key=api_key,
                model=model,
                messages=messages,
                params=load_json_object(connection["params"]),
                timeout_seconds=self._settings.eval_timeout_ms / 1000,
            )
        except (JudgeError, ValueError) as exc:
            retryable = exc.retryable if isinstance(exc, JudgeError) else False
            judge_trace = self._trace_call(evaluator, job, model, messages, None, started, str(exc))
            outcome = jobs.Outcome(model=model, judge_trace_id=judge_trace, observation_id=observation_id)
            self._failed(job, str(exc), outcome, retryable=retryable)
            return
        cost = self._cost(job.project_id, answer, started)
        judge_trace = self._trace_call(evaluator, job, model, messages, answer, started, None)
        outcome = jobs.Outcome(
            model=answer.model,
            latency_ms=answer.latency_ms,
            input_tokens=answer.usage.get("input"),
            output_tokens=answer.usage.get("output"),
            total_tokens=answer.usage.get("total"),
            cost=cost,
            judge_trace_id=judge_trace,
            observation_id=observation_id,
        )
        try:
            verdict = parse(answer.content, spec)
        except UnparseableAnswer as exc:
            self._failed(job, f"unparseable answer: {exc}", outcome, retryable=True)
            return
        score = {
            "id": jobs.score_id(job.evaluator_id, job.trace_id),
            "observation_id": observation_id,
            "name": spec.name,
            "value": verdict.value,
            "string_value": verdict.string_value,
            "data_type": spec.data_type,
            "comment": jobs.storable(verdict.reasoning, 20_000),
            "environment": trace.environment,  # the score reads in the trace's environment's dashboards
            # what wrote it: the evaluator, its job, and the judge's own trace when it is traced
            "metadata": orjson.dumps(
                {"evaluatorId": job.evaluator_id, "evaluatorJobId": job.id, "judgeTraceId": judge_trace}
            ).decode(),
        }
        jobs.finish(self._engine, job, outcome, score, now_us())

    def _failed(self, job: jobs.Claimed, error: str, outcome: jobs.Outcome, *, retryable: bool) -> None:
        retry_at = None
        if retryable and job.attempts < self._settings.eval_max_attempts:
            wait_ms = min(self._settings.eval_retry_ms * 2 ** (job.attempts - 1), MAX_RETRY_WAIT_MS)
            retry_at = now_us() + wait_ms * 1000
        jobs.fail(self._engine, job, error, outcome, retry_at=retry_at, now=now_us())

    def _matches(self, evaluator: RowMapping, job: jobs.Claimed) -> bool:
        conditions = parse_filter(evaluator["filter"], "traces") if evaluator["filter"] != "[]" else []
        query = select(traces.c.id).where(
            traces.c.project_id == job.project_id,
            traces.c.id == job.trace_id,
            traces.c.environment != jobs.EVAL_ENVIRONMENT,
            *trace_filter_sql(job.project_id, conditions),
        )
        with self._engine.connect() as conn:
            return conn.execute(query).first() is not None

    def _observation(self, job: jobs.Claimed, name: str | None, kind: str | None) -> Observation | None:
        """The trace's first observation (by start time) of this name and type: read alone, a
        trace may have many large ones."""
        o = observations.c
        query = select(*OBSERVATION_COLUMNS).where(observations_of_trace(job.project_id, job.trace_id))
        if name is not None:
            query = query.where(o.name == name)
        if kind is not None:
            query = query.where(o.type == kind)
        found = fetch_all(self._engine, query.order_by(START_TIME_IN_TRACE, o.id).limit(1), observation_from_row)
        return found[0] if found else None

    def _cost(self, project_id: str, answer: JudgeAnswer, started_us: int) -> float | None:
        if self._ingest is None or not answer.usage:
            return None
        usage: dict[str, int | float] = dict(answer.usage)
        return self._ingest.pricing.cost(project_id, answer.model, usage, None, started_us).total

    def _trace_call(
        self,
        evaluator: RowMapping,
        job: jobs.Claimed,
        model: str,
        messages: list[dict[str, str]],
        answer: JudgeAnswer | None,
        started_us: int,
        error: str | None,
    ) -> str | None:
        """Send the judge's call as a generation to the evaluator's trace project; its trace id."""
        project_id = evaluator["trace_project_id"]
        if project_id is None or self._ingest is None:
            return None
        trace_id = uuid.uuid4().hex
        body = judge_span(trace_id, evaluator, job, model, messages, answer, started_us, now_us(), error)
        if self._loop is None:
            return None
        try:  # on the server's event loop, exactly as an OTLP/JSON export posted to it
            ingested = asyncio.run_coroutine_threadsafe(self._ingest.ingest(project_id, body, "", False), self._loop)
            ingested.result(timeout=30)
        except Exception:  # tracing the judge never fails the evaluation
            logger.warning("could not trace the judge's call of evaluation %s", job.id, exc_info=True)
            return None
        return trace_id


def judge_span(
    trace_id: str,
    evaluator: RowMapping,
    job: jobs.Claimed,
    model: str,
    messages: list[dict[str, str]],
    answer: JudgeAnswer | None,
    start_us: int,
    end_us: int,
    error: str | None,
) -> bytes:
    """An OTLP/JSON export of one generation: the judge's call."""

    def attr(key: str, value: Any) -> dict[str, Any]:
        text = value if isinstance(value, str) else orjson.dumps(value).decode()
        return {"key": key, "value": {"stringValue": text}}

    attributes = [
        attr("interactiveai.observation.type", "generation"),
        attr("interactiveai.observation.model.name", model),
        attr("interactiveai.observation.input", messages),
        attr("interactiveai.environment", jobs.EVAL_ENVIRONMENT),
        attr("interactiveai.trace.name", f"evaluator: {evaluator['name']}"),
        attr("interactiveai.trace.metadata.evaluator_id", job.evaluator_id),
        attr("interactiveai.trace.metadata.evaluated_trace_id", job.trace_id),
        attr("interactiveai.trace.metadata.job_id", job.id),
    ]
    if answer is not None:
        attributes.append(attr("interactiveai.observation.output", answer.content))
        if answer.usage:
            attributes.append(attr("interactiveai.observation.usage_details", answer.usage))
    if error is not None:
        attributes += [
            attr("interactiveai.observation.level", "ERROR"),
            attr("interactiveai.observation.status_message", error),
        ]
    span = {
        "traceId": trace_id,
        "spanId": uuid.uuid4().hex[:16],
        "name": "judge",
        "kind": 3,
        "startTimeUnixNano": str(start_us * 1000),
        "endTimeUnixNano": str(max(end_us, start_us) * 1000),
        "attributes": attributes,
    }
    resource = {"attributes": [attr("service.name", "interactiveai-evaluator")]}
    export = {
        "resourceSpans": [
            {"resource": resource, "scopeSpans": [{"scope": {"name": "interactiveai.evals"}, "spans": [span]}]}
        ]
    }
    return orjson.dumps(export)
