"""Deterministic trace-id ratio sampling shared by the export path and the score path.

The rule is exactly OpenTelemetry's ``TraceIdRatioBased``: a trace is kept when the lower 64 bits
of its id are below ``round(rate * 2**64)``. Because the decision depends on the trace id alone,
every service (and a score posted later for the same trace) reaches the same verdict without
coordination.
"""

from __future__ import annotations

__all__ = ["TRACE_ID_LIMIT", "is_trace_sampled", "sampling_bound"]

TRACE_ID_LIMIT = (1 << 64) - 1
"""Mask of the trace-id bits the decision looks at (the lower 64, as in OTel)."""


def sampling_bound(rate: float) -> int:
    """The exclusive upper bound on the lower 64 bits of a kept trace id.

    Same arithmetic as ``TraceIdRatioBased.get_bound_for_rate`` so the two never disagree at the
    edges; rates outside [0, 1] are clamped rather than rejected (validation belongs to settings).
    """
    if rate <= 0.0:
        return 0
    if rate >= 1.0:
        return TRACE_ID_LIMIT + 1
    return round(rate * (TRACE_ID_LIMIT + 1))


def is_trace_sampled(trace_id: int, rate: float) -> bool:
    """Whether the trace ``trace_id`` is kept at sampling ``rate``.

    Args:
        trace_id: The 128-bit trace id as an integer (``span.context.trace_id``).
        rate: Fraction of traces to keep, 0.0 (none) to 1.0 (all). ``0.0`` means none: it is never
            treated as "unset".

    Returns:
        True when the trace is sampled in.

    Example:
        >>> is_trace_sampled(0x0AF7651916CD43DD8448EB211C80319C, 1.0)
        True
    """
    if rate >= 1.0:
        return True
    if rate <= 0.0:
        return False
    return (trace_id & TRACE_ID_LIMIT) < sampling_bound(rate)
