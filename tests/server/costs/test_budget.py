"""The per-project budget of name-resolution time: a token bucket, and what pricing does without budget."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from sqlalchemy import insert

from interactiveai.server.costs.budget import BURST_SECONDS, RATE, MatchBudget
from interactiveai.server.costs.calculator import CostCalculator
from interactiveai.server.costs.catalog import Catalog
from interactiveai.server.costs.models import create_model
from interactiveai.server.storage.schema import models

T0 = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z
USAGE = {"input": 1000}


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_starts_full_refills_at_its_rate_and_never_beyond_its_burst() -> None:
    clock = FakeClock()
    budget = MatchBudget(rate=0.01, burst_seconds=0.1, clock=clock)
    assert budget.allowance("p") == pytest.approx(0.1)
    budget.charge("p", 0.08)
    assert budget.allowance("p") == pytest.approx(0.02)
    budget.charge("p", 0.05)  # the search in progress may overshoot: a debt
    assert budget.allowance("p") == pytest.approx(-0.03)
    clock.now += 2.0
    assert budget.allowance("p") == pytest.approx(-0.01)  # repaid at 10 ms per second
    clock.now += 60.0
    assert budget.allowance("p") == pytest.approx(0.1)  # never more than the burst
    assert budget.allowance("other") == pytest.approx(0.1)  # one project's bucket is its own


def test_debt_is_bounded_so_one_stall_does_not_lock_a_project_out_for_long() -> None:
    clock = FakeClock()
    budget = MatchBudget(rate=0.01, burst_seconds=0.1, clock=clock)
    budget.charge("p", 30.0)  # the machine paused inside one search
    assert budget.allowance("p") == pytest.approx(-0.1)
    clock.now += 20.0
    assert budget.allowance("p") == pytest.approx(0.1)


def test_buckets_of_idle_projects_are_dropped() -> None:
    clock = FakeClock()
    budget = MatchBudget(clock=clock)
    for i in range(5_000):
        budget.charge(f"p{i}", 0.001)
        clock.now += 1.0  # each bucket is full again a second later
    assert len(budget._buckets) <= 1_001


def test_the_defaults_are_what_the_documentation_says() -> None:
    assert (RATE, BURST_SECONDS) == (0.01, 0.1)


def _no_budget() -> MatchBudget:
    return MatchBudget(rate=0.0, burst_seconds=0.0)


def test_without_budget_a_new_name_is_priced_without_definitions_and_the_source_says_so(
    engine: Any, project: Any
) -> None:
    create_model(engine, project.id, model_name="mine", match_pattern="^gpt-4o$", input_price=1e-3)
    catalog = Catalog()
    catalog.resolve("gpt-4o")  # as another project's span would have: the catalog has the answer at hand
    calc = CostCalculator(engine, catalog=catalog, budget=_no_budget())
    cost = calc.compute(project.id, "gpt-4o", USAGE, None, T0)
    assert (cost.source, cost.model_id) == ("catalog_over_budget", "openai/gpt-4o")
    assert cost.total == pytest.approx(1000 * 2.5e-6)
    # Not in the catalog either: no cost, and the source says why.
    cost = calc.compute(project.id, "unheard-of-model-7", USAGE, None, T0)
    assert (cost.source, cost.total, cost.model_id) == ("over_budget", None, None)
    # A provided cost needs no resolving: it is stored as always.
    assert calc.compute(project.id, "unheard-of-model-8", USAGE, {"total": 0.5}, T0).source == "provided"
    # Spans without a model are untouched.
    assert calc.compute(project.id, None, USAGE, None, T0).source is None


def test_such_an_answer_is_not_remembered_the_name_is_resolved_once_budget_returns(engine: Any, project: Any) -> None:
    created = create_model(engine, project.id, model_name="mine", match_pattern="^my-model$", input_price=1e-3)
    clock = FakeClock()
    budget = MatchBudget(rate=0.01, burst_seconds=0.1, clock=clock)
    budget.charge(project.id, 0.3)  # spent (and in debt)
    calc = CostCalculator(engine, budget=budget)
    assert calc.compute(project.id, "my-model", USAGE, None, T0).source == "over_budget"
    assert calc.compute(project.id, "my-model", USAGE, None, T0).source == "over_budget"
    clock.now += 20.0
    cost = calc.compute(project.id, "my-model", USAGE, None, T0)
    assert (cost.source, cost.model_id, cost.total) == ("project_model", created.id, pytest.approx(1.0))
    budget.charge(project.id, 1.0)
    assert calc.compute(project.id, "my-model", USAGE, None, T0).source == "project_model"  # remembered now


def test_one_project_without_budget_leaves_the_others_alone(engine: Any, project: Any, other_project: Any) -> None:
    for p in (project, other_project):
        create_model(engine, p.id, model_name="mine", match_pattern="^my-model", input_price=1e-3)
    calc = CostCalculator(engine)
    calc.budget.charge(project.id, 1.0)
    assert calc.compute(project.id, "my-model-1", USAGE, None, T0).source == "over_budget"
    assert calc.compute(other_project.id, "my-model-1", USAGE, None, T0).source == "project_model"


def test_an_interrupted_scan_resumes_where_it_stopped(engine: Any, project: Any) -> None:
    """With budget for one search per span, a name is resolved over as many spans as definitions."""
    with engine.begin() as conn:
        for i in range(6):  # created_at orders them: the newest (i = 5) is searched first
            conn.execute(
                insert(models).values(
                    project_id=project.id,
                    id=f"m{i}",
                    model_name=f"m{i}",
                    match_pattern="^slow-model$" if i == 0 else f"^other-{i}$",
                    unit="TOKENS",
                    prices=json.dumps({"input": 1e-3}),
                    created_at_us=T0 + i,
                    updated_at_us=T0,
                )
            )
    clock = FakeClock()
    budget = MatchBudget(rate=1.0, burst_seconds=1e-9, clock=clock)  # a deadline already past: one search
    calc = CostCalculator(engine, budget=budget)
    sources = []
    for _ in range(7):
        clock.now += 1.0
        sources.append(calc.compute(project.id, "slow-model", USAGE, None, T0).source)
    assert sources == ["over_budget"] * 5 + ["project_model"] * 2

    # A definition found among the first patterns searched already is the right one.
    clock.now += 1.0
    cost = calc.compute(project.id, "other-5", USAGE, None, T0)
    assert (cost.source, cost.model_id) == ("project_model", "m5")


def test_names_stay_resolved_across_an_unchanged_reload_and_not_across_a_change(engine: Any, project: Any) -> None:
    create_model(engine, project.id, model_name="mine", match_pattern="^my-model$", input_price=1e-3)
    calc = CostCalculator(engine, ttl_seconds=0.05, budget=MatchBudget(rate=0.0, burst_seconds=1.0))
    assert calc.compute(project.id, "my-model", USAGE, None, T0).source == "project_model"
    calc.budget.charge(project.id, 10.0)  # no budget from now on
    time.sleep(0.1)  # the definitions are reloaded: the same ones
    assert calc.compute(project.id, "my-model", USAGE, None, T0).source == "project_model"
    assert calc.compute(project.id, "my-model-2", USAGE, None, T0).source == "over_budget"
    create_model(engine, project.id, model_name="newer", match_pattern="^my-", input_price=2e-3)
    # The definitions changed: the name must be matched again, which needs budget.
    assert calc.compute(project.id, "my-model", USAGE, None, T0).source == "over_budget"


def test_projects_idle_for_long_are_forgotten(engine: Any, project: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from interactiveai.server.costs import calculator

    monkeypatch.setattr(calculator, "_IDLE_SECONDS", 0.05)
    calc = CostCalculator(engine, ttl_seconds=0.01)
    calc.compute(project.id, "gpt-4o", USAGE, None, T0)
    time.sleep(0.1)
    calc.compute("another-project", "gpt-4o", USAGE, None, T0)
    assert list(calc._projects) == ["another-project"]
