"""Datasets as a user of the existing SDK (3.0 to 5.x) builds them, read back through its client.

A dataset with metadata; three items (one with metadata and our own id, one without metadata,
one archived later); then item 1 upserted under its id (new expected output and metadata) and
item 3 archived by upserting it with status ARCHIVED. ``get_dataset`` must then list items 1
(as upserted) and 2 only; from 3.x's later minors on, ``get_dataset(version=<a time before the
upsert>)`` must list the three items as they stood then. Also read: the item by id and the
item list filtered by dataset.

Usage: python sdk_datasets.py SUMMARY_PATH (configured by LANGFUSE_* variables).
"""

from __future__ import annotations

import datetime as dt
import inspect
import time
from typing import Any

from sdk_common import Summary, jsonable, record_http, run_tag, sdk_version

record_http()

from langfuse import Langfuse  # noqa: E402

MAJOR, MINOR = sdk_version()
TAG = run_tag()
DATASET = f"peer-dataset-{TAG}"
ITEMS = {key: f"{key}-{TAG}" for key in ("item-1", "item-2", "item-3")}
summary = Summary("datasets")
langfuse = Langfuse()
HAS_VERSION = "version" in inspect.signature(langfuse.get_dataset).parameters


def item_summary(item: Any) -> dict[str, Any]:
    data = jsonable(item)
    keys = ("id", "status", "input", "expectedOutput", "metadata", "datasetId", "datasetName", "sourceTraceId")
    # DatasetItemClient (3.x) has snake_case attributes, not a model: read both spellings
    snake = {"expectedOutput": "expected_output", "datasetId": "dataset_id", "datasetName": "dataset_name"}
    snake["sourceTraceId"] = "source_trace_id"
    out = {}
    for key in keys:
        if isinstance(data, dict) and key in data:
            out[key] = data[key]
        else:
            out[key] = jsonable(getattr(item, snake.get(key, key), None))
    return out


def dataset_summary(dataset: Any) -> dict[str, Any]:
    return {
        "id": dataset.id,
        "name": dataset.name,
        "description": dataset.description,
        "metadata": jsonable(dataset.metadata),
        "items": sorted((item_summary(i) for i in dataset.items), key=lambda i: i["id"]),
    }


with summary.step("create_dataset"):
    created = langfuse.create_dataset(name=DATASET, description="peer SDK dataset", metadata={"owner": "qa"})
    summary["created_dataset"] = {"id": created.id, "name": created.name}
with summary.step("create_dataset_item:1"):
    langfuse.create_dataset_item(
        dataset_name=DATASET,
        input={"question": "2+2"},
        expected_output="4",
        metadata={"level": "easy"},
        id=ITEMS["item-1"],
    )
with summary.step("create_dataset_item:2"):
    langfuse.create_dataset_item(
        dataset_name=DATASET, input="capital of France", expected_output="Paris", id=ITEMS["item-2"]
    )
with summary.step("create_dataset_item:3"):
    third = langfuse.create_dataset_item(dataset_name=DATASET, input={"question": "to archive"}, id=ITEMS["item-3"])
    summary["created_item"] = item_summary(third)
time.sleep(0.05)
before_changes = dt.datetime.now(dt.UTC)
summary["before_changes"] = before_changes.isoformat()
time.sleep(0.05)
with summary.step("upsert_item"):
    upserted = langfuse.create_dataset_item(
        dataset_name=DATASET,
        input={"question": "2+2"},
        expected_output="four",
        metadata={"level": "easy", "revision": 2},
        id=ITEMS["item-1"],
    )
    summary["upserted_item"] = item_summary(upserted)
with summary.step("archive_item"):
    archived = langfuse.create_dataset_item(
        dataset_name=DATASET, input={"question": "to archive"}, id=ITEMS["item-3"], status="ARCHIVED"
    )
    summary["archived_item"] = item_summary(archived)
summary["items"] = ITEMS
summary["has_version"] = HAS_VERSION

with summary.step("get_dataset"):
    summary["dataset"] = dataset_summary(langfuse.get_dataset(DATASET))
if HAS_VERSION:
    with summary.step("get_dataset:version"):
        summary["dataset_at_version"] = dataset_summary(langfuse.get_dataset(DATASET, version=before_changes))
with summary.step("dataset_items.get"):
    summary["item_by_id"] = item_summary(langfuse.api.dataset_items.get(ITEMS["item-2"]))
with summary.step("dataset_items.list"):
    page = langfuse.api.dataset_items.list(dataset_name=DATASET, limit=50)
    summary["item_list"] = sorted((item_summary(i) for i in page.data), key=lambda i: i["id"])
with summary.step("datasets.get"):
    summary["dataset_by_name"] = jsonable(langfuse.api.datasets.get(DATASET))

summary.write()
langfuse.shutdown()
