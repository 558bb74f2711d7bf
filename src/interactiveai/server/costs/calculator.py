"""The cost of one observation, computed once at ingestion and stored with the matched model.

Precedence (DESIGN.md §4): a cost the client provides (any key) > the project's own model
definitions (regex match patterns, newest applicable start date) > the packaged catalog. An
unknown model gives "no cost", never an error: ingestion must not fail because of pricing.

``compute`` runs in the ingestion writer thread for every observation, so nothing on its path
touches the database more than once per project every ``ttl_seconds``: each project's definitions
are loaded together and kept with the per-model-name match results. The models API calls
``invalidate`` on change (``notify_models_changed`` reaches every calculator of this process);
other replicas see a change when their cache expires, hence the short TTL.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import Engine, select

from interactiveai.server.costs.catalog import Catalog, default_catalog
from interactiveai.server.costs.patterns import PATTERN_CACHE, CompiledPattern, InvalidPattern, matching
from interactiveai.server.costs.pricing import (
    clean_provided,
    price_with_definition,
    provided_total,
    split,
    stored_prices,
    with_total,
)
from interactiveai.server.storage.schema import models

logger = logging.getLogger("interactiveai.server.costs")

DEFAULT_TTL_SECONDS = 15.0
_MAX_NAMES_PER_PROJECT = 2_000  # remembered match results per project; bounded against random names


@dataclass(frozen=True)
class Cost:
    """What ingestion stores: cost per usage key, the roll-ups, the matched model and the source."""

    details: dict[str, float]
    total: float | None
    input: float | None
    output: float | None
    model_id: str | None
    source: str | None  # "provided" | "project_model" | "catalog" | None


# Most observations have no model and no cost: one shared answer (frozen dataclasses are slow to
# build, and this runs for every ingested span). Callers only read a Cost.
_NO_COST = Cost({}, None, None, None, None, None)


@dataclass(frozen=True)
class _Definition:
    id: str
    start_date_us: int | None
    created_at_us: int
    prices: dict[str, float]


@dataclass
class _ProjectModels:
    loaded_at: float
    patterns: list[tuple[CompiledPattern, _Definition]]  # newest start date first
    by_name: dict[str, tuple[_Definition, ...]] = field(default_factory=dict)


_calculators: weakref.WeakSet[CostCalculator] = weakref.WeakSet()


def notify_models_changed(project_id: str | None = None) -> None:
    """Invalidate every live calculator in this process (called by the models API and functions)."""
    for calculator in list(_calculators):
        calculator.invalidate(project_id)


class CostCalculator:
    def __init__(
        self, engine: Engine, *, catalog: Catalog | None = None, ttl_seconds: float = DEFAULT_TTL_SECONDS
    ) -> None:
        self._engine = engine
        self._catalog = catalog or default_catalog()
        self._ttl = ttl_seconds
        self._projects: dict[str, _ProjectModels] = {}
        self._generation = 0  # bumped by invalidate(); a load that raced with it is not kept
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
        definition = self._definition(project_id, model, start_time_us) if model else None
        catalog_model = self._catalog.resolve(model) if model and definition is None else None
        model_id = definition.id if definition else catalog_model.ref if catalog_model else None

        given = clean_provided(provided)
        if given:
            input_cost, output_cost = split(given)
            return Cost(given, provided_total(given), input_cost, output_cost, model_id, "provided")

        if definition is not None:
            costs, source = price_with_definition(definition.prices, usage), "project_model"
        elif catalog_model is not None and usage:
            costs, source = self._catalog.price(catalog_model, usage, start_time_us), "catalog"
        else:
            costs, source = {}, None
        if not costs:
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

    # --- project definitions ------------------------------------------------------------------

    def _definition(self, project_id: str, model: str, start_time_us: int) -> _Definition | None:
        entry = self._project(project_id)
        if not entry.patterns:
            return None
        candidates = entry.by_name.get(model)
        if candidates is None:
            candidates = matching(entry.patterns, model)
            if len(entry.by_name) >= _MAX_NAMES_PER_PROJECT:
                entry.by_name.clear()
            entry.by_name[model] = candidates
        # Newest start date first; a definition applies from its start date on, one without a
        # start date always applies (it sorts last, so a dated price wins once it has started).
        for definition in candidates:
            if definition.start_date_us is None or definition.start_date_us <= start_time_us:
                return definition
        return None

    def _project(self, project_id: str) -> _ProjectModels:
        entry = self._projects.get(project_id)
        now = time.monotonic()
        if entry is not None and now - entry.loaded_at < self._ttl:
            return entry
        generation = self._generation
        loaded = self._load(project_id, now, stale=entry)
        with self._lock:
            if generation == self._generation:
                self._projects[project_id] = loaded
        return loaded

    def _load(self, project_id: str, now: float, *, stale: _ProjectModels | None) -> _ProjectModels:
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
            return _ProjectModels(now, stale.patterns if stale else [])
        patterns: list[tuple[CompiledPattern, _Definition]] = []
        for row in rows:
            try:
                compiled = PATTERN_CACHE.get(row.match_pattern)
            except InvalidPattern as exc:
                # Stored by an older version or around the API: skipped, never matched (nor fatal).
                logger.warning("model definition %s of project %s is ignored: %s", row.id, project_id, exc)
                continue
            patterns.append(
                (compiled, _Definition(row.id, row.start_date_us, row.created_at_us, stored_prices(row.prices)))
            )
        patterns.sort(key=lambda item: _newest_first(item[1]))
        return _ProjectModels(now, patterns)


def _newest_first(definition: _Definition) -> tuple[int, int, int]:
    # Among equal start dates (two definitions matching the same name) the newer definition wins.
    start = definition.start_date_us
    return (1, 0, -definition.created_at_us) if start is None else (0, -start, -definition.created_at_us)
