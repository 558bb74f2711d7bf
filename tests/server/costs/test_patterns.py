"""Match-pattern validation: real model patterns pass, patterns that can stall matching are refused."""

from __future__ import annotations

import time

import pytest

from interactiveai.server.costs.patterns import (
    MAX_NAME_LENGTH,
    InvalidPattern,
    PatternCache,
    matches,
    validate_pattern,
)


@pytest.mark.parametrize(
    "pattern",
    [
        "(?i)^(openai/)?(gpt-4o)$",
        "(?i)^(openai/)?(gpt-4o-2024-08-06)$",
        "(?i)^(anthropic/)?(claude-3-5-sonnet(-\\d{8})?)$",
        "(?i)^(.*/)?gemini-1\\.5-pro.*$",
        "^ft:gpt-4o-mini:acme:",
        "(?i)(gpt-4o|gpt-4o-mini)",
        "[a-z]+-large",
        "(ab)+",
    ],
)
def test_real_patterns_are_accepted(pattern: str) -> None:
    validate_pattern(pattern)


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("x" * 501, "longer than"),
        ("[", "not a valid regular expression"),
        ("gpt(?i)-4o", "not a valid regular expression"),  # global flags must come first
        ("(a+)+$", "another repetition"),
        ("(a*)*b", "another repetition"),
        ("(x+x+)+y", "another repetition"),
        ("(a{1,3})+", "another repetition"),
        ("(?:a|aa)+$", "alternatives"),
        ("(\\w+)-\\1", "backreference"),
        ("\\w+\\w+\\w+z", "unbounded repetitions"),
    ],
)
def test_risky_or_invalid_patterns_are_refused(pattern: str, why: str) -> None:
    with pytest.raises(InvalidPattern, match=why):
        validate_pattern(pattern)


def test_worst_accepted_pattern_stays_fast_on_the_longest_name() -> None:
    compiled = validate_pattern(".*a.*b")  # two unbounded repeats: the most we accept
    started = time.perf_counter()
    assert not matches(compiled, "a" * MAX_NAME_LENGTH)
    # Generous bound (shared CI machines): the point is "milliseconds", not "minutes".
    assert time.perf_counter() - started < 0.5


def test_names_longer_than_the_limit_never_match() -> None:
    compiled = validate_pattern("gpt")
    assert matches(compiled, "gpt-4o")
    assert not matches(compiled, "gpt" + "x" * MAX_NAME_LENGTH)


def test_pattern_cache_compiles_once_and_remembers_refusals() -> None:
    cache = PatternCache(max_size=2)
    first = cache.get("^gpt-4o$")
    assert first is not None and cache.get("^gpt-4o$") is first
    assert cache.get("(a+)+$") is None
    cache.get("^other$")  # over the bound: the cache starts afresh instead of growing
    assert cache.get("^gpt-4o$") is not None
