"""Pydantic models of the dataset endpoints' JSON: the OpenAPI document and the tests use them.

Wire names are camelCase and compatible with the reference platform's dataset API. Output
models forbid extra fields, so a test that validates a response catches drift between the
serialisers in ``api/datasets.py`` and the documentation. Input models only document request
bodies: the write layer validates them, with one clear message per broken rule.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from interactiveai.server.api.models import Meta


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- outputs ----------------------------------------------------------------------------------


class Dataset(_Out):
    id: str
    projectId: str
    name: str
    description: str | None
    metadata: Any
    createdAt: str
    updatedAt: str


class DatasetWithLinks(Dataset):
    """A v1 list entry: the dataset with its item ids and run names."""

    items: list[str]
    runs: list[str]


class DatasetItem(_Out):
    id: str
    projectId: str
    datasetId: str
    datasetName: str
    status: Literal["ACTIVE", "ARCHIVED"]
    input: Any
    expectedOutput: Any
    metadata: Any
    sourceTraceId: str | None
    sourceObservationId: str | None
    createdAt: str
    updatedAt: str


class DatasetWithItems(Dataset):
    """The v1 dataset object: the dataset with its items and run names."""

    items: list[DatasetItem]
    runs: list[str]


class Datasets(_Out):
    data: list[DatasetWithLinks]
    meta: Meta


class DatasetsV2(_Out):
    data: list[Dataset]
    meta: Meta


class DatasetItems(_Out):
    data: list[DatasetItem]
    meta: Meta


class DatasetRunItem(_Out):
    id: str
    projectId: str
    datasetRunId: str
    datasetRunName: str
    datasetItemId: str
    traceId: str
    observationId: str | None
    createdAt: str
    updatedAt: str


class DatasetRunItems(_Out):
    data: list[DatasetRunItem]
    meta: Meta


class DatasetRun(_Out):
    id: str
    projectId: str
    name: str
    description: str | None
    metadata: Any
    datasetId: str
    datasetName: str
    createdAt: str
    updatedAt: str


class DatasetRunWithItems(DatasetRun):
    datasetRunItems: list[DatasetRunItem]


class DatasetRuns(_Out):
    data: list[DatasetRun]
    meta: Meta


# --- inputs (documentation of request bodies) -------------------------------------------------


class DatasetCreate(BaseModel):
    name: str = Field(description="Unique per project; posting an existing name updates that dataset.")
    description: str | None = None
    metadata: Any = Field(default=None, description="Any JSON value.")


class DatasetItemCreate(BaseModel):
    datasetName: str
    id: str | None = Field(default=None, description="Posting an existing id updates that item.")
    input: Any = Field(default=None, description="Any JSON; copied from the source when omitted.")
    expectedOutput: Any = Field(default=None, description="Any JSON; the source's output when omitted.")
    metadata: Any = Field(default=None, description="Any JSON value.")
    sourceTraceId: str | None = Field(default=None, description="The trace this item was built from.")
    sourceObservationId: str | None = Field(default=None, description="An observation of that trace.")
    status: Literal["ACTIVE", "ARCHIVED"] | None = None


class DatasetRunItemCreate(BaseModel):
    runName: str = Field(description="The run (experiment) name; created in the item's dataset if new.")
    runDescription: str | None = None
    metadata: Any = Field(default=None, description="Metadata of the run (any JSON); updates an existing run.")
    datasetItemId: str
    traceId: str | None = Field(default=None, description="The trace the run produced for this item.")
    observationId: str | None = None
