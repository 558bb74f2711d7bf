"""Log histograms for latency percentiles that can be merged: roll-ups keep one per row.

A value ``v > 0`` falls in bucket ``m = ceil(log_γ v)``, i.e. ``γ^(m-1) < v ≤ γ^m``, and the bucket
stands for ``2·γ^m / (γ + 1)``, which is within ``ALPHA`` of every value in it (relative error,
γ = (1 + α) / (1 - α)); negative values mirror positive ones, zero has a bucket of its own.

Percentiles follow ``percentile_cont`` (metrics_base): the two values at the closest ranks are
interpolated linearly. Each of them is replaced by its bucket's value, within ``ALPHA`` of it,
so a percentile read from merged histograms is within ``ALPHA`` (2 %) of the exact one. Buckets
are a function of the value alone, so histograms of any hours (or of values scanned exactly)
add up key by key.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Sequence

import orjson

ALPHA = 0.02
"""Largest relative error of a percentile read from histograms."""
GAMMA = (1 + ALPHA) / (1 - ALPHA)
_LOG_GAMMA = math.log(GAMMA)
_OFFSET = 10_000  # keeps the keys of positive values positive down to γ^-9999 (far below 1 µs)

Histogram = dict[int, int]


def bucket(value: float) -> int:
    if value == 0:
        return 0
    m = max(math.ceil(math.log(abs(value)) / _LOG_GAMMA), 1 - _OFFSET)
    return m + _OFFSET if value > 0 else -(m + _OFFSET)


def bucket_value(key: int) -> float:
    if key == 0:
        return 0.0
    middle = 2 * GAMMA ** (abs(key) - _OFFSET) / (GAMMA + 1)
    return middle if key > 0 else -middle


def add_values(histogram: Histogram, values: Iterable[float]) -> Histogram:
    for value in values:
        key = bucket(value)
        histogram[key] = histogram.get(key, 0) + 1
    return histogram


def merge(histogram: Histogram, other: Histogram) -> Histogram:
    for key, count in other.items():
        histogram[key] = histogram.get(key, 0) + count
    return histogram


def encode(histogram: Histogram) -> str:
    return orjson.dumps(histogram, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SORT_KEYS).decode()


def merge_encoded(histogram: Histogram, text: str) -> Histogram:
    for key, count in orjson.loads(text).items():
        k = int(key)
        histogram[k] = histogram.get(k, 0) + count
    return histogram


def percentiles(histogram: Histogram, wanted: Sequence[float]) -> list[float | None]:
    """``percentile_cont`` of each wanted fraction, within ALPHA; None for an empty histogram."""
    total = sum(histogram.values())
    if total == 0:
        return [None] * len(wanted)
    keys = sorted(k for k, n in histogram.items() if n > 0)
    bounds: list[int] = []  # rank of the last value of each bucket
    seen = 0
    for k in keys:
        seen += histogram[k]
        bounds.append(seen - 1)

    def at(rank: int) -> float:
        low, high = 0, len(bounds) - 1
        while low < high:  # the first bucket whose last rank reaches ``rank``
            mid = (low + high) // 2
            if bounds[mid] < rank:
                low = mid + 1
            else:
                high = mid
        return bucket_value(keys[low])

    out: list[float | None] = []
    for p in wanted:
        position = (total - 1) * p
        lo = math.floor(position)
        hi = min(lo + 1, total - 1)
        a, b = at(lo), at(hi)
        out.append(a + (b - a) * (position - lo))
    return out


class Latencies:
    """The latencies of one group: roll-up histograms and exactly scanned values.

    Percentiles are exact (``percentile_cont``) while no roll-up histogram was added, as for a
    window of edges and dirty hours only; otherwise the scanned values join the histograms' buckets.
    """

    __slots__ = ("exact", "histogram")

    def __init__(self) -> None:
        self.histogram: Histogram = {}
        self.exact = array("d")

    def add_encoded(self, text: str) -> None:
        merge_encoded(self.histogram, text)

    def add(self, value: float) -> None:
        self.exact.append(value)

    def __bool__(self) -> bool:
        return bool(self.exact) or any(self.histogram.values())

    def percentiles(self, wanted: Sequence[float]) -> list[float | None]:
        if not any(self.histogram.values()):
            if not self.exact:
                return [None] * len(wanted)
            return _interpolate(sorted(self.exact), wanted)
        return percentiles(add_values(dict(self.histogram), self.exact), wanted)


def _interpolate(ordered: list[float], wanted: Sequence[float]) -> list[float | None]:
    out: list[float | None] = []
    last = len(ordered) - 1
    for p in wanted:
        position = last * p
        low = math.floor(position)
        high = min(low + 1, last)
        out.append(ordered[low] + (ordered[high] - ordered[low]) * (position - low))
    return out
