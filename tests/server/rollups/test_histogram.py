"""Percentiles from merged log histograms stay within ALPHA of percentile_cont."""

from __future__ import annotations

import math
import random

import pytest

from interactiveai.server.query.rollup_histogram import (
    ALPHA,
    add_values,
    encode,
    merge,
    merge_encoded,
    percentiles,
)

FRACTIONS = (0.0, 0.01, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1.0)


def exact(values: list[float], p: float) -> float:
    ordered = sorted(values)
    position = (len(ordered) - 1) * p
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@pytest.mark.parametrize("seed", range(5))
def test_percentiles_of_merged_histograms_are_within_alpha(seed: int) -> None:
    rng = random.Random(seed)
    parts = [[int(rng.lognormvariate(13, 1.5)) for _ in range(rng.randint(1, 300))] for _ in range(20)]
    parts.append([0, 0, 1, 7])  # zero and tiny latencies have buckets too
    merged: dict[int, int] = {}
    for part in parts:  # stored as text, read back and added, as the roll-ups are
        merge_encoded(merged, encode(add_values({}, part)))
    values = [v for part in parts for v in part]
    for p, got in zip(FRACTIONS, percentiles(merged, FRACTIONS), strict=True):
        want = exact(values, p)
        assert got is not None and abs(got - want) <= ALPHA * abs(want) + 1e-9, (p, got, want)


def test_negative_values_and_empty_histograms() -> None:
    values = [-5_000, -10, 0, 3, 250, 1_000_000]
    histogram = merge(add_values({}, values[:3]), add_values({}, values[3:]))
    for p, got in zip(FRACTIONS, percentiles(histogram, FRACTIONS), strict=True):
        want = exact(values, p)
        assert got is not None and abs(got - want) <= ALPHA * abs(want) + 1e-9, (p, got, want)
    assert percentiles({}, (0.5, 0.9)) == [None, None]


def test_latencies_are_exact_until_a_rollup_histogram_joins() -> None:
    from interactiveai.server.query.rollup_histogram import Latencies

    group = Latencies()
    for value in (1_000_000, 2_000_000, 4_000_000, 10_000_000):
        group.add(value)
    assert group.percentiles((0.5, 0.9)) == [3_000_000.0, pytest.approx(8_200_000.0)]  # percentile_cont
    group.add_encoded(encode(add_values({}, [5_000_000])))
    got = group.percentiles((0.5,))[0]
    assert got is not None and abs(got - 4_000_000) <= ALPHA * 4_000_000
    assert not Latencies() and Latencies().percentiles((0.5,)) == [None]
