"""Durations in scenario and config files: ``250ms``, ``2s``, ``5m`` ... read as milliseconds."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_puresms.simulation.durations import (
    MAX_DURATION_MS,
    UNIT_MS,
    format_duration,
    parse_duration,
)


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("250ms", 250),
        ("2s", 2_000),
        ("1.5s", 1_500),
        ("5m", 300_000),
        ("1h", 3_600_000),
        ("2d", 172_800_000),
        ("0s", 0),
        ("0", 0),
        ("3", 3_000),
        ("0.25", 250),
        (".5s", 500),
        ("2 s", 2_000),
        ("  10s ", 10_000),
        ("1.0005s", 1_001),  # fractions of a millisecond round to the nearest one
    ],
)
def test_duration_text_is_read_as_milliseconds(text: str, ms: int) -> None:
    assert parse_duration(text) == ms


@pytest.mark.parametrize(("value", "ms"), [(2, 2_000), (0, 0), (1.5, 1_500), (0.001, 1)])
def test_bare_number_is_seconds(value: float, ms: int) -> None:
    assert parse_duration(value) == ms


@pytest.mark.parametrize("value", ["-1s", "-250ms", " -2 ", -1, -0.5])
def test_negative_duration_is_refused(value: str | float) -> None:
    with pytest.raises(ValueError, match="negative"):
        parse_duration(value)


@pytest.mark.parametrize("value", ["2x", "5 sec", "1w", "3S", "10M", "2 minutes"])
def test_unknown_unit_is_refused_naming_the_allowed_ones(value: str) -> None:
    with pytest.raises(ValueError, match=r"unknown unit .*ms, s, m, h or d"):
        parse_duration(value)


@pytest.mark.parametrize(
    "value", ["", "s", "abc", "1.2.3s", "1h30m", "--1s", "+1s", "1e3s", "nan", "\u0661s"]
)
def test_malformed_duration_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(value)


@pytest.mark.parametrize("value", [True, False, float("inf"), float("nan"), None, [1]])
def test_non_duration_values_are_refused(value: object) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(value)  # type: ignore[arg-type]


@given(amount=st.integers(min_value=0, max_value=10**12), unit=st.sampled_from(sorted(UNIT_MS)))
def test_whole_amount_in_any_unit_round_trips(amount: int, unit: str) -> None:
    amount = amount % (MAX_DURATION_MS // UNIT_MS[unit] + 1)
    assert parse_duration(f"{amount}{unit}") == amount * UNIT_MS[unit]


@given(
    st.decimals(
        min_value=0,
        max_value=MAX_DURATION_MS // 1000,
        places=3,
        allow_nan=False,
        allow_infinity=False,
    )
)
def test_seconds_with_millisecond_fractions_are_exact(seconds: Decimal) -> None:
    seconds = seconds.copy_abs()  # no "-0.000"
    assert parse_duration(f"{seconds:f}s") == int(seconds * 1000)


@given(st.integers(min_value=0, max_value=MAX_DURATION_MS))
def test_formatted_duration_parses_back(ms: int) -> None:
    assert parse_duration(format_duration(ms)) == ms


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (0, "0s"),
        (250, "250ms"),
        (1_500, "1500ms"),
        (2_000, "2s"),
        (90_000, "90s"),
        (7_200_000, "2h"),
    ],
)
def test_format_duration_uses_the_largest_whole_unit(ms: int, text: str) -> None:
    assert format_duration(ms) == text


@pytest.mark.parametrize(
    "value",
    [
        "3661d",
        "3660.5d",
        "99999999999999999999999999999d",
        pytest.param("9" * 5000 + "ms", id="5000-digits"),
        1e300,
        pytest.param(10**5000, id="int-of-5000-digits"),
    ],
)
def test_duration_beyond_ten_years_is_refused(value: str | float) -> None:
    # Past 28 digits Decimal cannot round it (InvalidOperation, once a 500), and str() of
    # an int of 5,000 digits is a ValueError of its own: both must be this one message.
    with pytest.raises(ValueError, match="at most 3660d"):
        parse_duration(value)


def test_ten_years_is_the_longest_duration() -> None:
    assert parse_duration("3660d") == MAX_DURATION_MS
