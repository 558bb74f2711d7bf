"""The login throttle's arithmetic, on a clock the test moves: back-off, caps, memory bound."""

from __future__ import annotations

import pytest

from interactiveai.server.ui import auth
from interactiveai.server.ui.auth import LoginRateLimiter, retry_after


class Clock:
    def __init__(self) -> None:
        self.now = 10_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(auth.time, "monotonic", fake)
    return fake


def test_waits_double_after_the_free_failures_up_to_the_cap(clock: Clock) -> None:
    limiter = LoginRateLimiter(free_per_account=3, max_delay=10)
    for _ in range(3):
        assert limiter.attempt("1.2.3.4", "a@x") == 0
    waits = []
    for _ in range(6):
        wait = limiter.attempt("1.2.3.4", "a@x")
        assert wait > 0 and limiter.attempt("1.2.3.4", "a@x") == wait  # refused attempts add nothing
        waits.append(wait)
        clock.now += wait
        assert limiter.attempt("1.2.3.4", "a@x") == 0
    assert waits == [1, 2, 4, 8, 10, 10]
    assert retry_after(0.2) == "1" and retry_after(4.01) == "5"


def test_other_clients_and_other_accounts_are_not_slowed(clock: Clock) -> None:
    limiter = LoginRateLimiter(free_per_account=2, free_per_client=100)
    for _ in range(2):
        limiter.attempt("attacker", "victim@x")
    assert limiter.attempt("attacker", "victim@x") > 0
    assert limiter.attempt("owner", "victim@x") == 0
    assert limiter.attempt("attacker", "someone-else@x") == 0


def test_one_client_spraying_many_accounts_is_slowed(clock: Clock) -> None:
    limiter = LoginRateLimiter(free_per_account=5, free_per_client=10)
    for index in range(10):
        assert limiter.attempt("sprayer", f"user{index}@x") == 0
    assert limiter.attempt("sprayer", "user99@x") > 0


def test_success_clears_and_silence_forgets(clock: Clock) -> None:
    limiter = LoginRateLimiter(free_per_account=2, forget_after=3600)
    for _ in range(2):
        limiter.attempt("c", "a@x")
    limiter.succeeded("c", "a@x")  # the last attempt was the right password
    assert limiter.attempt("c", "a@x") == 0 and limiter.attempt("c", "A@X ") == 0
    assert limiter.attempt("c", "a@x") > 0
    clock.now += 3600
    assert limiter.attempt("c", "a@x") == 0


def test_memory_is_bounded_by_dropping_the_oldest_keys(clock: Clock) -> None:
    limiter = LoginRateLimiter(free_per_account=1, max_keys=100)
    limiter.attempt("first", "a@x")
    assert limiter.attempt("first", "a@x") > 0
    for index in range(200):
        clock.now += 0.001
        limiter.attempt(f"client-{index}", "a@x")
    assert len(limiter._failures) <= 100
    assert limiter.attempt("first", "a@x") == 0  # forgotten first


def test_a_very_long_campaign_does_not_overflow(clock: Clock) -> None:
    limiter = LoginRateLimiter(free_per_account=1, max_delay=900)
    limiter._failures[("account", "c", "a@x")] = (5000, clock.now)
    assert limiter.attempt("c", "a@x") == 900
