"""Scores written through the public API: validation per data type and config, upsert by id.

A score may name a trace that has not arrived yet (spans are exported asynchronously, a score
often right after the call it rates), so the target is not required to exist. A list is
validated as a whole before anything is written: one bad item rejects the request, never half
of it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, update

from interactiveai.server.clock import now_us, parse_iso_to_us
from interactiveai.server.query.score_configs import ScoreConfig, get_score_config
from interactiveai.server.rollups.dirty import mark_dirty
from interactiveai.server.storage.schema import scores
from interactiveai.server.writes.errors import (
    MAX_ID,
    InvalidInputError,
    checked_text,
    finite_number,
    json_text,
    optional_str,
    optional_text,
)

DATA_TYPES = ("NUMERIC", "BOOLEAN", "CATEGORICAL", "TEXT")
API_SOURCES = ("API", "ANNOTATION")  # EVAL is reserved for the server's own evaluators
MAX_TEXT = 500
MAX_ENVIRONMENT = 40


@dataclass(frozen=True, slots=True)
class _Value:
    value: float | None
    string_value: str | None


def upsert_scores(
    engine: Engine, project_id: str, items: Sequence[Mapping[str, Any]], *, author_user_id: str | None = None
) -> list[str]:
    """Validate every item, then insert or update (by id, within the project) in one transaction.

    Returns the ids in input order. Raises InvalidInputError naming the item and the rule.
    """
    configs: dict[str, ScoreConfig | None] = {}
    rows: list[dict[str, Any]] = []
    with engine.connect() as conn:
        for index, item in enumerate(items):
            where = f"score {index}: " if len(items) > 1 else ""
            try:
                rows.append(_row(conn, project_id, item, configs, author_user_id))
            except InvalidInputError as exc:
                raise InvalidInputError(where + str(exc)) from None
    now = now_us()
    with engine.begin() as conn:
        dirty: list[tuple[str, int | None]] = []  # the hours a score leaves or enters (rollups/dirty.py)
        for row in rows:
            existing = conn.execute(
                select(scores.c.timestamp_us).where(scores.c.project_id == project_id, scores.c.id == row["id"])
            ).first()
            dirty.append((project_id, row["timestamp_us"]))
            if existing is None:
                conn.execute(insert(scores).values(project_id=project_id, created_at_us=now, updated_at_us=now, **row))
            else:
                conn.execute(
                    update(scores)
                    .where(scores.c.project_id == project_id, scores.c.id == row["id"])
                    .values(updated_at_us=now, **row)
                )
                dirty.append((project_id, existing[0]))
        mark_dirty(conn, dirty)
    return [row["id"] for row in rows]


def delete_score(engine: Engine, project_id: str, score_id: str) -> bool:
    """Delete one of the project's scores; False if it has none with that id."""
    with engine.begin() as conn:
        where = (scores.c.project_id == project_id, scores.c.id == score_id)
        mark_dirty(conn, [(project_id, t) for (t,) in conn.execute(select(scores.c.timestamp_us).where(*where))])
        result = conn.execute(delete(scores).where(*where))
    return result.rowcount > 0


