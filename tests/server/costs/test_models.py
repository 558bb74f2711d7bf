"""Model-definition functions (used by the API, the CLI and the UI settings page), on both engines."""

from __future__ import annotations

from typing import Any

import pytest

from interactiveai.server.costs.models import (
    ModelConflictError,
    ModelValidationError,
    create_model,
    delete_model,
    get_model,
    list_models,
)


def test_create_normalises_and_stores(engine: Any, project: Any) -> None:
    created = create_model(
        engine,
        project.id,
        model_name="  acme  ",
        match_pattern="^acme$",
        unit="tokens",
        prices={"input": 1, "output": {"price": 2e-6}},  # the reference's answer shape is accepted back
    )
    assert created.model_name == "acme" and created.unit == "TOKENS"
    assert created.prices == {"input": 1.0, "output": 2e-6}
    assert (created.input_price, created.output_price, created.total_price) == (1.0, 2e-6, None)
    assert get_model(engine, project.id, created.id) == created


def test_conflicts(engine: Any, project: Any) -> None:
    create_model(engine, project.id, model_name="a", match_pattern="^a$", input_price=1.0)
    with pytest.raises(ModelConflictError):
        create_model(engine, project.id, model_name="a", match_pattern="^a.*$", input_price=2.0)
    # Another unit is another definition.
    create_model(engine, project.id, model_name="a", match_pattern="^a$", input_price=1.0, unit="CHARACTERS")
    with_date = create_model(engine, project.id, model_name="a", match_pattern="^a$", input_price=1.0, start_date_us=5)
    assert with_date.start_date_us == 5
    with pytest.raises(ModelConflictError):
        create_model(engine, project.id, model_name="a", match_pattern="^a$", input_price=1.0, start_date_us=5)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"model_name": "", "match_pattern": "^a$", "input_price": 1.0},
        {"model_name": "x" * 201, "match_pattern": "^a$", "input_price": 1.0},
        {"model_name": "a", "match_pattern": "(a*)*", "input_price": 1.0},
        {"model_name": "a", "match_pattern": "^a$", "input_price": float("nan")},
        {"model_name": "a", "match_pattern": "^a$", "input_price": float("inf")},
        {"model_name": "a", "match_pattern": "^a$", "prices": {"": 1.0}},
        {"model_name": "a", "match_pattern": "^a$", "prices": {f"k{i}": 1.0 for i in range(51)}},
        {"model_name": "a", "match_pattern": "^a$", "input_price": 1.0, "start_date_us": -1},
    ],
)
def test_invalid_definitions(engine: Any, project: Any, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ModelValidationError):
        create_model(engine, project.id, **kwargs)
    assert list_models(engine, project.id) == ([], 0)


def test_list_and_delete_are_scoped_by_project(engine: Any, project: Any, other_project: Any) -> None:
    mine = [
        create_model(engine, project.id, model_name=f"m{i}", match_pattern=f"^m{i}$", input_price=1.0) for i in range(3)
    ]
    theirs = create_model(engine, other_project.id, model_name="t", match_pattern="^t$", input_price=1.0)
    items, total = list_models(engine, project.id, page=1, limit=2)
    assert total == 3 and [m.id for m in items] == [mine[2].id, mine[1].id]
    items, _ = list_models(engine, project.id, page=2, limit=2)
    assert [m.id for m in items] == [mine[0].id]
    assert get_model(engine, project.id, theirs.id) is None
    assert delete_model(engine, project.id, theirs.id) is False
    assert get_model(engine, other_project.id, theirs.id) == theirs
    assert delete_model(engine, other_project.id, theirs.id) is True
