"""Model-definition functions (used by the API, the CLI and the UI settings page), on both engines."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import insert

from interactiveai.server.clock import MAX_US
from interactiveai.server.costs import models as model_store
from interactiveai.server.costs.calculator import CostCalculator
from interactiveai.server.costs.models import (
    ModelConflictError,
    ModelValidationError,
    create_model,
    delete_model,
    get_model,
    list_models,
    parse_start_date,
)
from interactiveai.server.storage.schema import models


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
        {"model_name": "a\x00b", "match_pattern": "^a$", "input_price": 1.0},
        {"model_name": "a\tb", "match_pattern": "^a$", "input_price": 1.0},
        {"model_name": "a\ud800", "match_pattern": "^a$", "input_price": 1.0},
        {"model_name": None, "match_pattern": "^a$", "input_price": 1.0},
        {"model_name": "a", "match_pattern": "^(a|a){1,60000}$", "input_price": 1.0},
        {"model_name": "a", "match_pattern": "^a\x00$", "input_price": 1.0},
        {"model_name": "a", "match_pattern": "^a$", "input_price": float("nan")},
        {"model_name": "a", "match_pattern": "^a$", "input_price": float("inf")},
        {"model_name": "a", "match_pattern": "^a$", "input_price": -1e-9},
        {"model_name": "a", "match_pattern": "^a$", "input_price": 1e308},
        {"model_name": "a", "match_pattern": "^a$", "input_price": 2**64},
        {"model_name": "a", "match_pattern": "^a$", "prices": {"input": 10**400}},
        {"model_name": "a", "match_pattern": "^a$", "prices": {"input": True}},
        {"model_name": "a", "match_pattern": "^a$", "prices": {"": 1.0}},
        {"model_name": "a", "match_pattern": "^a$", "prices": {"in put": 1.0}},
        {"model_name": "a", "match_pattern": "^a$", "prices": {"in\x00put": 1.0}},
        {"model_name": "a", "match_pattern": "^a$", "prices": {"x" * 101: 1.0}},
        {"model_name": "a", "match_pattern": "^a$", "prices": {f"k{i}": 1.0 for i in range(51)}},
        {"model_name": "a", "match_pattern": "^a$", "prices": {"input": 1.0, " input": 2.0}},
        {"model_name": "a", "match_pattern": "^a$", "total_price": 1.0, "input_price": 1.0},
        {"model_name": "a", "match_pattern": "^a$", "input_price": 1.0, "unit": "PARSECS"},
        {"model_name": "a", "match_pattern": "^a$", "input_price": 1.0, "unit": 5},
        {"model_name": "a", "match_pattern": "^a$", "input_price": 1.0, "tokenizer_id": "mine"},
        {"model_name": "a", "match_pattern": "^a$", "input_price": 1.0, "start_date_us": -1},
        {"model_name": "a", "match_pattern": "^a$", "input_price": 1.0, "start_date_us": MAX_US + 1},
        {"model_name": "a", "match_pattern": "^a$", "input_price": 1.0, "start_date_us": 2**64},
        {"model_name": "a", "match_pattern": "^a$", "input_price": 1.0, "start_date_us": True},
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


def test_extreme_accepted_values_are_stored_exactly(engine: Any, project: Any) -> None:
    created = create_model(
        engine,
        project.id,
        model_name="m" * 200,
        match_pattern="^" + "m" * 499,
        start_date_us=MAX_US,
        prices={"input": 1_000_000, "output": 0, "input_cached_tokens": 5e-324, "x." + "y" * 98: 1},
        tokenizer_id="claude",
    )
    assert get_model(engine, project.id, created.id) == created
    assert created.prices["input"] == 1e6 and created.start_date_us == MAX_US


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-01", 1_767_225_600_000_000),
        ("2026-01-01T00:00:00Z", 1_767_225_600_000_000),
        ("2026-01-01T00:00:00.000001+00:00", 1_767_225_600_000_001),  # exact to the microsecond
        ("2026-01-01T00:00:00-23:59", 1_767_225_600_000_000 + (23 * 60 + 59) * 60_000_000),
        ("1970-01-01T00:00:00Z", 0),
        ("9999-12-31T23:59:59.999999Z", MAX_US),
    ],
)
def test_start_dates_accepted(text: str, expected: int) -> None:
    assert parse_start_date(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "9999-12-31T23:59:59-23:59",  # year 10000 in UTC: the date
        "9999-12-31T23:59:59.999999-00:01",
        "1970-01-01T00:00:00+00:01",  # 1969 in UTC
        "0001-01-01T00:00:00+23:59",
        "1969-12-31",
        "10000-01-01",
        "2026-02-30",
        "yesterday",
        "",
        "2026-01-01\x00",
        "2026-01-01\ud800",
        "9" * 100_000,
    ],
)
def test_start_dates_refused(text: str) -> None:
    with pytest.raises(ModelValidationError, match="startDate"):
        parse_start_date(text)


def test_a_project_has_at_most_max_definitions(engine: Any, project: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model_store, "MAX_DEFINITIONS", 3)
    for i in range(3):
        create_model(engine, project.id, model_name=f"m{i}", match_pattern=f"^m{i}$", input_price=1.0)
    with pytest.raises(ModelValidationError, match="at most|the most"):
        create_model(engine, project.id, model_name="m3", match_pattern="^m3$", input_price=1.0)
    assert list_models(engine, project.id)[1] == 3


def test_a_definition_for_a_missing_project_is_refused(engine: Any) -> None:
    with pytest.raises(ModelValidationError, match="no project"):
        create_model(engine, "no-such-project", model_name="m", match_pattern="^m$", input_price=1.0)


def _insert_raw(engine: Any, project_id: str, model_id: str, **values: Any) -> None:
    row = {"project_id": project_id, "id": model_id, "model_name": model_id, "match_pattern": "^x$",
           "start_date_us": None, "unit": "TOKENS", "prices": '{"input": 1e-06}', "tokenizer_id": None,
           "created_at_us": 1, "updated_at_us": 1, **values}  # fmt: skip
    with engine.begin() as conn:
        conn.execute(insert(models).values(**row))


def test_rows_written_around_the_api_are_read_and_priced_safely(engine: Any, project: Any) -> None:
    """An older version (or a hand-written row) may hold what create_model now refuses."""
    _insert_raw(engine, project.id, "m-catastrophic", match_pattern="^(a|a){1,60000}$")
    _insert_raw(engine, project.id, "m-future", match_pattern="^a", start_date_us=253_402_387_139_000_000)  # 10000
    _insert_raw(engine, project.id, "m-past", match_pattern="^b", start_date_us=-5)
    bad_prices = json.dumps({"input": 1e308 * 10, "output": "x", "total": -1, "ok": 2e-6, "huge": 10**30})
    _insert_raw(engine, project.id, "m-prices", match_pattern="^c", prices=bad_prices)
    _insert_raw(engine, project.id, "m-notjson", match_pattern="^d", prices="{not json")

    listed, total = list_models(engine, project.id)
    assert total == 5
    by_id = {m.id: m for m in listed}
    assert by_id["m-prices"].prices == {"ok": 2e-6}
    assert by_id["m-notjson"].prices == {}
    calc = CostCalculator(engine)
    t = 1_767_225_600_000_000
    assert calc.compute(project.id, "a" * 34 + "!", {"input": 10}, None, t).source != "project_model"
    assert calc.compute(project.id, "b", {"input": 10}, None, t).model_id == "m-past"
    priced = calc.compute(project.id, "c", {"ok": 10, "input": 10, "output": 10}, None, t)
    assert priced.model_id == "m-prices" and priced.details == {"ok": pytest.approx(2e-5), "total": pytest.approx(2e-5)}
