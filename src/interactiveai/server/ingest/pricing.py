"""The one place ingestion asks for an observation's cost.

The cost calculator (``interactiveai.server.costs``) applies the precedence provided cost >
project model definition > packaged catalog and names the matched model; ingestion stores what it
returns and never recomputes it. Without an engine (pure mapping tests) only provided costs count.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import Engine

from interactiveai.server.costs.calculator import Cost, CostCalculator
from interactiveai.server.ingest.usage import cost_columns

ObservationCost = Cost


class Pricing:
    def __init__(self, engine: Engine | None) -> None:
        self._calculator = CostCalculator(engine) if engine is not None else None

    def cost(
        self,
        project_id: str,
        model: str | None,
        usage: dict[str, int | float],
        provided: dict[str, float] | None,
        start_time_us: int,
    ) -> Cost:
        if self._calculator is not None:
            return self._calculator.compute(project_id, model, cast(dict[str, int], usage), provided, start_time_us)
        if provided:
            input_cost, output_cost, total = cost_columns(provided)
            return Cost(provided, total, input_cost, output_cost, None, "provided")
        return Cost({}, None, None, None, None, None)