def _row(
    conn: Connection,
    project_id: str,
    item: Mapping[str, Any],
    configs: dict[str, ScoreConfig | None],
    author_user_id: str | None,
) -> dict[str, Any]:
    if not isinstance(item, Mapping):
        raise InvalidInputError("a score must be a JSON object")
    score_id = optional_str(item, "id", MAX_ID) or str(uuid.uuid4())
    trace_id = optional_str(item, "traceId", MAX_ID)
    observation_id = optional_str(item, "observationId", MAX_ID)
    session_id = optional_str(item, "sessionId", 1000)
    dataset_run_id = optional_str(item, "datasetRunId", MAX_ID)
    if observation_id and not trace_id:
        raise InvalidInputError("observationId requires traceId")
    if not (trace_id or session_id or dataset_run_id):
        raise InvalidInputError("a score needs a target: traceId, sessionId or datasetRunId")

    config = _config(conn, project_id, optional_str(item, "configId", MAX_ID), configs)
    raw_type = item.get("dataType")
    data_type = str(raw_type).upper() if raw_type is not None else None
    if data_type is not None and data_type not in DATA_TYPES:
        raise InvalidInputError(f"dataType must be one of {', '.join(DATA_TYPES)}")
    if config is not None:
        if data_type is not None and data_type != config.data_type:
            raise InvalidInputError(f"dataType {data_type} does not match the config's dataType {config.data_type}")
        data_type = config.data_type
        name: str | None = config.name  # the config names the score
    else:
        name = optional_str(item, "name", 200)
    if not name:
        raise InvalidInputError("name is required (or a configId whose name is used)")
    if "value" not in item or item["value"] is None:
        raise InvalidInputError("value is required")
    raw_value = item["value"]
    if data_type is None:
        data_type = _infer(raw_value)
    value = _VALIDATORS[data_type](raw_value, config)

    raw_source = item.get("source")
    if raw_source is None or raw_source == "":
        source = "API"
    else:  # a name, in any case (false or 0 is no source)
        source = raw_source.upper() if isinstance(raw_source, str) else ""
    if source not in API_SOURCES:
        raise InvalidInputError(f"source must be one of {', '.join(API_SOURCES)}")
    comment = optional_text(item, "comment")
    metadata = item.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise InvalidInputError("metadata must be a JSON object")
    environment = optional_str(item, "environment", MAX_ENVIRONMENT) or "default"
    timestamp = item.get("timestamp")
    if timestamp is None:
        timestamp_us = now_us()
    elif not isinstance(timestamp, str):
        raise InvalidInputError("timestamp must be an ISO 8601 date-time string")
    else:
        try:
            timestamp_us = parse_iso_to_us(timestamp)
        except ValueError as exc:
            raise InvalidInputError(f"timestamp: {exc}") from None
    return {
        "id": score_id,
        "trace_id": trace_id,
        "observation_id": observation_id,
        "session_id": session_id,
        "dataset_run_id": dataset_run_id,
        "name": name,
        "value": value.value,
        "string_value": value.string_value,
        "data_type": data_type,
        "source": source,
        "comment": comment,
        "metadata": json_text("metadata", metadata or {}),
        "config_id": config.id if config else None,
        "author_user_id": author_user_id,
        "environment": environment,
        "timestamp_us": timestamp_us,
    }


def _config(
    conn: Connection, project_id: str, config_id: str | None, cache: dict[str, ScoreConfig | None]
) -> ScoreConfig | None:
    if config_id is None:
        return None
    if config_id not in cache:
        cache[config_id] = get_score_config(conn, project_id, config_id)
    config = cache[config_id]
    if config is None:
        raise InvalidInputError(f"score config {config_id!r} does not exist in this project")
    if config.is_archived:
        raise InvalidInputError(f"score config {config.name!r} is archived; new scores cannot use it")
    return config


def _infer(value: Any) -> str:
    if isinstance(value, bool):
        return "BOOLEAN"
    if isinstance(value, int | float):
        return "NUMERIC"
    if isinstance(value, str):
        return "CATEGORICAL"
    raise InvalidInputError("value must be a number or a string")


def _numeric(value: Any, config: ScoreConfig | None) -> _Value:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError("a NUMERIC score's value must be a finite number")
    value = finite_number(value, "a NUMERIC score's value")
    if config is not None:
        if config.min_value is not None and value < config.min_value:
            raise InvalidInputError(f"value {value} is below the config's minValue {config.min_value}")
        if config.max_value is not None and value > config.max_value:
            raise InvalidInputError(f"value {value} is above the config's maxValue {config.max_value}")
    return _Value(float(value), None)


def _boolean(value: Any, _config: ScoreConfig | None) -> _Value:
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        truth = value.strip().lower() == "true"
    elif isinstance(value, bool) or (isinstance(value, int | float) and value in (0, 1)):
        truth = bool(value)
    else:
        raise InvalidInputError("a BOOLEAN score's value must be 0 or 1 (or true/false)")
    return _Value(1.0 if truth else 0.0, "True" if truth else "False")


def _categorical(value: Any, config: ScoreConfig | None) -> _Value:
    categories = (config.categories or []) if config is not None else None
    config_name = config.name if config is not None else ""
    if isinstance(value, str):
        checked_text(value, "value")
        if categories is None:
            return _Value(None, value)
        for category in categories:
            if category["label"] == value:
                return _Value(float(category["value"]), value)
        labels = ", ".join(str(c["label"]) for c in categories)
        raise InvalidInputError(f"value {value!r} is not a category of config {config_name!r}: {labels}")
    if isinstance(value, int | float) and not isinstance(value, bool) and categories is not None:
        for category in categories:
            if category["value"] == value:
                return _Value(float(value), str(category["label"]))
        raise InvalidInputError(f"value {value} is not a category value of config {config_name!r}")
    raise InvalidInputError("a CATEGORICAL score's value must be a string (or a category value of its config)")


def _text(value: Any, _config: ScoreConfig | None) -> _Value:
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_TEXT:
        raise InvalidInputError(f"a TEXT score's value must be a string of 1-{MAX_TEXT} characters")
    return _Value(None, checked_text(value, "value"))


_VALIDATORS = {"NUMERIC": _numeric, "BOOLEAN": _boolean, "CATEGORICAL": _categorical, "TEXT": _text}
