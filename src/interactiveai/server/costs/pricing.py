"""Pure arithmetic of costs: a provided cost map, a project definition's prices, and the roll-ups.

Kept apart from the calculator (which decides *which* prices apply) so every rule here can be read
and tested on its own. All amounts are USD floats; prices of project definitions are USD per unit.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping

from interactiveai.server.costs.usage_keys import direction

MAX_PRICE = 1_000_000.0
"""USD per unit a project definition may set: far above any real price, and low enough that a cost
(price × a count of at most 2^40) and its sums stay finite, so every reader can write them."""


def usable_price(value: object) -> bool:
    """A price a definition may hold: a real number (not a bool) from 0 to MAX_PRICE."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return 0 <= float(value) <= MAX_PRICE  # False for NaN; OverflowError for ints beyond floats
    except OverflowError:
        return False


def stored_prices(text: str | None) -> dict[str, float]:
    """A definition's stored ``{usage type: USD per unit}``; a value no reader could use is left out.

    The API validates what it stores, but a row may come from an older version or straight from
    the database: pricing and every page must still read it, without ever computing an infinite cost.
    """
    try:
        raw = json.loads(text or "{}")
    except ValueError:
        return {}
    if not isinstance(raw, dict):
        return {}
    return {str(k): float(v) for k, v in raw.items() if usable_price(v)}


def clean_provided(provided: Mapping[str, float] | None) -> dict[str, float]:
    """The usable part of a client-provided cost map: finite numbers under non-empty keys."""
    if not provided:
        return {}
    cleaned: dict[str, float] = {}
    for key, value in provided.items():
        if not key or isinstance(value, bool) or not isinstance(value, int | float):
            continue
        number = float(value)
        if math.isfinite(number):
            cleaned[key] = number
    return cleaned


def provided_total(details: Mapping[str, float]) -> float:
    """The provided ``total``, else the sum of the other provided keys (never both: no double count)."""
    if "total" in details:
        return details["total"]
    return sum(details.values())


def price_with_definition(prices: Mapping[str, float], usage: Mapping[str, int]) -> dict[str, float]:
    """Cost per usage key under a project definition's ``{usage type: USD per unit}`` prices.

    A usage key without its own price is charged at its direction's base price ("input" or
    "output"): a definition listing only input and output prices must not make reasoning or cached
    tokens free (our ``output`` excludes reasoning tokens, so they would silently vanish from the
    bill). A definition that wants cache reads cheaper lists ``input_cached_tokens`` explicitly.
    ``total`` is priced only by a ``total`` price (the legacy "price per token, whatever kind").
    """
    costs: dict[str, float] = {}
    for key, count in usage.items():
        # Counts may be fractional (SECONDS, CHARACTERS units); bools and negatives are not counts.
        if isinstance(count, bool) or not isinstance(count, int | float) or not count >= 0:
            continue
        rate = prices.get(key)
        if rate is None and key != "total":
            side = direction(key)
            if side is not None and side != key:
                rate = prices.get(side)
        if rate is not None:
            costs[key] = rate * count
    return costs


def with_total(costs: dict[str, float]) -> tuple[dict[str, float], float]:
    """Add the ``total`` key (a priced total wins over the sum of parts) and return it too."""
    total = costs["total"] if "total" in costs else sum(costs.values())
    costs["total"] = total
    return costs, total


def split(details: Mapping[str, float]) -> tuple[float | None, float | None]:
    """Input and output cost by key prefix, the rule of the trace roll-ups; None when no such key."""
    input_cost: float | None = None
    output_cost: float | None = None
    for key, value in details.items():  # inlined prefix tests: this runs for every observation
        if key.startswith("input"):
            input_cost = value if input_cost is None else input_cost + value
        elif key.startswith("output"):
            output_cost = value if output_cost is None else output_cost + value
    return input_cost, output_cost
