"""Score configs: create and update, with the rules a config must follow.

Rules (as the reference API): name 1–35 characters of letters, digits, ``_ .()-``; NUMERIC may
have min/max (max > min); CATEGORICAL needs categories with unique labels and values; BOOLEAN
has the fixed categories True=1 and False=0; TEXT has neither. Configs are archived, never
deleted, because scores keep pointing at them.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

import orjson
from sqlalchemy import Engine, insert, update

from interactiveai.server.clock import now_us
from interactiveai.server.query.score_configs import ScoreConfig, get_score_config
from interactiveai.server.storage.schema import score_configs
from interactiveai.server.writes.errors import InvalidInputError, checked_text, finite_number, optional_text

DATA_TYPES = ("NUMERIC", "CATEGORICAL", "BOOLEAN", "TEXT")
BOOLEAN_CATEGORIES = [{"label": "True", "value": 1}, {"label": "False", "value": 0}]
_NAME = re.compile(r"^[\w .()-]{1,35}$")
_PATCHABLE = ("name", "isArchived", "description", "minValue", "maxValue", "categories")


def create_score_config(engine: Engine, project_id: str, body: Mapping[str, Any]) -> ScoreConfig:
    """Validate and store a new config. Raises InvalidInputError with the broken rule."""
    values = _validated(body)
    config_id = str(uuid.uuid4())
    now = now_us()
    with engine.begin() as conn:
        conn.execute(
            insert(score_configs).values(
                project_id=project_id, id=config_id, created_at_us=now, updated_at_us=now, **values
            )
        )
    created = get_score_config(engine, project_id, config_id)
    assert created is not None
    return created


def update_score_config(
    engine: Engine, project_id: str, config_id: str, patch: Mapping[str, Any]
) -> ScoreConfig | None:
    """Apply a partial update (name, isArchived, description, min/max, categories) and re-validate.

    Returns None when the project has no such config.
    """
    current = get_score_config(engine, project_id, config_id)
    if current is None:
        return None
    if "dataType" in patch and patch["dataType"] is not None and str(patch["dataType"]).upper() != current.data_type:
        raise InvalidInputError("dataType of a score config cannot be changed; create a new config instead")
    merged: dict[str, Any] = {
        "name": current.name,
        "dataType": current.data_type,
        "isArchived": current.is_archived,
        "description": current.description,
        "minValue": current.min_value,
        "maxValue": current.max_value,
        "categories": current.categories,
    }
    for key in _PATCHABLE:
        if key in patch:
            merged[key] = patch[key]
    values = _validated(merged)
    with engine.begin() as conn:
        conn.execute(
            update(score_configs)
            .where(score_configs.c.project_id == project_id, score_configs.c.id == config_id)
            .values(updated_at_us=now_us(), **values)
        )
    return get_score_config(engine, project_id, config_id)


def _validated(body: Mapping[str, Any]) -> dict[str, Any]:
    name = body.get("name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidInputError("name must be 1-35 characters: letters, digits, spaces and _ . ( ) -")
    data_type = str(body.get("dataType") or "").upper()
    if data_type not in DATA_TYPES:
        raise InvalidInputError(f"dataType must be one of {', '.join(DATA_TYPES)}")
    is_archived = body.get("isArchived")
    if is_archived is None:
        is_archived = False
    elif not isinstance(is_archived, bool):
        raise InvalidInputError("isArchived must be a boolean")
    description = optional_text(body, "description")
    min_value = _optional_number(body.get("minValue"), "minValue")
    max_value = _optional_number(body.get("maxValue"), "maxValue")
    if data_type != "NUMERIC" and (min_value is not None or max_value is not None):
        raise InvalidInputError("minValue and maxValue are only allowed for NUMERIC score configs")
    if min_value is not None and max_value is not None and max_value <= min_value:
        raise InvalidInputError("maxValue must be greater than minValue")
    categories = _categories(data_type, body.get("categories"))
    return {
        "name": name,
        "data_type": data_type,
        "is_archived": is_archived,
        "description": description,
        "min_value": min_value,
        "max_value": max_value,
        "categories": None if categories is None else orjson.dumps(categories).decode(),
    }


def _optional_number(value: Any, field: str) -> float | None:
    return None if value is None else finite_number(value, field)


def _categories(data_type: str, raw: Any) -> list[dict[str, Any]] | None:
    if data_type == "BOOLEAN":
        if raw not in (None, [], BOOLEAN_CATEGORIES):
            raise InvalidInputError(
                'BOOLEAN score configs have the fixed categories [{"label": "True", "value": 1}, '
                '{"label": "False", "value": 0}]'
            )
        return BOOLEAN_CATEGORIES
    if data_type != "CATEGORICAL":
        if raw not in (None, []):
            raise InvalidInputError("categories are only allowed for CATEGORICAL and BOOLEAN score configs")
        return None
    if not isinstance(raw, list) or not raw:
        raise InvalidInputError("CATEGORICAL score configs need a non-empty list of categories {label, value}")
    labels: set[str] = set()
    values: set[float] = set()
    result: list[dict[str, Any]] = []
    for item in raw:
        label = item.get("label") if isinstance(item, dict) else None
        value = item.get("value") if isinstance(item, dict) else None
        if not isinstance(label, str) or not label:
            raise InvalidInputError("every category needs a non-empty string label")
        checked_text(label, "a category label")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInputError(f"category {label!r} needs a numeric value")
        finite_number(value, f"the value of category {label!r}")
        if label in labels or value in values:
            raise InvalidInputError("category labels and values must be unique")
        labels.add(label)
        values.add(value)
        result.append({"label": label, "value": value})
    return result
