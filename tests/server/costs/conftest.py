"""Fixtures for the costs tests: the app with the models router included, a calculator."""

from __future__ import annotations

from typing import Any

import pytest

from interactiveai.server.costs.calculator import CostCalculator


@pytest.fixture
def api(app: Any, client: Any) -> Any:
    """The in-process client of an app that serves the models API (included here until app.py does)."""
    from interactiveai.server.costs.routes import router

    if not any(getattr(route, "path", "") == "/api/public/models" for route in app.routes):
        app.include_router(router)
    return client


@pytest.fixture
def calc(engine: Any) -> CostCalculator:
    return CostCalculator(engine)
