"""Trace and observation ids: generation, deterministic seeding and validation.

Trace ids are 32 lowercase hex characters, observation (span) ids 16. Seeded ids are the first
bytes of SHA-256 of the UTF-8 seed, the same rule as the closest existing SDK, so that ids
computed by other systems line up.
"""

from __future__ import annotations

import hashlib
import logging
import random

logger = logging.getLogger("interactiveai")

_HEX = frozenset("0123456789abcdef")


def create_trace_id(seed: str | None = None) -> str:
    """A new 32-hex trace id; with ``seed``, the same id for the same seed.

    >>> create_trace_id(seed="abc")
    'ba7816bf8f01cfea414140de5dae2223'
    """
    if seed is not None:
        return hashlib.sha256(str(seed).encode("utf-8")).digest()[:16].hex()
    value = 0
    while value == 0:  # the all-zero id is invalid in W3C trace context
        value = random.getrandbits(128)
    return format(value, "032x")


def create_observation_id(seed: str | None = None) -> str:
    """A new 16-hex observation id; with ``seed``, the same id for the same seed."""
    if seed is not None:
        return hashlib.sha256(str(seed).encode("utf-8")).digest()[:8].hex()
    value = 0
    while value == 0:
        value = random.getrandbits(64)
    return format(value, "016x")


def _normalize(value: object, length: int) -> str | None:
    if not isinstance(value, str):
        return None
    lowered = value.strip().lower()
    if len(lowered) != length or not _HEX.issuperset(lowered) or set(lowered) == {"0"}:
        return None
    return lowered


def normalize_trace_id(value: object) -> str | None:
    """The id lower-cased if it is a valid trace id (32 hex, not all zero), else None."""
    return _normalize(value, 32)


def normalize_observation_id(value: object) -> str | None:
    """The id lower-cased if it is a valid observation id (16 hex, not all zero), else None."""
    return _normalize(value, 16)


def is_valid_trace_id(value: object) -> bool:
    """True for 32 lowercase hex characters that are not all zero."""
    return isinstance(value, str) and normalize_trace_id(value) == value


def is_valid_observation_id(value: object) -> bool:
    """True for 16 lowercase hex characters that are not all zero."""
    return isinstance(value, str) and normalize_observation_id(value) == value


def format_trace_id(value: int) -> str:
    return format(value, "032x")


def format_observation_id(value: int) -> str:
    return format(value, "016x")
