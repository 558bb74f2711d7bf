"""The client's dataset and experiment methods: ``get_dataset``, ``create_dataset``,
``create_dataset_item`` and ``run_experiment``.

A mixin of ``InteractiveAI``. Dataset calls are explicit reads and writes, so they raise
``DatasetError`` when the server refuses them or the client is disabled; an experiment never
stops for one failing item or evaluator.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from interactiveai.sdk.api_client import ApiClient, ProjectLookup
from interactiveai.sdk.datasets import (
    Dataset,
    DatasetError,
    DatasetItem,
    fetch_dataset,
    post_dataset,
    post_dataset_item,
)
from interactiveai.sdk.experiments import (
    EvaluatorFunction,
    ExperimentResult,
    ExperimentRunner,
    RunEvaluatorFunction,
    TaskFunction,
    default_run_name,
)

if TYPE_CHECKING:
    from interactiveai.sdk.client import InteractiveAI


class ExperimentMethods:
    """Datasets and experiments over the public REST API."""

    _api: ApiClient | None
    _projects: ProjectLookup | None

    def _dataset_api(self) -> ApiClient:
        if self._api is None:
            raise DatasetError("the client is disabled (no keys, or tracing turned off): datasets are unavailable")
        return self._api

    def get_dataset(self, name: str) -> Dataset:
        """The dataset ``name`` with its active items; raises ``DatasetError`` if there is none."""
        dataset = fetch_dataset(self._dataset_api(), name)
        dataset._runner = self
        return dataset

    def create_dataset(self, *, name: str, description: str | None = None, metadata: Any = None) -> Dataset:
        """Create the dataset ``name`` (or update its description and metadata if it exists)."""
        dataset = post_dataset(self._dataset_api(), name, description, metadata)
        dataset._runner = self
        return dataset

    def create_dataset_item(
        self,
        *,
        dataset_name: str,
        input: Any = None,
        expected_output: Any = None,
        metadata: Any = None,
        source_trace_id: str | None = None,
        source_observation_id: str | None = None,
        id: str | None = None,
        status: str | None = None,
    ) -> DatasetItem:
        """Add an item to a dataset; with ``id`` of an existing item, a new version of that item."""
        body = {
            "datasetName": dataset_name,
            "input": input,
            "expectedOutput": expected_output,
            "metadata": metadata,
            "sourceTraceId": source_trace_id,
            "sourceObservationId": source_observation_id,
            "id": id,
            "status": status,
        }
        return post_dataset_item(self._dataset_api(), body)

    def run_experiment(
        self,
        *,
        name: str,
        data: Sequence[Any],
        task: TaskFunction,
        evaluators: Sequence[EvaluatorFunction] = (),
        run_evaluators: Sequence[RunEvaluatorFunction] = (),
        max_concurrency: int = 50,
        metadata: dict[str, Any] | None = None,
        description: str | None = None,
        run_name: str | None = None,
    ) -> ExperimentResult:
        """Run ``task(item=...)`` on every item of ``data`` (dataset items or dicts with ``input``,
        ``expected_output``, ``metadata``), each in its own trace, then score it with ``evaluators``
        and the whole run with ``run_evaluators``. Items of a dataset join the run ``run_name``
        (default: ``"{name} - {UTC time}"``). Blocks until done; works inside a running event loop.
        """
        client: InteractiveAI = self  # type: ignore[assignment]
        runner = ExperimentRunner(
            client,
            name=name,
            run_name=run_name or default_run_name(name),
            description=description,
            metadata=metadata,
            task=task,
            evaluators=evaluators,
            run_evaluators=run_evaluators,
            max_concurrency=max_concurrency,
        )
        return runner.run(list(data))
