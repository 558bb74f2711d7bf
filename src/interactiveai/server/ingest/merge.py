"""Trace merge rules and roll-ups: fold newly stored spans into a trace row.

A trace's spans arrive in any order, in several batches, from several services, and to several
server replicas at once. The writer locks the trace row, reads it, calls :func:`merge_spans` with
only the spans it actually inserted (a re-sent span is never counted twice), and writes the row
back. Every rule is order-independent except "latest non-null" and the tag cap, where arrival
order decides.

Rules (DESIGN §3): timestamp = earliest start; end = latest end; latency = end − timestamp;
name/input/output = explicit trace values, else the root span's; user, session, release, version,
environment = latest non-null (environment: latest non-default); tags = sorted union, at most
``bounds.MAX_TAGS`` (a full trace takes no new tag); metadata = merged, later keys win; public =
any true. Roll-ups: observation count, worst level and per-level counts, token sums, cost sums
(None until some observation has a cost).
"""

from __future__ import annotations

from typing import Any

import orjson

from interactiveai.server.ingest.bounds import MAX_TAGS
from interactiveai.server.ingest.records import LEVEL_RANK, MappedSpan

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
    old_tags = set(orjson.loads(merged["tags"] or "[]"))
    tags = set(old_tags)
    metadata: dict[str, Any] | None = None
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
            if metadata is None:
                metadata = orjson.loads(merged["metadata"] or "{}")
            metadata.update(facts.metadata)
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
    if metadata is not None:
        merged["metadata"] = orjson.dumps(metadata, option=orjson.OPT_NON_STR_KEYS, default=str).decode()
    return merged, added
