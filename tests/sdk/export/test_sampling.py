"""Trace-id ratio sampling: deterministic and identical to OTel's TraceIdRatioBased."""

from __future__ import annotations

import random

import pytest
from opentelemetry.sdk.trace.sampling import Decision, TraceIdRatioBased

from interactiveai.sdk.export.sampling import is_trace_sampled


@pytest.mark.parametrize("rate", [0.0, 0.001, 0.1, 0.25, 0.5, 0.999, 1.0])
def test_agrees_with_otel_trace_id_ratio_based(rate: float) -> None:
    sampler = TraceIdRatioBased(rate)
    rng = random.Random(rate)
    for _ in range(2000):
        trace_id = rng.getrandbits(128)
        otel = sampler.should_sample(None, trace_id, "x").decision is Decision.RECORD_AND_SAMPLE
        assert is_trace_sampled(trace_id, rate) is otel


def test_deterministic_and_monotonic_in_rate() -> None:
    rng = random.Random(7)
    ids = [rng.getrandbits(128) for _ in range(5000)]
    kept_10 = {t for t in ids if is_trace_sampled(t, 0.1)}
    kept_50 = {t for t in ids if is_trace_sampled(t, 0.5)}
    assert kept_10 == {t for t in ids if is_trace_sampled(t, 0.1)}  # same verdict every time
    assert kept_10 <= kept_50  # a trace kept at 10 % is kept at 50 %: services with different rates nest
    assert 400 < len(kept_10) < 600
    assert 2300 < len(kept_50) < 2700


def test_edges() -> None:
    assert is_trace_sampled(0, 0.0) is False  # 0.0 means none, never "unset"
    assert is_trace_sampled(2**128 - 1, 1.0) is True
    assert is_trace_sampled(0, 1e-30) is False
    assert is_trace_sampled(0, 0.5) is True
    assert is_trace_sampled(2**64 - 1, 0.999999) is False
    # Only the lower 64 bits decide.
    assert is_trace_sampled((1 << 100) | 5, 0.5) is is_trace_sampled(5, 0.5)
