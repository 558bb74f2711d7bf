"""Single-field rules of the mapping (fields.py); the conventions that use them are in test_conventions.py."""

from __future__ import annotations

from typing import Any

import pytest

from interactiveai.server.ingest import fields


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-06-15T12:00:00Z", 1_749_988_800_000_000),
        ('"2025-06-15T12:00:00Z"', 1_749_988_800_000_000),  # JSON-encoded once more, as the SDKs do
        (1_749_988_800, 1_749_988_800_000_000),  # seconds
        (1_749_988_800_000, 1_749_988_800_000_000),  # milliseconds
        (1_749_988_800_000_000, 1_749_988_800_000_000),  # microseconds
        (1_749_988_800_000_000_000, 1_749_988_800_000_000),  # nanoseconds
        (float("inf"), None),
        (float("-inf"), None),
        (float("nan"), None),
        (1e300, None),
        (-5, None),
        (True, None),
        ("yesterday", None),
        ("1e309", None),
    ],
)
def test_completion_start_times(value: Any, expected: int | None) -> None:
    """Unusable values are dropped (the span is still stored), never an error for the whole export."""
    assert fields.time_us(value) == expected
