"""Experiments: run a task over a dataset (or local data), score each output, summarise the run.

Each item runs inside its own trace (a root span ``experiment-item-run`` with the item's input and
the task's output); items of a stored dataset are linked to the dataset run, so runs can be
compared item by item. Item evaluators score the item's trace, run evaluators score the run.
Sync and async tasks and evaluators are accepted; a failing item or evaluator is logged and
recorded in the result, never stopping the run.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import logging
import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from interactiveai.sdk.datasets import DatasetItem, item_field, link_run_item
from interactiveai.sdk.experiment_summary import format_result

if TYPE_CHECKING:
    from interactiveai.sdk.client import InteractiveAI

logger = logging.getLogger("interactiveai")

ITEM_SPAN_NAME = "experiment-item-run"


@dataclass
class Evaluation:
    """One score from an evaluator: ``value`` is a number, a bool or a category (str)."""

    name: str
    value: float | int | bool | str
    comment: str | None = None
    metadata: dict[str, Any] | None = None
    data_type: str | None = None  # NUMERIC, BOOLEAN or CATEGORICAL; inferred from the value if None
    config_id: str | None = None


class TaskFunction(Protocol):
    def __call__(self, *, item: Any, **kwargs: Any) -> Any: ...


class EvaluatorFunction(Protocol):
    def __call__(
        self, *, input: Any, output: Any, expected_output: Any, metadata: Any, **kwargs: Any
    ) -> Evaluation | list[Evaluation] | Awaitable[Evaluation | list[Evaluation]]: ...


class RunEvaluatorFunction(Protocol):
    def __call__(
        self, *, item_results: list[ExperimentItemResult], **kwargs: Any
    ) -> Evaluation | list[Evaluation] | Awaitable[Evaluation | list[Evaluation]]: ...


@dataclass
class ExperimentItemResult:
    """What one item gave: the task's output (None if it failed), its evaluations and its trace."""

    item: Any
    output: Any
    evaluations: list[Evaluation]
    trace_id: str | None
    dataset_run_id: str | None
    error: str | None = None


@dataclass
class ExperimentResult:
    """A finished run: every item's result and the run-level evaluations. ``print(result)`` summarises."""

    name: str
    run_name: str
    description: str | None
    item_results: list[ExperimentItemResult]
    run_evaluations: list[Evaluation] = field(default_factory=list)
    dataset_run_id: str | None = None
    dataset_run_url: str | None = None

    @property
    def failed_items(self) -> list[ExperimentItemResult]:
        return [r for r in self.item_results if r.error is not None]

    def format(self, *, include_item_results: bool = False) -> str:
        """A readable summary: items, failures, the average (or distribution) of each score, the link."""
        return format_result(self, include_item_results=include_item_results)

    def __str__(self) -> str:
        return self.format()


def default_run_name(name: str) -> str:
    return f"{name} - {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}"


async def _call(func: Callable[..., Any], **kwargs: Any) -> Any:
    """Await an async function; run a sync one in a worker thread (with the caller's context)."""
    if inspect.iscoroutinefunction(func):
        return await func(**kwargs)
    result = await asyncio.to_thread(func, **kwargs)
    return await result if inspect.isawaitable(result) else result


def _evaluations(value: Any) -> list[Evaluation]:
    values = value if isinstance(value, list) else [value]
    return [v for v in values if isinstance(v, Evaluation)]


