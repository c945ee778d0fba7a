"""Phone number and sender rules, as API.md section 3 states them."""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_puresms.domain.phones import PHONE_RULE, SENDER_RULE, is_valid_sender, normalize_phone

TRICKY = "+0123456789 aZ٣²-\n\t"
phone_like = st.one_of(
    st.from_regex(r"\+?[0-9]{7,15}", fullmatch=True),
    st.text(alphabet=TRICKY, max_size=18),
    st.text(max_size=18),
)
sender_like = st.one_of(
    st.from_regex(r"[A-Za-z0-9 ]{1,11}", fullmatch=True),
    st.from_regex(r"\+?[0-9]{1,16}", fullmatch=True),
    st.text(alphabet=TRICKY, max_size=18),
    st.text(max_size=13),
)


@pytest.mark.parametrize(
    ("value", "digits"),
    [
        ("4471234123123", "4471234123123"),
        ("+4471234123123", "4471234123123"),
        ("1234567", "1234567"),
        ("+123456789012345", "123456789012345"),
        ("0000000", "0000000"),
    ],
)
def test_phone_of_7_to_15_digits_is_returned_without_plus(value: str, digits: str) -> None:
    assert normalize_phone(value) == digits


@pytest.mark.parametrize(
    "value",
    [
        "",
        "+",
        "123456",
        "+123456",
        "1234567890123456",
        "+44 7700",
        "+44 7700 900123",
        "44-7700-900123",
        "++447700900123",
        "447700900123+",
        " 447700900123",
        "447700900123 ",
        "447700900123\n",
        "٣" * 10,
        "²" * 10,
        "\uff14\uff14\uff17\uff17\uff10\uff10\uff19\uff10\uff10\uff11\uff12\uff13",  # fullwidth
        "0x447700900",
    ],
)
def test_phone_that_is_not_plain_ascii_digits_is_invalid(value: str) -> None:
    assert normalize_phone(value) is None


@given(phone_like)
def test_normalize_phone_accepts_exactly_the_documented_pattern(value: str) -> None:
    match = re.fullmatch(r"\+?([0-9]{7,15})", value)
    assert normalize_phone(value) == (match[1] if match else None)


@pytest.mark.parametrize(
    "value",
    [
        "A",
        "Somebody",
        "Acme Ltd",
        "ACME2024",
        "A1234567890",
        "1A",
        "Shop 24",
        "123",
        "+123",
        "123456789012345",
        "+447700900123",
    ],
)
def test_alphanumeric_and_numeric_senders_are_valid(value: str) -> None:
    assert is_valid_sender(value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        " ",
        "12",
        "+12",
        "1234567890123456",
        "Twelve chars",  # 12 characters
        "ABCDEFGHIJKL",
        "Café",
        "Acme-Ltd",
        "Acme_Ltd",
        "Acme\n",
        "+Acme",
        "12 34",
        "٣٣٣",
        "\uff21cme",  # fullwidth A
    ],
)
def test_sender_outside_both_forms_is_invalid(value: str) -> None:
    assert not is_valid_sender(value)


def reference_sender(value: str) -> bool:
    alphanumeric = (
        1 <= len(value) <= 11
        and all(c in string.ascii_letters + string.digits + " " for c in value)
        and any(c in string.ascii_letters for c in value)
    )
    digits = value.removeprefix("+")
    numeric = 3 <= len(digits) <= 15 and all(c in string.digits for c in digits)
    return alphanumeric or numeric


@given(sender_like)
def test_is_valid_sender_matches_the_documented_rule(value: str) -> None:
    assert is_valid_sender(value) is reference_sender(value)


def test_rules_read_as_api_md_words_them() -> None:
    assert f"'to' {PHONE_RULE}" == "'to' must be 7 to 15 digits, optionally prefixed by '+'."
    assert SENDER_RULE.startswith("must be ") and SENDER_RULE.endswith(".")
