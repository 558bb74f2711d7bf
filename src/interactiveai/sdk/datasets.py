"""Datasets read and written through the public REST API: ``get_dataset``, ``create_dataset``,
``create_dataset_item``.

Unlike tracing, these are explicit requests for data the caller needs, so a failure raises
``DatasetError`` (with the server's message) instead of being logged and swallowed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from interactiveai.sdk.api_client import ApiClient, ApiResponse

if TYPE_CHECKING:
    from interactiveai.sdk.experiments import EvaluatorFunction, ExperimentResult, RunEvaluatorFunction, TaskFunction

logger = logging.getLogger("interactiveai")

ITEMS_PAGE_SIZE = 100  # the server's largest page


def item_field(item: Any, name: str) -> Any:
    """A field of an experiment item: a ``DatasetItem`` or a plain dict (``{"input": ..., ...}``)."""
    return item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)


class DatasetError(Exception):
    """A dataset request the server refused or never answered."""


@dataclass(frozen=True)
class DatasetItem:
    """One item of a dataset: what the task gets (``input``) and what a good answer looks like."""

    id: str
    dataset_id: str
    dataset_name: str
    input: Any
    expected_output: Any = None
    metadata: Any = None
    source_trace_id: str | None = None
    source_observation_id: str | None = None
    status: str = "ACTIVE"

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> DatasetItem:
        return cls(
            id=str(data["id"]),
            dataset_id=str(data.get("datasetId") or ""),
            dataset_name=str(data.get("datasetName") or ""),
            input=data.get("input"),
            expected_output=data.get("expectedOutput"),
            metadata=data.get("metadata"),
            source_trace_id=data.get("sourceTraceId"),
            source_observation_id=data.get("sourceObservationId"),
            status=str(data.get("status") or "ACTIVE"),
        )


@dataclass
class Dataset:
    """A dataset with its active items; ``run_experiment`` runs a task over them as one dataset run."""

    id: str
    name: str
    description: str | None
    metadata: Any
    items: list[DatasetItem] = field(default_factory=list)
    _runner: Any = field(default=None, repr=False, compare=False)  # the client that fetched it

    def run_experiment(
        self,
        *,
        name: str,
        task: TaskFunction,
        evaluators: Sequence[EvaluatorFunction] = (),
        run_evaluators: Sequence[RunEvaluatorFunction] = (),
        max_concurrency: int = 50,
        metadata: dict[str, Any] | None = None,
        description: str | None = None,
        run_name: str | None = None,
    ) -> ExperimentResult:
        """``client.run_experiment(data=self.items, ...)`` with the client that fetched this dataset."""
        if self._runner is None:
            raise DatasetError("this dataset was not fetched with a client; use client.run_experiment(data=...)")
        result: ExperimentResult = self._runner.run_experiment(
            name=name,
            data=self.items,
            task=task,
            evaluators=evaluators,
            run_evaluators=run_evaluators,
            max_concurrency=max_concurrency,
            metadata=metadata,
            description=description,
            run_name=run_name,
        )
        return result


def _checked(resp: ApiResponse, what: str) -> Any:
    if resp.ok:
        return resp.json()
    detail = resp.json()
    message = detail.get("message") if isinstance(detail, dict) else None
    status = f"HTTP {resp.status}" if resp.status else "no answer from the server"
    raise DatasetError(f"{what} failed ({status}){': ' + str(message) if message else ''}")


def fetch_dataset(api: ApiClient, name: str) -> Dataset:
    """The dataset ``name`` with all its active items (paged through ``GET /dataset-items``)."""
    data = _checked(api.get(f"/api/public/v2/datasets/{quote(name, safe='')}"), f"get_dataset({name!r})")
    items: list[DatasetItem] = []
    page = 1
    while True:
        query = urlencode({"datasetName": name, "page": page, "limit": ITEMS_PAGE_SIZE})
        body = _checked(api.get(f"/api/public/dataset-items?{query}"), f"items of dataset {name!r}")
        rows = body.get("data") or []
        items.extend(DatasetItem.from_api(row) for row in rows)
        total_pages = int((body.get("meta") or {}).get("totalPages") or 0)
        if not rows or page >= total_pages:
            break
        page += 1
    return Dataset(
        id=str(data["id"]),
        name=str(data["name"]),
        description=data.get("description"),
        metadata=data.get("metadata"),
        items=[item for item in items if item.status == "ACTIVE"],
    )


def post_dataset(api: ApiClient, name: str, description: str | None, metadata: Any) -> Dataset:
    body = {"name": name, "description": description, "metadata": metadata}
    data = _checked(api.post("/api/public/v2/datasets", body), f"create_dataset({name!r})")
    return Dataset(
        id=str(data["id"]), name=str(data["name"]), description=data.get("description"), metadata=data.get("metadata")
    )


def post_dataset_item(api: ApiClient, body: dict[str, Any]) -> DatasetItem:
    sent = {k: v for k, v in body.items() if v is not None}
    data = _checked(api.post("/api/public/dataset-items", sent), "create_dataset_item")
    return DatasetItem.from_api(data)


def link_run_item(
    api: ApiClient,
    *,
    run_name: str,
    description: str | None,
    metadata: Any,
    item_id: str,
    trace_id: str,
    observation_id: str,
) -> str | None:
    """Record that the run ``run_name`` answered ``item_id`` with this trace; the run's id, or None."""
    body = {
        "runName": run_name,
        "runDescription": description,
        "metadata": metadata,
        "datasetItemId": item_id,
        "traceId": trace_id,
        "observationId": observation_id,
    }
    resp = api.post("/api/public/dataset-run-items", {k: v for k, v in body.items() if v is not None})
    data = resp.json() if resp.ok else None
    if not isinstance(data, dict) or not data.get("datasetRunId"):
        logger.warning(
            "interactiveai: could not link dataset item %s to run %r (HTTP %s)", item_id, run_name, resp.status
        )
        return None
    return str(data["datasetRunId"])
