"""Trace/observation ids: deterministic seeds, randomness, validation."""

from __future__ import annotations

import hashlib

import pytest

import interactiveai
from interactiveai import InteractiveAI
from interactiveai.sdk.ids import (
    create_observation_id,
    create_trace_id,
    is_valid_observation_id,
    is_valid_trace_id,
    normalize_observation_id,
    normalize_trace_id,
)


def test_seeded_trace_id_known_vector() -> None:
    assert create_trace_id(seed="abc") == "ba7816bf8f01cfea414140de5dae2223"
    assert InteractiveAI.create_trace_id(seed="abc") == "ba7816bf8f01cfea414140de5dae2223"
    assert interactiveai.create_trace_id(seed="abc") == "ba7816bf8f01cfea414140de5dae2223"


def test_seeded_ids_are_stable_and_utf8() -> None:
    seed = "ticket-✓-42"
    assert create_trace_id(seed=seed) == create_trace_id(seed=seed)
    assert create_trace_id(seed=seed) == hashlib.sha256(seed.encode()).hexdigest()[:32]
    assert create_observation_id(seed=seed) == hashlib.sha256(seed.encode()).hexdigest()[:16]
    assert create_trace_id(seed="a") != create_trace_id(seed="b")


def test_random_ids_are_valid_and_distinct() -> None:
    ids = {create_trace_id() for _ in range(1000)}
    assert len(ids) == 1000 and all(is_valid_trace_id(i) for i in ids)
    obs = {create_observation_id() for _ in range(1000)}
    assert len(obs) == 1000 and all(is_valid_observation_id(i) for i in obs)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("ba7816bf8f01cfea414140de5dae2223", "ba7816bf8f01cfea414140de5dae2223"),
        ("BA7816BF8F01CFEA414140DE5DAE2223", "ba7816bf8f01cfea414140de5dae2223"),
        ("ba7816bf8f01cfea414140de5dae222", None),
        ("ba7816bf8f01cfea414140de5dae2223a", None),
        ("za7816bf8f01cfea414140de5dae2223", None),
        ("0" * 32, None),
        (None, None),
        (123, None),
    ],
)
def test_normalize_trace_id(value: object, expected: str | None) -> None:
    assert normalize_trace_id(value) == expected


def test_observation_id_validation() -> None:
    assert normalize_observation_id("00F067AA0BA902B7") == "00f067aa0ba902b7"
    assert is_valid_observation_id("00f067aa0ba902b7")
    assert not is_valid_observation_id("00F067AA0BA902B7")  # valid ids are lower case
    assert normalize_observation_id("xyz") is None
    assert not is_valid_trace_id("ab" * 15)
