"""The one place ingestion asks for an observation's cost.

A cost the client provides always wins and is stored as is. Prices from the catalog and from
per-project model definitions come from ``interactiveai.server.costs`` once that module exists;
until then only provided costs are stored. Keeping the call behind this class makes the switch a
one-line change in :meth:`Pricing.cost`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from interactiveai.server.ingest.usage import cost_columns


@dataclass(frozen=True, slots=True)
class ObservationCost:
    details: dict[str, float]
    total: float | None
    input: float | None
    output: float | None
    model_id: str | None
    source: str | None


_NO_COST = ObservationCost({}, None, None, None, None, None)


class Pricing:
    def __init__(self, engine: Engine | None) -> None:
        self._engine = engine

    def cost(
        self,
        project_id: str,
        model: str | None,
        usage: dict[str, int | float],
        provided: dict[str, float] | None,
        start_time_us: int,
    ) -> ObservationCost:
        if provided:
            input_cost, output_cost, total = cost_columns(provided)
            return ObservationCost(provided, total, input_cost, output_cost, None, "provided")
        return _NO_COST
