"""Trace merge rules and roll-ups: fold newly stored spans into a trace row.

A trace's spans arrive in any order, in several batches, from several services, and to several
server replicas at once. The writer locks the trace row, reads it, calls :func:`merge_spans` with
only the spans it actually inserted (a re-sent span is never counted twice), and writes the row
back. Every rule is order-independent except "latest non-null" and the tag cap, where arrival
order decides.

Rules (DESIGN §3): timestamp = earliest start; end = latest end; latency = end − timestamp;
name/input/output = explicit trace values, else the root span's; user, session, release, version,
environment = latest non-null (environment: latest non-default); tags = sorted union, at most
``bounds.MAX_TAGS`` (a full trace takes no new tag); metadata = merged, later keys win, within
``TRACE_METADATA_BYTES`` (below); public = any true. Roll-ups: observation count, worst level and
per-level counts, token sums, cost sums (None until some observation has a cost).

What is stored is read leniently: a row an older version (or a hand-made fix) left with tags or
metadata that do not read as a list of names or a JSON object never fails the spans that follow.
Tags that are not a list read as none (the names in a list are kept); metadata that is not a JSON
object is kept under ``UNREADABLE_KEY`` (its value, or its text when it is not JSON), so the
first merge makes it an object again without losing what was there.

Trace metadata is bounded by its serialised size, ``TRACE_METADATA_BYTES``: every merge that
changes it reads and writes it whole, so without a bound a trace whose spans each add a key
would cost more on every span (in the writer, which all projects share). Keys are taken in
arrival order while the metadata fits; a new key, or a new value of a key, that would make it
larger is refused and counted under ``DROPPED_KEY``. A stored metadata already over the bound
(an older row) is left as it is, without reading it. Measured (one merge, 2-core dev machine):
a trace whose spans repeat a 5-key metadata, 10 spans, 10 µs as before the bound; one new key
into metadata at the bound, 25 µs (18 µs before, when it still grew without limit).
"""

from __future__ import annotations

from typing import Any

import orjson

from interactiveai.server import json_values
from interactiveai.server.ingest.bounds import MAX_TAGS
from interactiveai.server.ingest.records import LEVEL_RANK, MappedSpan

TRACE_METADATA_BYTES = 32_768
"""Bytes of JSON a trace's merged metadata may hold (see the module doc)."""
DROPPED_KEY = "_dropped_keys"
"""Metadata key counting the keys (or new values) refused because the metadata was full."""
UNREADABLE_KEY = "_unreadable_metadata"
"""Metadata key keeping stored metadata that did not read as a JSON object."""
_MARKER_ROOM = len(DROPPED_KEY) + 24  # ``,"_dropped_keys":<count>`` always fits after the bound check

# The trace columns merging reads and writes (everything except keys, created_at and bookmarked).
MERGE_COLUMNS = (
    "timestamp_us",
    "end_time_us",
    "name",
    "name_explicit",
    "user_id",
    "session_id",
    "environment",
    "release",
    "version",
    "tags",
    "metadata",
    "input",
    "output",
    "input_explicit",
    "output_explicit",
    "root_observation_id",
    "root_io_shared",
    "public",
    "latency_us",
    "observation_count",
    "level",
    "debug_count",
    "default_count",
    "warning_count",
    "error_count",
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "input_cost",
    "output_cost",
    "total_cost",
)
_LEVEL_COUNT = {"DEBUG": "debug_count", "DEFAULT": "default_count", "WARNING": "warning_count", "ERROR": "error_count"}


def empty_trace(timestamp_us: int) -> dict[str, Any]:
    """The row of a trace no span has been merged into yet (also the concurrent-insert placeholder)."""
    return {
        "timestamp_us": timestamp_us,
        "end_time_us": None,
        "name": None,
        "name_explicit": False,
        "user_id": None,
        "session_id": None,
        "environment": "default",
        "release": None,
        "version": None,
        "tags": "[]",
        "metadata": "{}",
        "input": None,
        "output": None,
        "input_explicit": False,
        "output_explicit": False,
        "root_observation_id": None,
        "root_io_shared": 0,
        "public": False,
        "latency_us": None,
        "observation_count": 0,
        "level": "DEBUG",
        "debug_count": 0,
        "default_count": 0,
        "warning_count": 0,
        "error_count": 0,
        "input_tokens": 0,
        "output_tokens": 0,
        "total_tokens": 0,
        "input_cost": None,
        "output_cost": None,
        "total_cost": None,
    }


