"""CostCalculator: precedence, start dates, regex matching, unknown models, caching and invalidation."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from sqlalchemy import insert

from interactiveai.server.costs.calculator import CostCalculator
from interactiveai.server.costs.models import create_model, delete_model
from interactiveai.server.storage.schema import models

M = 1_000_000
DAY_US = 86_400 * M
T0 = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z
GPT_4O_INPUT, GPT_4O_OUTPUT = 2.50 / M, 10.00 / M  # USD per token (genai-prices data, openai gpt-4o)


def approx(value: float) -> Any:
    return pytest.approx(value, rel=1e-9, abs=1e-15)


def test_provided_cost_wins_over_everything(calc: CostCalculator, engine: Any, project: Any) -> None:
    create_model(engine, project.id, model_name="gpt-4o", match_pattern="^gpt-4o$", input_price=1.0)
    cost = calc.compute(project.id, "gpt-4o", {"input": 10}, {"input": 0.25, "output": 0.5}, T0)
    assert cost.source == "provided"
    assert cost.details == {"input": 0.25, "output": 0.5}
    assert (cost.input, cost.output, cost.total) == (0.25, 0.5, 0.75)

    # A provided total is the total; it is not added to the parts again.
    cost = calc.compute(project.id, "gpt-4o", {"input": 10}, {"input": 0.25, "output": 0.5, "total": 0.8}, T0)
    assert cost.total == 0.8
    # Any key counts as "provided", even for an unknown model and without usage.
    cost = calc.compute(project.id, "no-such-model", {}, {"total": 0.01}, T0)
    assert (cost.source, cost.total, cost.input, cost.output) == ("provided", 0.01, None, None)
    # Detail keys go to input/output by prefix.
    cost = calc.compute("p", "gpt-4o", {}, {"input": 1.0, "input_cached_tokens": 0.5, "output_reasoning_tokens": 2}, T0)
    assert (cost.input, cost.output, cost.total) == (1.5, 2.0, 3.5)


def test_unusable_provided_values_fall_back_to_computing(calc: CostCalculator) -> None:
    cost = calc.compute("p", "gpt-4o", {"input": 1000}, {"input": float("nan"), "x": "1"}, T0)  # type: ignore[dict-item]
    assert cost.source == "catalog"
    assert cost.total == approx(1000 * GPT_4O_INPUT)


def test_project_model_wins_over_catalog(calc: CostCalculator, engine: Any, project: Any) -> None:
    definition = create_model(
        engine,
        project.id,
        model_name="gpt-4o (negotiated)",
        match_pattern="(?i)^(openai/)?gpt-4o$",
        prices={"input": 2e-6, "output": 8e-6, "input_cached_tokens": 0.5e-6},
    )
    usage = {"input": 1000, "input_cached_tokens": 2000, "output": 100, "output_reasoning_tokens": 400}
    cost = calc.compute(project.id, "OpenAI/GPT-4o", usage, None, T0)
    assert cost.source == "project_model"
    assert cost.model_id == definition.id
    assert cost.details["input"] == approx(1000 * 2e-6)
    assert cost.details["input_cached_tokens"] == approx(2000 * 0.5e-6)
    # No reasoning price listed: reasoning tokens are charged at the output price, never free.
    assert cost.details["output_reasoning_tokens"] == approx(400 * 8e-6)
    assert cost.total == approx(0.002 + 0.001 + 0.0008 + 0.0032)
    # The other project still uses the catalog.
    other = calc.compute("someone-else", "gpt-4o", usage, None, T0)
    assert other.source == "catalog"


def test_total_price_definition(calc: CostCalculator, engine: Any, project: Any) -> None:
    create_model(engine, project.id, model_name="flat", match_pattern="^flat-model$", total_price=1e-6)
    cost = calc.compute(project.id, "flat-model", {"input": 300, "output": 700, "total": 1000}, None, T0)
    assert cost.details == {"total": approx(0.001)}
    assert (cost.total, cost.input, cost.output) == (approx(0.001), None, None)


def test_start_dates_newest_applicable_wins(calc: CostCalculator, engine: Any, project: Any) -> None:
    old = create_model(engine, project.id, model_name="m", match_pattern="^my-model$", input_price=1e-6)
    new = create_model(
        engine, project.id, model_name="m", match_pattern="^my-model$", input_price=3e-6, start_date_us=T0 + DAY_US
    )
    future = create_model(
        engine, project.id, model_name="m", match_pattern="^my-model$", input_price=9e-6, start_date_us=T0 + 30 * DAY_US
    )
    usage = {"input": 1000}
    before = calc.compute(project.id, "my-model", usage, None, T0)
    at_start = calc.compute(project.id, "my-model", usage, None, T0 + DAY_US)
    after = calc.compute(project.id, "my-model", usage, None, T0 + 2 * DAY_US)
    much_later = calc.compute(project.id, "my-model", usage, None, T0 + 31 * DAY_US)
    assert (before.model_id, before.total) == (old.id, approx(0.001))
    assert (at_start.model_id, at_start.total) == (new.id, approx(0.003))
    assert (after.model_id, after.total) == (new.id, approx(0.003))
    assert (much_later.model_id, much_later.total) == (future.id, approx(0.009))


def test_dated_definition_not_started_yet_leaves_the_catalog(calc: CostCalculator, engine: Any, project: Any) -> None:
    create_model(engine, project.id, model_name="gpt-4o", match_pattern="^gpt-4o$", input_price=1.0, start_date_us=T0)
    cost = calc.compute(project.id, "gpt-4o", {"input": 1000}, None, T0 - 1)
    assert cost.source == "catalog"
    assert cost.total == approx(1000 * GPT_4O_INPUT)


def test_regex_matching_rules(calc: CostCalculator, engine: Any, project: Any) -> None:
    create_model(engine, project.id, model_name="ft", match_pattern="^ft:gpt-4o-mini:acme:", input_price=1e-6)
    create_model(engine, project.id, model_name="CaseSensitive", match_pattern="^Exact-Model$", input_price=2e-6)
    usage = {"input": 1000}
    # Unanchored at the end: every fine-tune of the organisation matches.
    assert calc.compute(project.id, "ft:gpt-4o-mini:acme:v2:abc", usage, None, T0).total == approx(0.001)
    # Without (?i) a pattern is case-sensitive.
    assert calc.compute(project.id, "Exact-Model", usage, None, T0).total == approx(0.002)
    assert calc.compute(project.id, "exact-model", usage, None, T0).source is None


def test_unknown_model_no_model_no_usage(calc: CostCalculator) -> None:
    for model, usage in (("totally-unknown-llm", {"input": 5}), (None, {"input": 5}), ("gpt-4o", {})):
        cost = calc.compute("p", model, usage, None, T0)
        assert (cost.details, cost.total, cost.input, cost.output, cost.source) == ({}, None, None, None, None)
    # A known model with nothing priceable still reports the model it matched.
    assert calc.compute("p", "gpt-4o", {"total": 10}, None, T0).model_id == "openai/gpt-4o"


def test_definition_change_applies_to_later_computes(calc: CostCalculator, engine: Any, project: Any) -> None:
    usage = {"input": 1000}
    assert calc.compute(project.id, "gpt-4o", usage, None, T0).source == "catalog"  # now cached
    created = create_model(engine, project.id, model_name="gpt-4o", match_pattern="^gpt-4o$", input_price=5e-6)
    cost = calc.compute(project.id, "gpt-4o", usage, None, T0)
    assert (cost.source, cost.total) == ("project_model", approx(0.005))
    assert delete_model(engine, project.id, created.id)
    assert calc.compute(project.id, "gpt-4o", usage, None, T0).source == "catalog"


def test_a_change_made_by_another_replica_is_seen_after_the_ttl(engine: Any, project: Any) -> None:
    calc = CostCalculator(engine, ttl_seconds=0.2)
    assert calc.compute(project.id, "replica-model", {"input": 10}, None, T0).source is None
    # Written straight to the database, as another server process would: no in-process notification.
    with engine.begin() as conn:
        conn.execute(
            insert(models).values(
                project_id=project.id,
                id="model-from-elsewhere",
                model_name="r",
                match_pattern="^replica-model$",
                unit="TOKENS",
                prices=json.dumps({"input": 1e-3}),
                created_at_us=T0,
                updated_at_us=T0,
            )
        )
    assert calc.compute(project.id, "replica-model", {"input": 10}, None, T0).source is None  # still cached
    time.sleep(0.25)
    cost = calc.compute(project.id, "replica-model", {"input": 10}, None, T0)
    assert (cost.source, cost.model_id, cost.total) == ("project_model", "model-from-elsewhere", approx(0.01))


def test_explicit_invalidate(engine: Any, project: Any) -> None:
    calc = CostCalculator(engine, ttl_seconds=3600)
    assert calc.compute(project.id, "inv-model", {"input": 10}, None, T0).source is None
    with engine.begin() as conn:
        conn.execute(
            insert(models).values(
                project_id=project.id,
                id="model-x",
                model_name="x",
                match_pattern="^inv-model$",
                unit="TOKENS",
                prices=json.dumps({"input": 1e-3}),
                created_at_us=T0,
                updated_at_us=T0,
            )
        )
    calc.invalidate(project.id)
    assert calc.compute(project.id, "inv-model", {"input": 10}, None, T0).source == "project_model"
    calc.invalidate()
    assert calc.compute(project.id, "inv-model", {"input": 10}, None, T0).source == "project_model"


def test_rows_with_unusable_patterns_are_skipped(calc: CostCalculator, engine: Any, project: Any) -> None:
    with engine.begin() as conn:
        for i, pattern in enumerate(["(a+)+$", "[unclosed", "^ok-model$"]):
            conn.execute(
                insert(models).values(
                    project_id=project.id,
                    id=f"model-{i}",
                    model_name=f"n{i}",
                    match_pattern=pattern,
                    unit="TOKENS",
                    prices=json.dumps({"input": 1e-6}),
                    created_at_us=T0,
                    updated_at_us=T0,
                )
            )
    assert (
        calc.compute(project.id, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", {"input": 1}, None, T0).source
        is None
    )
    assert calc.compute(project.id, "ok-model", {"input": 1000}, None, T0).model_id == "model-2"


def test_a_failed_reload_keeps_the_last_known_definitions_and_names(engine: Any, project: Any) -> None:
    from sqlalchemy import text

    create_model(engine, project.id, model_name="m", match_pattern="^kept-model$", input_price=1e-3)
    calc = CostCalculator(engine, ttl_seconds=0.05)
    assert calc.compute(project.id, "kept-model", {"input": 10}, None, T0).source == "project_model"
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE models RENAME TO models_away"))
    try:
        time.sleep(0.1)
        assert calc.compute(project.id, "kept-model", {"input": 10}, None, T0).source == "project_model"
        assert calc.compute(project.id, "kept-model-2", {"input": 10}, None, T0).source is None
    finally:
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE models_away RENAME TO models"))