class ExperimentRunner:
    """One run of ``run_experiment``; the client records traces and scores."""

    def __init__(
        self,
        client: InteractiveAI,
        *,
        name: str,
        run_name: str,
        description: str | None,
        metadata: dict[str, Any] | None,
        task: TaskFunction,
        evaluators: Sequence[EvaluatorFunction],
        run_evaluators: Sequence[RunEvaluatorFunction],
        max_concurrency: int,
    ) -> None:
        self.client = client
        self.name, self.run_name, self.description, self.metadata = name, run_name, description, metadata
        self.task, self.evaluators, self.run_evaluators = task, list(evaluators), list(run_evaluators)
        self.max_concurrency = max(1, max_concurrency)

    def run(self, data: Sequence[Any]) -> ExperimentResult:
        """Run to completion from sync code, also when called inside a running event loop."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self.run_async(data))
        box: dict[str, Any] = {}

        def in_own_loop() -> None:
            try:
                box["result"] = asyncio.run(self.run_async(data))
            except BaseException as exc:  # handed back to the caller's thread
                box["error"] = exc

        thread = threading.Thread(target=in_own_loop, name="interactiveai-experiment")
        thread.start()
        thread.join()
        if "error" in box:
            raise box["error"]
        result: ExperimentResult = box["result"]
        return result

    async def run_async(self, data: Sequence[Any]) -> ExperimentResult:
        limit = asyncio.Semaphore(self.max_concurrency)

        async def one(item: Any) -> ExperimentItemResult:
            async with limit:
                return await self._run_item(item)

        results = list(await asyncio.gather(*(one(item) for item in data)))
        run_id = next((r.dataset_run_id for r in results if r.dataset_run_id), None)
        run_evaluations = await self._run_level(results, run_id)
        self.client.flush()
        return ExperimentResult(
            name=self.name,
            run_name=self.run_name,
            description=self.description,
            item_results=results,
            run_evaluations=run_evaluations,
            dataset_run_id=run_id,
            dataset_run_url=self._run_url(data, run_id),
        )

    async def _run_item(self, item: Any) -> ExperimentItemResult:
        client = self.client
        item_input, expected, item_metadata = (item_field(item, k) for k in ("input", "expected_output", "metadata"))
        metadata: dict[str, Any] = {"experiment_name": self.name, "experiment_run_name": self.run_name}
        metadata.update(self.metadata or {})
        if isinstance(item, DatasetItem):
            metadata.update(dataset_id=item.dataset_id, dataset_item_id=item.id)
        with client.start_as_current_observation(name=ITEM_SPAN_NAME, input=item_input, metadata=metadata) as span:
            trace_id, run_id = span.trace_id, None
            if isinstance(item, DatasetItem) and client._api is not None:
                run_id = await asyncio.to_thread(
                    link_run_item,
                    client._api,
                    run_name=self.run_name,
                    description=self.description,
                    metadata=self.metadata,
                    item_id=item.id,
                    trace_id=trace_id,
                    observation_id=span.id,
                )
            try:
                output = await _call(self.task, item=item)
            except Exception as exc:
                logger.error("interactiveai: experiment %r: the task failed on an item: %r", self.name, exc)
                span.update(level="ERROR", status_message=f"{type(exc).__name__}: {exc}")
                return ExperimentItemResult(item, None, [], trace_id, run_id, error=f"{type(exc).__name__}: {exc}")
            span.update(output=output)
            evaluations: list[Evaluation] = []
            for evaluator in self.evaluators:
                try:
                    got = await _call(
                        evaluator, input=item_input, output=output, expected_output=expected, metadata=item_metadata
                    )
                except Exception as exc:
                    logger.error("interactiveai: experiment %r: evaluator %r failed: %r", self.name, evaluator, exc)
                    continue
                for evaluation in _evaluations(got):
                    evaluations.append(evaluation)
                    self._score(evaluation, trace_id=trace_id, observation_id=span.id)
            return ExperimentItemResult(item, output, evaluations, trace_id, run_id)

    async def _run_level(self, results: list[ExperimentItemResult], run_id: str | None) -> list[Evaluation]:
        succeeded = [r for r in results if r.error is None]
        evaluations: list[Evaluation] = []
        for evaluator in self.run_evaluators:
            try:
                evaluations.extend(_evaluations(await _call(evaluator, item_results=succeeded)))
            except Exception as exc:
                logger.error("interactiveai: experiment %r: run evaluator %r failed: %r", self.name, evaluator, exc)
        if run_id is not None:  # local data has no run to hold run-level scores
            for evaluation in evaluations:
                self._score(evaluation, dataset_run_id=run_id)
        return evaluations

    def _score(
        self,
        evaluation: Evaluation,
        *,
        trace_id: str | None = None,
        observation_id: str | None = None,
        dataset_run_id: str | None = None,
    ) -> None:
        self.client.create_score(
            name=evaluation.name,
            trace_id=trace_id,
            observation_id=observation_id,
            dataset_run_id=dataset_run_id,
            value=evaluation.value,
            comment=evaluation.comment,
            metadata=evaluation.metadata,
            data_type=evaluation.data_type,
            config_id=evaluation.config_id,
        )

    def _run_url(self, data: Sequence[Any], run_id: str | None) -> str | None:
        dataset_id = next((i.dataset_id for i in data if isinstance(i, DatasetItem)), None)
        projects = self.client._projects
        project_id = projects.project_id() if run_id and dataset_id and projects else None
        if not project_id:
            return None
        return f"{self.client.host}/project/{project_id}/datasets/{dataset_id}/runs/{run_id}"
