from __future__ import annotations

from typing import Any

import pytest

from interactiveai.server.query.scores import get_score
from interactiveai.server.writes.errors import InvalidInputError
from interactiveai.server.writes.score_configs import create_score_config, update_score_config
from interactiveai.server.writes.scores import delete_score, upsert_scores


def test_upsert_keeps_created_at_and_scopes_by_project(engine: Any, project: Any, other_project: Any) -> None:
    (score_id,) = upsert_scores(engine, project.id, [{"id": "x", "traceId": "t", "name": "n", "value": 1}])
    first = get_score(engine, project.id, score_id)
    upsert_scores(engine, project.id, [{"id": "x", "traceId": "t", "name": "n", "value": 2}])
    second = get_score(engine, project.id, score_id)
    assert first is not None and second is not None
    assert second.value == 2.0 and second.created_at_us == first.created_at_us
    assert get_score(engine, other_project.id, "x") is None
    assert not delete_score(engine, other_project.id, "x")
    assert delete_score(engine, project.id, "x")


def test_errors_name_the_item(engine: Any, project: Any) -> None:
    with pytest.raises(InvalidInputError, match=r"^score 1: value is required"):
        upsert_scores(engine, project.id, [{"traceId": "t", "name": "n", "value": 1}, {"traceId": "t", "name": "n"}])
    with pytest.raises(InvalidInputError, match=r"^value is required"):
        upsert_scores(engine, project.id, [{"traceId": "t", "name": "n"}])


def test_categorical_config_maps_labels_and_values(engine: Any, project: Any) -> None:
    config = create_score_config(
        engine,
        project.id,
        {"name": "tone", "dataType": "CATEGORICAL", "categories": [{"label": "ok", "value": 1}]},
    )
    (by_label,) = upsert_scores(engine, project.id, [{"traceId": "t", "value": "ok", "configId": config.id}])
    stored = get_score(engine, project.id, by_label)
    assert stored is not None and (stored.value, stored.string_value, stored.name) == (1.0, "ok", "tone")
    renamed = update_score_config(engine, project.id, config.id, {"name": "tone v2"})
    assert renamed is not None and renamed.name == "tone v2" and renamed.categories == config.categories
    assert update_score_config(engine, "nope", config.id, {"name": "x"}) is None
