"""Pydantic models of the dataset endpoints' JSON: the OpenAPI document and the tests use them.

Wire names are camelCase and compatible with the reference platform's dataset API. Output
models forbid extra fields, so a test that validates a response catches drift between the
serialisers in ``api/datasets.py`` and the documentation. Input models only document request
bodies: the write layer validates them, with one clear message per broken rule.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from interactiveai.server.api.models import Body, Meta, documented, one_of_given, requires
from interactiveai.server.api.schemas import choice, text
from interactiveai.server.query.datasets import ITEM_STATUSES
from interactiveai.server.writes.datasets import MAX_NAME
from interactiveai.server.writes.errors import MAX_ID


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
    version: str = Field(description="When this state of the item became current (its last change).")
    mediaReferences: list[dict[str, Any]] = Field(
        description="Media referenced by the item's payloads: always empty (media uploads are not stored)."
    )


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


# --- inputs (documentation of request bodies: the write layer validates them) --------------------

_NAME = text(MAX_NAME, min_length=1, optional=False)


class DatasetCreate(Body):
    model_config = documented({"name": "eval/weather", "description": "Questions about the weather"})

    name: Annotated[str, _NAME] = Field(
        description="Unique per project; posting an existing name updates that dataset."
    )
    description: Annotated[str | None, text()] = None
    metadata: Any = Field(default=None, description="Any JSON value.")


class DatasetItemCreate(Body):
    """An item of a dataset of the project (404 if there is none with that name)."""

    model_config = documented(
        {"datasetName": "eval/weather", "input": {"question": "Rain in Paris?"}, "expectedOutput": "No"},
        rules=[requires("sourceObservationId", "sourceTraceId")],
    )

    datasetName: Annotated[str, _NAME]
    id: Annotated[str | None, text(MAX_ID)] = Field(
        default=None, description="Posting an existing id updates that item; an id of another dataset's item is a 400."
    )
    input: Any = Field(default=None, description="Any JSON; copied from the source when omitted.")
    expectedOutput: Any = Field(default=None, description="Any JSON; the source's output when omitted.")
    metadata: Any = Field(default=None, description="Any JSON value.")
    sourceTraceId: Annotated[str | None, text(MAX_ID)] = Field(
        default=None, description="The trace this item was built from (404 if it must be copied and is not stored)."
    )
    sourceObservationId: Annotated[str | None, text(MAX_ID)] = Field(
        default=None, description="An observation of that trace; requires sourceTraceId."
    )
    status: Annotated[str | None, choice(ITEM_STATUSES)] = Field(default=None, description="In any case.")


class DatasetRunItemCreate(Body):
    """A link from a dataset item (404 if the project has none with that id) to a trace of a run."""

    model_config = documented(
        {
            "runName": "prompt-v2",
            "datasetItemId": "5fd2687a-b9ea-443a-b3df-ca4dbd787bca",
            "traceId": "0af7651916cd43dd8448eb211c80319c",
        },
        rules=[one_of_given("traceId", "observationId")],
    )

    runName: Annotated[str, _NAME] = Field(
        description="The run (experiment) name; created in the item's dataset if new."
    )
    runDescription: Annotated[str | None, text()] = None
    metadata: Any = Field(default=None, description="Metadata of the run (any JSON); updates an existing run.")
    datasetItemId: Annotated[str, text(MAX_ID, min_length=1, optional=False)]
    traceId: Annotated[str | None, text(MAX_ID)] = Field(
        default=None, description="The trace the run produced for this item."
    )
    observationId: Annotated[str | None, text(MAX_ID)] = Field(
        default=None, description="Without traceId, a stored observation, whose trace is used (else a 400)."
    )
