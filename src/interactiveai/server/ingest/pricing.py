"""The one place ingestion asks for an observation's cost.

The cost calculator (``interactiveai.server.costs``) applies the precedence provided cost >
project model definition > packaged catalog and names the matched model; ingestion stores what it
returns and never recomputes it. Without an engine (pure mapping tests) only provided costs count.

Benchmark-only: ``INTERACTIVEAI_BENCHMARK_BYPASS_COST_CALCULATOR=1`` (set only by
``benchmarks/ingest.py --bypass-cost-calculator`` on the server it launches) makes ingestion behave
as without an engine, so the benchmark can measure what the calculator adds to ingestion. It is not
a setting: stored costs then miss catalog and model-definition prices.
"""

from __future__ import annotations

import os
from typing import cast

from sqlalchemy import Engine

from interactiveai.server.costs.calculator import Cost, CostCalculator
from interactiveai.server.ingest.usage import cost_columns

ObservationCost = Cost
BYPASS_ENV = "INTERACTIVEAI_BENCHMARK_BYPASS_COST_CALCULATOR"
_NO_COST = Cost({}, None, None, None, None, None)  # shared: mapping only serialises a Cost, never changes it


class Pricing:
    def __init__(self, engine: Engine | None) -> None:
        bypass = os.environ.get(BYPASS_ENV) == "1"
        self._calculator = CostCalculator(engine) if engine is not None and not bypass else None

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
        return _NO_COST
