"""The rate limiter on a hand-moved clock: a sliding log per account, bounded, reset."""

from __future__ import annotations

import pytest

from mock_puresms.domain.rate_limits import (
    CONFIG,
    CONTROL,
    OPEN_MODE,
    RateLimit,
    RateLimiter,
    refusal,
    retry_after_seconds,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000

    def __call__(self) -> int:
        return self.now


def test_no_limit_admits_everything_and_keeps_nothing() -> None:
    limiter = RateLimiter(Clock())
    assert all(limiter.admit("a") is None for _ in range(1000))
    assert limiter.state("a") == (None, None, 0, 0)
    assert limiter._logs == {}


def test_the_window_slides_from_each_admitted_request() -> None:
    clock = Clock()
    limiter = RateLimiter(clock, {"a": RateLimit(2, 1000)})
    assert limiter.admit("a") is None
    clock.now += 400
    assert limiter.admit("a") is None
    assert limiter.admit("a") == 600
    clock.now += 599
    assert limiter.admit("a") == 1
    clock.now += 1  # the first request's slot frees exactly one window after it
    assert limiter.admit("a") is None
    assert limiter.admit("a") == 400


def test_refused_requests_are_not_counted_and_logs_stay_bounded() -> None:
    clock = Clock()
    limiter = RateLimiter(clock, {"a": RateLimit(3, 1000)})
    for _ in range(100):
        limiter.admit("a")
    assert len(limiter._logs["a"]) == 3
    clock.now += 1000
    assert limiter.admit("a") is None


def test_limits_are_per_account_and_open_mode_gives_a_default() -> None:
    limiter = RateLimiter(Clock(), {"conf": RateLimit(1, 1000)}, RateLimit(2, 1000))
    assert [limiter.admit("conf") for _ in range(2)] == [None, 1000]
    assert [limiter.admit("open") for _ in range(3)] == [None, None, 1000]
    assert limiter.state("conf").source == CONFIG
    assert limiter.state("open").source == OPEN_MODE


def test_set_overrides_until_reset_of_that_account() -> None:
    clock = Clock()
    limiter = RateLimiter(clock, {"a": RateLimit(1, 1000)})
    limiter.admit("a")
    limiter.set("a", RateLimit(2, 5000))
    # The request already counted still counts against the new limit.
    assert limiter.admit("a") is None
    assert limiter.state("a") == (RateLimit(2, 5000), CONTROL, 2, 5000)
    limiter.set("b", None)
    limiter.reset(["a"])
    assert limiter.state("a") == (RateLimit(1, 1000), CONFIG, 0, 0)


def test_a_smaller_limit_keeps_only_the_newest_entries() -> None:
    clock = Clock()
    limiter = RateLimiter(clock, {"a": RateLimit(5, 1000)})
    for _ in range(5):
        limiter.admit("a")
        clock.now += 100
    limiter.set("a", RateLimit(2, 1000))
    assert list(limiter._logs["a"]) == [clock.now - 200, clock.now - 100]


def test_none_removes_the_limit_and_reset_brings_back_the_default() -> None:
    limiter = RateLimiter(Clock(), {}, RateLimit(1, 1000))
    limiter.admit("a")
    limiter.set("a", None)
    assert limiter.admit("a") is None and limiter.state("a").limit is None
    limiter.reset()
    assert [limiter.admit("a") for _ in range(2)] == [None, 1000]


def test_a_clock_stepped_back_never_makes_the_wait_longer_than_the_window() -> None:
    clock = Clock()
    limiter = RateLimiter(clock, {"a": RateLimit(1, 1000)})
    limiter.admit("a")
    clock.now -= 60_000
    assert limiter.admit("a") == 1000


@pytest.mark.parametrize(("ms", "seconds"), [(1, 1), (999, 1), (1000, 1), (1001, 2), (60_000, 60)])
def test_retry_after_is_whole_seconds_rounded_up(ms: int, seconds: int) -> None:
    assert retry_after_seconds(ms) == seconds


@pytest.mark.parametrize(
    ("window_ms", "written"), [(1000, "1s"), (1500, "1500ms"), (60_000, "1m"), (7_200_000, "2h")]
)
def test_the_window_is_written_as_a_duration(window_ms: int, written: str) -> None:
    assert RateLimit(1, window_ms).window == written
    assert f"per {written}" in refusal(RateLimit(1, window_ms), 1)


@pytest.mark.parametrize(("requests", "window_ms"), [(0, 1000), (100_001, 1000), (1, 0)])
def test_a_limit_out_of_range_is_refused(requests: int, window_ms: int) -> None:
    with pytest.raises(ValueError):
        RateLimit(requests, window_ms)