def merge_spans(row: dict[str, Any], spans: list[MappedSpan]) -> tuple[dict[str, Any], list[str]]:
    """Fold ``spans`` (newly inserted, in arrival order) into ``row``.

    Returns the merged row and the tags that were not on the trace before (for trace_tags).
    """
    merged = dict(row)
    if merged["observation_count"] == 0:
        # a placeholder's timestamp is only a guess; the spans decide it
        merged["timestamp_us"] = min(span.row["start_time_us"] for span in spans)
    old_tags = _stored_tags(merged["tags"])
    tags = set(old_tags)
    metadata_updates: list[dict[str, Any]] = []
    worst = LEVEL_RANK.get(merged["level"], 0) if merged["observation_count"] else -1
    # The writer thread is the serial part of ingestion: the running values live in locals and
    # are written back once (same operations, same order, so the same results).
    timestamp = merged["timestamp_us"]
    end_time = merged["end_time_us"]
    count = merged["observation_count"]
    input_tokens, output_tokens, total_tokens = merged["input_tokens"], merged["output_tokens"], merged["total_tokens"]
    input_cost, output_cost, total_cost = merged["input_cost"], merged["output_cost"], merged["total_cost"]
    for span in spans:
        obs = span.row
        facts = span.trace
        start = obs["start_time_us"]
        end = obs["end_time_us"] or start
        if start < timestamp:
            timestamp = start
        if end_time is None or end > end_time:
            end_time = end
        if facts.name is not None:
            merged["name"] = facts.name
            merged["name_explicit"] = True
        if facts.input is not None:
            merged["input"] = facts.input
            merged["input_explicit"] = True
        if facts.output is not None:
            merged["output"] = facts.output
            merged["output_explicit"] = True
        if facts.is_root:
            merged["root_observation_id"] = obs["id"]
            if not merged["name_explicit"]:
                merged["name"] = obs["name"]
            if not merged["input_explicit"] and obs["input"] is not None:
                merged["input"] = obs["input"]
            if not merged["output_explicit"] and obs["output"] is not None:
                merged["output"] = obs["output"]
        if facts.user_id is not None:
            merged["user_id"] = facts.user_id
        if facts.session_id is not None:
            merged["session_id"] = facts.session_id
        if facts.release is not None:
            merged["release"] = facts.release
        if facts.version is not None:
            merged["version"] = facts.version
        if facts.environment != "default":
            merged["environment"] = facts.environment
        if facts.tags:
            tags.update(facts.tags)
        if facts.metadata:
            metadata_updates.append(facts.metadata)
        if facts.public:
            merged["public"] = True
        level = obs["level"]
        merged[_LEVEL_COUNT.get(level, "default_count")] += 1
        rank = LEVEL_RANK.get(level, 1)
        if rank > worst:
            worst = rank
            merged["level"] = level
        count += 1
        input_tokens += obs["input_tokens"]
        output_tokens += obs["output_tokens"]
        total_tokens += obs["total_tokens"]
        cost = obs["input_cost"]
        if cost is not None:
            input_cost = cost if input_cost is None else input_cost + cost
        cost = obs["output_cost"]
        if cost is not None:
            output_cost = cost if output_cost is None else output_cost + cost
        cost = obs["total_cost"]
        if cost is not None:
            total_cost = cost if total_cost is None else total_cost + cost
    merged["timestamp_us"] = timestamp
    merged["end_time_us"] = end_time
    merged["observation_count"] = count
    merged["input_tokens"], merged["output_tokens"], merged["total_tokens"] = input_tokens, output_tokens, total_tokens
    merged["input_cost"], merged["output_cost"], merged["total_cost"] = input_cost, output_cost, total_cost
    if merged["end_time_us"] is not None:
        merged["latency_us"] = merged["end_time_us"] - merged["timestamp_us"]
    added = sorted(tags - old_tags)
    if added:
        if len(tags) > MAX_TAGS:
            # a trace holds at most MAX_TAGS tags (bounds.py): those it has, then the first new ones
            added = added[: max(0, MAX_TAGS - len(old_tags))]
            tags = old_tags.union(added)
        if added:
            merged["tags"] = orjson.dumps(sorted(tags)).decode()
    if metadata_updates:
        metadata = merged_metadata(merged["metadata"], metadata_updates)
        if metadata is not None:
            merged["metadata"] = metadata
    return merged, added


