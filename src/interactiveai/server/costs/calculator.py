"""The cost of one observation, computed once at ingestion and stored with the matched model.

Precedence (DESIGN.md §4): a cost the client provides (any key) > the project's own model
definitions (regex match patterns, newest applicable start date) > the packaged catalog. An
unknown model gives "no cost", never an error: ingestion must not fail because of pricing.

``compute`` runs in the ingestion writer thread for every observation, so nothing on its path
touches the database more than once per project every ``ttl_seconds``: each project's definitions
are loaded together and kept with the per-model-name answers (``resolver.ProjectNames``). The
models API calls ``invalidate`` on change (``notify_models_changed`` reaches every calculator of
this process); other replicas see a change when their cache expires, hence the short TTL. A reload
that finds the same definitions keeps the names resolved so far.

Resolving a name not seen before is paid from the project's budget (``budget.py``). When it is
spent, the name is priced with what is known without searching: a definition already found to
match, else the catalog's answer if the catalog has one at hand, with the cost source saying so
(``catalog_over_budget``, or ``over_budget`` with no cost). Such an answer is not remembered: the
name is resolved properly once the project has budget again. Costs stored meanwhile stay as they
were (costs are never recomputed).
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Engine, select

from interactiveai.server.costs.budget import MatchBudget
from interactiveai.server.costs.catalog import Catalog, default_catalog
from interactiveai.server.costs.patterns import PATTERN_CACHE, CompiledPattern, InvalidPattern
from interactiveai.server.costs.pricing import (
    clean_provided,
    price_with_definition,
    provided_total,
    split,
    stored_prices,
    with_total,
)
from interactiveai.server.costs.resolver import Definition, ProjectNames, Resolved
from interactiveai.server.storage.schema import models

logger = logging.getLogger("interactiveai.server.costs")

DEFAULT_TTL_SECONDS = 15.0
_IDLE_SECONDS = 600.0  # a project not priced for this long is forgotten (its names, not its budget)


@dataclass(frozen=True)
class Cost:
    """What ingestion stores: cost per usage key, the roll-ups, the matched model and the source."""

    details: dict[str, float]
    total: float | None
    input: float | None
    output: float | None
    model_id: str | None
    source: str | None  # "provided" | "project_model" | "catalog" | "catalog_over_budget" | "over_budget" | None


# Most observations have no model and no cost: one shared answer (frozen dataclasses are slow to
# build, and this runs for every ingested span). Callers only read a Cost.
_NO_COST = Cost({}, None, None, None, None, None)
_NO_MODEL = Resolved((), None, complete=True)


_calculators: weakref.WeakSet[CostCalculator] = weakref.WeakSet()


def notify_models_changed(project_id: str | None = None) -> None:
    """Invalidate every live calculator in this process (called by the models API and functions)."""
    for calculator in list(_calculators):
        calculator.invalidate(project_id)


class CostCalculator:
    def __init__(
        self,
        engine: Engine,
        *,
        catalog: Catalog | None = None,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        budget: MatchBudget | None = None,
    ) -> None:
        self._engine = engine
        self._catalog = catalog or default_catalog()
        self._ttl = ttl_seconds
        self.budget = budget or MatchBudget()
        self._projects: dict[str, ProjectNames] = {}
        self._generation = 0  # bumped by invalidate(); a load that raced with it is not kept
        self._swept_at = time.monotonic()
        self._lock = threading.Lock()
        _calculators.add(self)

    def compute(
        self,
        project_id: str,
        model: str | None,
        usage: Mapping[str, int],
        provided: Mapping[str, float] | None,
        start_time_us: int,
    ) -> Cost:
        resolved = self._resolved(project_id, model) if model else _NO_MODEL
        definition = resolved.definition_at(start_time_us)
        catalog_model = resolved.catalog if definition is None else None
        model_id = definition.id if definition else catalog_model.ref if catalog_model else None
        # Without a definition found, an incomplete answer may have missed one: the source says so.
        unsure = definition is None and not resolved.complete

        given = clean_provided(provided)
        if given:
            input_cost, output_cost = split(given)
            return Cost(given, provided_total(given), input_cost, output_cost, model_id, "provided")

        if definition is not None:
            costs, source = price_with_definition(definition.prices, usage), "project_model"
        elif catalog_model is not None and usage:
            costs = self._catalog.price(catalog_model, usage, start_time_us)
            source = "catalog_over_budget" if unsure else "catalog"
        else:
            costs, source = {}, None
        if not costs:
            if unsure:
                return Cost({}, None, None, None, model_id, "over_budget")
            return Cost({}, None, None, None, model_id, None) if model_id is not None else _NO_COST
        details, total = with_total(costs)
        input_cost, output_cost = split(details)
        return Cost(details, total, input_cost, output_cost, model_id, source)

    def invalidate(self, project_id: str | None = None) -> None:
        """Forget cached definitions of one project (or all); the next compute() reloads them."""
        with self._lock:
            self._generation += 1
            if project_id is None:
                self._projects.clear()
            else:
                self._projects.pop(project_id, None)

    # --- model names --------------------------------------------------------------------------

    def _resolved(self, project_id: str, model: str) -> Resolved:
        entry = self._projects.get(project_id)
        if entry is None or time.monotonic() - entry.loaded_at >= self._ttl:
            entry = self._project(project_id)
        found = entry.young.get(model)  # the hot path: a name this project sent recently
        if found is None:
            found = entry.recall(model) or self._resolve(project_id, entry, model)
        return found

    def _resolve(self, project_id: str, entry: ProjectNames, model: str) -> Resolved:
        allowance = self.budget.allowance(project_id)
        if allowance <= 0:
            return entry.unresolved(model, self._catalog)
        started = time.perf_counter()
        try:
            return entry.resolve(model, self._catalog, started + allowance)
        finally:
            self.budget.charge(project_id, time.perf_counter() - started)

    # --- project definitions ------------------------------------------------------------------

    def _project(self, project_id: str) -> ProjectNames:
        now = time.monotonic()
        entry = self._projects.get(project_id)
        if entry is not None and now - entry.loaded_at < self._ttl:
            return entry
        generation = self._generation
        loaded = self._load(project_id, now, stale=entry)
        with self._lock:
            if generation == self._generation:
                self._projects[project_id] = loaded
            if now - self._swept_at > _IDLE_SECONDS:
                self._swept_at = now
                for idle in [p for p, e in self._projects.items() if now - e.loaded_at > _IDLE_SECONDS]:
                    del self._projects[idle]
        return loaded

    def _load(self, project_id: str, now: float, *, stale: ProjectNames | None) -> ProjectNames:
        query = select(
            models.c.id, models.c.match_pattern, models.c.start_date_us, models.c.created_at_us, models.c.prices
        ).where(models.c.project_id == project_id)
        try:
            with self._engine.connect() as conn:
                rows = conn.execute(query).all()
        except Exception:
            # Pricing must not fail ingestion: keep the last known definitions and retry at the next
            # expiry (logged, because catalog prices may be used meanwhile).
            logger.exception("could not load model definitions of project %s", project_id)
            if stale is None:
                return ProjectNames(now, None, [])
            stale.loaded_at = now
            return stale
        key = sorted(tuple(row) for row in rows)
        if stale is not None and stale.key == key:
            stale.loaded_at = now  # unchanged: keep the names resolved so far
            return stale
        patterns: list[tuple[CompiledPattern, Definition]] = []
        for row in rows:
            try:
                compiled = PATTERN_CACHE.get(row.match_pattern)
            except InvalidPattern as exc:
                # Stored by an older version or around the API: skipped, never matched (nor fatal).
                logger.warning("model definition %s of project %s is ignored: %s", row.id, project_id, exc)
                continue
            patterns.append(
                (compiled, Definition(row.id, row.start_date_us, row.created_at_us, stored_prices(row.prices)))
            )
        patterns.sort(key=lambda item: _newest_first(item[1]))
        return ProjectNames(now, key, patterns)


def _newest_first(definition: Definition) -> tuple[int, int, int]:
    # Among equal start dates (two definitions matching the same name) the newer definition wins.
    start = definition.start_date_us
    return (1, 0, -definition.created_at_us) if start is None else (0, -start, -definition.created_at_us)
