"""Times: every time the server accepts is one every reader can format (years 1-9999 in UTC),
and a stored time outside that range still formats, as the nearest end of it."""

from __future__ import annotations

import pytest

from interactiveai.server.clock import MAX_US, MIN_US, check_us, parse_iso_to_us, us_to_datetime, us_to_iso


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2026-01-31T12:00:00Z", "2026-01-31T12:00:00.000Z"),
        ("2026-01-31T12:00:00.123456+02:00", "2026-01-31T10:00:00.123Z"),
        ("2026-01-31", "2026-01-31T00:00:00.000Z"),
        ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000Z"),
        ("9999-12-31T23:59:59.999999Z", "9999-12-31T23:59:59.999Z"),
        ("9999-12-31T23:59:59+23:59", "9999-12-31T00:00:59.000Z"),
        ("2026-01-31t12:00:00.1234567z", "2026-01-31T12:00:00.123Z"),  # RFC 3339: any case, any digits
        # a leap second (RFC 3339 allows second 60 at 23:59 UTC) reads as the next second, as POSIX does
        ("2016-12-31T23:59:60Z", "2017-01-01T00:00:00.000Z"),
        ("2016-12-31T23:59:60.5Z", "2017-01-01T00:00:00.500Z"),
        ("2017-01-01T00:59:60+01:00", "2017-01-01T00:00:00.000Z"),
    ],
)
def test_accepted_times_round_trip(text: str, iso: str) -> None:
    assert us_to_iso(parse_iso_to_us(text)) == iso


@pytest.mark.parametrize("text", ["2016-12-31T12:00:60Z", "2016-12-31T23:59:60+01:00", "2016-12-31T23:59:61Z"])
def test_a_second_60_is_refused_unless_a_leap_second(text: str) -> None:
    with pytest.raises(ValueError, match="leap second|is not an ISO 8601 date-time"):
        parse_iso_to_us(text)


def test_microseconds_are_exact_far_from_1970() -> None:
    assert parse_iso_to_us("9999-12-31T23:59:59.999999Z") == MAX_US
    assert parse_iso_to_us("0001-01-01T00:00:00.000001Z") == MIN_US + 1


@pytest.mark.parametrize(
    "text",
    [
        "9999-12-31T23:59:59-23:59",
        "0001-01-01T00:00:00+00:01",
        "9999-12-31T23:59:59.999999-00:00:01",
        "9999-12-31T23:59:60Z",  # the leap second would be the first of year 10000
    ],
)
def test_times_outside_the_range_in_utc_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="outside 0001-01-01T00:00:00Z"):
        parse_iso_to_us(text)


@pytest.mark.parametrize("text", ["", "yesterday", "10000-01-01T00:00:00Z", "2026-13-01", "x" * 10_000, "2026\x00"])
def test_text_that_is_no_time_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not an ISO 8601 date-time"):
        parse_iso_to_us(text)


@pytest.mark.parametrize("us", [2**63 - 1, -(2**63), MAX_US + 1, MIN_US - 1, 10**30])
def test_a_stored_time_outside_the_range_formats_as_the_nearest(us: int) -> None:
    assert us_to_iso(us) in ("9999-12-31T23:59:59.999Z", "0001-01-01T00:00:00.000Z")
    assert us_to_datetime(us).year in (1, 9999)
    with pytest.raises(ValueError):
        check_us(us)


@pytest.mark.parametrize("seed", range(3))
def test_formatting_matches_the_datetime_of_the_time(seed: int) -> None:
    """us_to_iso (which caches the text of whole seconds) says what the exact datetime says:
    milliseconds cut, not rounded, before 1970 too, and the ends of the range."""
    import random

    rng = random.Random(seed)
    times = [MIN_US, MAX_US, 0, -1, -999, -1_000, -1_001, 999, 1_000_999, -86_400_000_001]
    times += [rng.randint(MIN_US, MAX_US) for _ in range(2_000)]
    times += [rng.randint(-(10**12), 10**12) for _ in range(2_000)]
    for us in times:
        expected = us_to_datetime(us).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        assert us_to_iso(us) == expected, us