def _stored_tags(text: str | None) -> set[str]:
    """The names of a stored tag list; none for anything else (not JSON, not a list)."""
    if not text or text == "[]":
        return set()
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:  # also JSON nested deeper than orjson reads (1,024 levels)
        return set()
    return {tag for tag in value if isinstance(tag, str)} if isinstance(value, list) else set()


def _stored_metadata(text: str | None) -> dict[str, Any]:
    """A stored metadata object as a dict: anything else is kept under ``UNREADABLE_KEY``."""
    if not text or text == "{}":
        return {}
    try:
        value = orjson.loads(text)  # members nested too deep to write back are written as text (dumps)
    except orjson.JSONDecodeError:  # also JSON nested deeper than orjson reads (1,024 levels)
        return {UNREADABLE_KEY: text}
    return value if isinstance(value, dict) else {UNREADABLE_KEY: value}


def merged_metadata(stored: str | None, updates: list[dict[str, Any]]) -> str | None:
    """The trace metadata text after ``updates`` (in arrival order, later keys win) within
    ``TRACE_METADATA_BYTES``; None when the stored text stays as it is."""
    if stored is not None and len(stored) > TRACE_METADATA_BYTES:
        return None  # over the bound (an older row): neither read nor grown
    stored_metadata = _stored_metadata(stored)
    metadata: dict[str, Any] | None = None
    for update in updates:
        # the usual case: every span of a trace repeats its metadata, checked at C speed
        if not update.items() <= (stored_metadata if metadata is None else metadata).items():
            if metadata is None:
                metadata = dict(stored_metadata)
            metadata.update(update)
    if metadata is None:
        return None
    text = json_values.dumps(metadata)
    if _fits(text):
        return text
    return _within_bound(stored_metadata, updates)


def _within_bound(metadata: dict[str, Any], updates: list[dict[str, Any]]) -> str | None:
    """The merge of ``updates`` into the stored ``metadata`` (changed in place) that
    ``merged_metadata`` found too large: each key is taken while the metadata still fits with
    it, else refused and counted."""
    dropped = metadata.pop(DROPPED_KEY, 0)
    dropped = dropped if isinstance(dropped, int) and not isinstance(dropped, bool) else 0
    size = len(json_values.dumps(metadata).encode())
    room = TRACE_METADATA_BYTES - _MARKER_ROOM
    for update in updates:
        for key, value in update.items():
            if key in metadata and metadata[key] == value:
                continue
            added = _entry_bytes(key, value)
            removed = _entry_bytes(key, metadata[key]) if key in metadata else 0
            if size - removed + added <= room:
                metadata[key] = value
                size += added - removed
            else:
                dropped += 1
    metadata[DROPPED_KEY] = dropped
    text = json_values.dumps(metadata)
    return text if _fits(text) else None  # only a stored text within _MARKER_ROOM of the bound


def _fits(text: str) -> bool:
    return len(text) <= TRACE_METADATA_BYTES and (text.isascii() or len(text.encode()) <= TRACE_METADATA_BYTES)


def _entry_bytes(key: str, value: Any) -> int:
    """Bytes one member adds to a JSON object's text: ``"key":value,``."""
    return len(json_values.dumps(key).encode()) + len(json_values.dumps(value).encode()) + 2
