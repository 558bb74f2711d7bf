"""Trace and observation patches of the batch ingestion API → stored rows, in the writer's transaction.

The patches (``legacy_events``) run as a job of the group-commit writer (writer.py), so they share
its transaction, retries, isolation of refused data and 503s with OTLP spans, and a 207 success is
committed. Unlike spans, which are immutable, an event may update what is stored; the rules are
OTLP ingestion's (merge.py) extended to updates:

- An observation new to the store is a mapped span like any other: ``merge_spans`` folds it into
  its trace (counts, levels, tokens, costs, times), priced by the same ``Pricing``.
- A stored observation takes the values an update gives (never its start time or environment, as
  the reference keeps them); its metadata keys merge; a new model, usage or cost prices it again.
  Its trace's roll-ups move by the difference between the old and the new row, in O(1).
- A trace's facts merge as the facts of spans do: explicit name, input and output; user,
  session, release, version: latest given; tags united (at most ``MAX_TAGS``); metadata merged
  within ``TRACE_METADATA_BYTES``; public once true. Its timestamp is the earliest of the time
  it names and its observations' starts.

Locking follows writes.py: the batch's trace rows are created if missing (``ON CONFLICT DO
NOTHING``) and then locked in id order (PostgreSQL), so concurrent writers of the same trace,
on any replica, merge one after the other. Applying the same events twice gives the same rows
(an SDK resends a whole batch when one event fails).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, select, update

from interactiveai.server import json_values
from interactiveai.server.clock import now_us
from interactiveai.server.ingest.bounds import MAX_TAGS, bound_span
from interactiveai.server.ingest.bulk import insert_rows
from interactiveai.server.ingest.legacy_events import ObservationPatch, TracePatch
from interactiveai.server.ingest.merge import MERGE_COLUMNS, empty_trace, merge_spans, merged_metadata
from interactiveai.server.ingest.pricing import Pricing
from interactiveai.server.ingest.records import LEVEL_RANK, MappedSpan, TraceFacts
from interactiveai.server.ingest.usage import normalise_usage, token_columns
from interactiveai.server.rollups.dirty import mark_dirty
from interactiveai.server.storage.observation_lookup import observations_by_id
from interactiveai.server.storage.payload_sharing import (
    observation_row,
    restore_root_payloads,
    share_root_payloads,
    unshared,
)
from interactiveai.server.storage.schema import observations, trace_tags, traces

_CHUNK = 500
_LEVEL_COUNT = {"DEBUG": "debug_count", "DEFAULT": "default_count", "WARNING": "warning_count", "ERROR": "error_count"}
_TOKENS = ("input_tokens", "output_tokens", "total_tokens")
_COSTS = ("input_cost", "output_cost", "total_cost")
_IMMUTABLE = frozenset({"start_time_us", "environment"})


def resolve_trace_ids(engine: Engine, project_id: str, patches: Sequence[ObservationPatch]) -> None:
    """Give each patch that names no trace one: the trace of the stored observation with its id,
    else a trace of its own with the observation's id (the reference's wrapper trace)."""
    missing = sorted({patch.id for patch in patches if patch.trace_id is None})
    found: dict[str, str] = {}
    with engine.connect() as conn:
        rows = observations_by_id(conn, project_id, missing, ("id", "trace_id"))
        found.update((row["id"], row["trace_id"]) for row in rows)
    for patch in patches:
        if patch.trace_id is None:
            patch.trace_id = found.get(patch.id, patch.id)
            patch.root = patch.id not in found


def write_patches(
    conn: Connection,
    project_id: str,
    trace_patches: Mapping[str, TracePatch],
    observation_patches: Sequence[ObservationPatch],
    pricing: Pricing,
) -> int:
    """Store the patches (each observation's ``trace_id`` resolved); returns the new observations.

    Re-runnable: the writer retries a transaction, so nothing given here is changed.
    """
    now = now_us()
    by_trace: dict[str, list[ObservationPatch]] = defaultdict(list)
    for patch in observation_patches:
        assert patch.trace_id is not None, "resolve_trace_ids first"
        by_trace[patch.trace_id].append(patch)
    trace_ids = sorted(set(trace_patches) | set(by_trace))
    placeholders = [_placeholder(project_id, t, trace_patches.get(t), by_trace.get(t, ()), now) for t in trace_ids]
    insert_rows(conn, traces, placeholders)
    current = _locked_traces(conn, project_id, trace_ids)
    stored = _stored_observations(conn, project_id, by_trace)
    new_rows: list[dict[str, Any]] = []
    tag_rows: list[dict[str, Any]] = []
    dirty: list[tuple[str, int | None]] = []  # (project, time) of what the roll-ups count
    for trace_id in trace_ids:
        row = current[trace_id]
        created = row["created_at_us"]
        new_spans: list[MappedSpan] = []
        changed: list[tuple[dict[str, Any], dict[str, Any]]] = []
        for patch in by_trace.get(trace_id, ()):
            old = stored.get((trace_id, patch.id))
            if old is None:
                new_spans.append(_new_span(project_id, patch, pricing))
            else:
                new = _updated(project_id, old, patch, pricing)
                if new != old:
                    changed.append((old, new))
        merged = _merge(row, new_spans, changed, trace_patches.get(trace_id))
        restore = share_root_payloads(row, merged, [s.row for s in new_spans], [new for _, new in changed])
        dirty.extend((project_id, t) for t in (row["timestamp_us"], merged["timestamp_us"]))
        dirty.extend((project_id, s.row["start_time_us"]) for s in new_spans)
        dirty.extend((project_id, r["start_time_us"]) for pair in changed for r in pair)
        conn.execute(
            update(traces)
            .where(traces.c.project_id == project_id, traces.c.id == trace_id)
            .values({**{name: merged[name] for name in MERGE_COLUMNS}, "updated_at_us": now})
        )
        keys = {"project_id": project_id, "created_at_us": now, "trace_created_at_us": created}
        new_rows.extend(observation_row({**span.row, **keys}, merged) for span in new_spans)
        for old, new in changed:
            conn.execute(
                update(observations)
                .where(
                    observations.c.project_id == project_id,
                    observations.c.trace_created_at_us == created,
                    observations.c.trace_id == trace_id,
                    observations.c.id == old["id"],
                )
                .values({column: value for column, value in new.items() if old[column] != value})
            )
        if restore is not None:  # after the updates above, which may give it some payload of its own
            restore_root_payloads(conn, project_id, [restore])
        tag_rows.extend(
            {
                "project_id": project_id,
                "tag": tag,
                "trace_id": trace_id,
                "trace_created_at_us": created,
                "timestamp_us": merged["timestamp_us"],  # kept equal to the trace's by triggers (migration 0015)
            }
            for tag in sorted(_tags(merged["tags"]) - _tags(row["tags"]))
        )
    if new_rows:
        insert_rows(conn, observations, new_rows)
    if tag_rows:
        insert_rows(conn, trace_tags, tag_rows)
    mark_dirty(conn, dirty)  # in this transaction: see rollups/dirty.py
    return len(new_rows)


def _placeholder(
    project_id: str, trace_id: str, patch: TracePatch | None, patches: Sequence[ObservationPatch], now: int
) -> dict[str, Any]:
    """The row a trace new to the store starts from (nothing happens to one that exists)."""
    times = [p.values.get("start_time_us") or p.first_seen_us for p in patches]
    if patch is not None:
        times.append(patch.timestamp_us if patch.timestamp_us is not None else patch.first_seen_us or now)
    row = empty_trace(min(times) if times else now)
    row.update(project_id=project_id, id=trace_id, created_at_us=now, updated_at_us=now, bookmarked=False)
    return row


def _locked_traces(conn: Connection, project_id: str, trace_ids: list[str]) -> dict[str, dict[str, Any]]:
    current: dict[str, dict[str, Any]] = {}
    columns = [traces.c.id, traces.c.created_at_us, *(traces.c[name] for name in MERGE_COLUMNS)]
    for start in range(0, len(trace_ids), _CHUNK):
        chunk = trace_ids[start : start + _CHUNK]
        query = select(*columns).where(traces.c.project_id == project_id, traces.c.id.in_(chunk)).order_by(traces.c.id)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        current.update((row["id"], dict(row)) for row in conn.execute(query).mappings())
    return current


def _stored_observations(
    conn: Connection, project_id: str, by_trace: Mapping[str, Sequence[ObservationPatch]]
) -> dict[tuple[str, str], dict[str, Any]]:
    ids = [patch.id for patches in by_trace.values() for patch in patches]
    rows = observations_by_id(conn, project_id, ids, [column.name for column in observations.c])
    return {(row["trace_id"], row["id"]): dict(row) for row in rows if row["trace_id"] in by_trace}


# --- observations -----------------------------------------------------------------------------------


def _new_span(project_id: str, patch: ObservationPatch, pricing: Pricing) -> MappedSpan:
    values = patch.values
    start = values.get("start_time_us") or patch.first_seen_us
    end = values.get("end_time_us")
    obs_type = patch.type or "SPAN"
    row: dict[str, Any] = {
        "trace_id": patch.trace_id,
        "id": patch.id,
        "parent_observation_id": values.get("parent_observation_id"),
        "type": obs_type,
        "name": values.get("name"),
        "start_time_us": start,
        "end_time_us": max(end, start) if end is not None else (start if obs_type == "EVENT" else None),
        "completion_start_time_us": values.get("completion_start_time_us"),
        "level": values.get("level", "DEFAULT"),
        "status_message": values.get("status_message"),
        "version": values.get("version"),
        "environment": values.get("environment", "default"),
        "input": values.get("input"),
        "output": values.get("output"),
        "metadata": json_values.dumps(patch.metadata) if patch.metadata else "{}",
        "model": values.get("model"),
        "model_parameters": values.get("model_parameters"),
        "service_name": None,
        "scope_name": None,
    }
    _price(row, project_id, patch.usage or {}, patch.usage_stored or {}, patch.cost, pricing)
    facts = TraceFacts(is_root=patch.root, environment=row["environment"])
    return bound_span(MappedSpan(row, facts))


def _updated(project_id: str, old: dict[str, Any], patch: ObservationPatch, pricing: Pricing) -> dict[str, Any]:
    """``old`` with what ``patch`` gives (a new dict; ``old`` is left as it was)."""
    new = dict(old)
    new.update((column, value) for column, value in patch.values.items() if column not in _IMMUTABLE)
    new["io_on_trace"] = unshared(old["io_on_trace"], patch.values)
    if patch.created and patch.type is not None:
        new["type"] = patch.type
    if new["end_time_us"] is not None and new["end_time_us"] < new["start_time_us"]:
        new["end_time_us"] = new["start_time_us"]
    if patch.metadata:
        metadata = _object(old["metadata"])
        metadata.update(patch.metadata)
        new["metadata"] = json_values.dumps(metadata)
    if patch.usage or patch.cost or new["model"] != old["model"]:
        if patch.usage:
            usage, stored = patch.usage, patch.usage_stored or patch.usage
        else:  # the stored counts, read as ingestion reads a usage map
            stored = _object(old["usage_details"])
            usage = normalise_usage(stored) if stored else {}
        provided = patch.cost or (_object(old["cost_details"]) if old["cost_source"] == "provided" else None)
        _price(new, project_id, usage, stored, provided, pricing)
    return bound_span(MappedSpan(new, TraceFacts())).row


def _price(
    row: dict[str, Any],
    project_id: str,
    usage: dict[str, Any],
    stored: dict[str, Any],
    provided: dict[str, float] | None,
    pricing: Pricing,
) -> None:
    """Tokens and cost from the normalised ``usage``; the column keeps ``stored`` (legacy_events._usage)."""
    cost = pricing.cost(project_id, row["model"], usage, provided, row["start_time_us"])
    row["input_tokens"], row["output_tokens"], row["total_tokens"] = token_columns(usage)
    row["usage_details"] = json_values.dumps(stored) if stored else "{}"
    row["cost_details"] = json_values.dumps(cost.details) if cost.details else "{}"
    row["input_cost"], row["output_cost"], row["total_cost"] = cost.input, cost.output, cost.total
    row["cost_source"], row["matched_model_id"] = cost.source, cost.model_id


def _object(text: str | None) -> dict[str, Any]:
    """A stored JSON object column as a dict (anything else is kept under one key)."""
    if not text:
        return {}
    try:
        value = json_values.parse(text)
    except orjson.JSONDecodeError:
        return {"metadata": text}
    return value if isinstance(value, dict) else {"metadata": value}


# --- traces -----------------------------------------------------------------------------------------


def _merge(
    row: dict[str, Any],
    new_spans: list[MappedSpan],
    changed: list[tuple[dict[str, Any], dict[str, Any]]],
    patch: TracePatch | None,
) -> dict[str, Any]:
    merged = dict(row)
    if new_spans:
        earlier = merged["timestamp_us"]
        merged, _ = merge_spans(merged, new_spans)
        if row["observation_count"] == 0:
            # merge_spans takes an empty trace's timestamp for a guess; here it is a trace's own time
            merged["timestamp_us"] = min(merged["timestamp_us"], earlier)
    for old, new in changed:
        _shift(merged, old, new)
    if patch is not None:
        _apply_facts(merged, patch)
    if merged["end_time_us"] is not None:
        merged["latency_us"] = merged["end_time_us"] - merged["timestamp_us"]
    return merged


def _shift(merged: dict[str, Any], old: dict[str, Any], new: dict[str, Any]) -> None:
    """Move the trace's roll-ups from counting ``old`` to counting ``new`` (one observation)."""
    if old["level"] != new["level"]:
        merged[_LEVEL_COUNT.get(old["level"], "default_count")] -= 1
        merged[_LEVEL_COUNT.get(new["level"], "default_count")] += 1
        counted = [level for level, column in _LEVEL_COUNT.items() if merged[column] > 0]
        merged["level"] = max(counted, key=LEVEL_RANK.__getitem__) if counted else "DEBUG"
    for column in _TOKENS:
        merged[column] += new[column] - old[column]
    for column in _COSTS:
        if old[column] != new[column]:
            total = merged[column] if merged[column] is not None else 0.0
            merged[column] = total - (old[column] or 0.0) + (new[column] or 0.0)
    end = new["end_time_us"] or new["start_time_us"]
    if merged["end_time_us"] is None or end > merged["end_time_us"]:
        merged["end_time_us"] = end
    if merged["root_observation_id"] == new["id"]:
        if not merged["name_explicit"]:
            merged["name"] = new["name"]
        for side in ("input", "output"):
            if not merged[f"{side}_explicit"] and new[side] is not None:
                merged[side] = new[side]
    if new["environment"] != "default" and merged["environment"] == "default":
        merged["environment"] = new["environment"]


def _apply_facts(merged: dict[str, Any], patch: TracePatch) -> None:
    facts = bound_span(MappedSpan({"name": None, "model": None, "version": None}, patch.facts)).trace
    if facts.name is not None:
        merged["name"], merged["name_explicit"] = facts.name, True
    for side in ("input", "output"):
        value = getattr(facts, side)
        if value is not None:
            merged[side], merged[f"{side}_explicit"] = value, True
    for column in ("user_id", "session_id", "release", "version"):
        value = getattr(facts, column)
        if value is not None:
            merged[column] = value
    if facts.environment != "default":
        merged["environment"] = facts.environment
    if facts.public:
        merged["public"] = True
    if facts.metadata:
        metadata = merged_metadata(merged["metadata"], [facts.metadata])
        if metadata is not None:
            merged["metadata"] = metadata
    if facts.tags:
        tags = _tags(merged["tags"])
        added = sorted(set(facts.tags) - tags)[: max(0, MAX_TAGS - len(tags))]
        if added:
            merged["tags"] = orjson.dumps(sorted(tags.union(added))).decode()
    if patch.timestamp_us is not None and merged["observation_count"]:
        merged["timestamp_us"] = min(merged["timestamp_us"], patch.timestamp_us)


def _tags(text: str | None) -> set[str]:
    try:
        value = orjson.loads(text or "[]")
    except orjson.JSONDecodeError:
        return set()
    return {tag for tag in value if isinstance(tag, str)} if isinstance(value, list) else set()
