"""Phone number and sender rules, as API.md section 3 states them."""

from __future__ import annotations

import re
import string
from collections import Counter

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mock_puresms.domain.phones import (
    PHONE_RULE,
    SENDER_RULE,
    is_valid_sender,
    normalize_e164,
    normalize_phone,
    normalize_phones,
)

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


valid_phones = st.from_regex(r"\+?[0-9]{7,15}", fullmatch=True)
valid_e164 = st.from_regex(r"\+[0-9]{7,15}", fullmatch=True)
odd_values = st.one_of(
    phone_like,
    st.sampled_from(["+", "++4477009001", "4477009001+", "4477+009001", "447700\n9001", "\n", ""]),
    st.sampled_from(["123456", "+123456", "1234567890123456", "+1234567890123456"]),
    st.none(),
    st.integers(),
)


@st.composite
def phone_columns(draw: st.DrawFn) -> list[object]:
    """Columns of valid numbers (v1's, E.164 or mixed), one value maybe replaced by
    anything: most are valid as a whole, so both answers are exercised."""
    column: list[object] = draw(
        st.one_of(
            st.lists(valid_phones, min_size=1, max_size=6),
            st.lists(valid_e164, min_size=1, max_size=6),
        )
    )
    if draw(st.booleans()):
        column[draw(st.integers(0, len(column) - 1))] = draw(odd_values)
    return column


def one_by_one(values: list[object], e164: bool) -> list[str] | None:
    """The reference: each value read on its own."""
    read = normalize_e164 if e164 else normalize_phone
    phones = [read(v) if isinstance(v, str) else None for v in values]
    return None if None in phones else phones  # type: ignore[return-value]


def test_a_column_of_phones_is_read_as_each_phone_is() -> None:
    seen: Counter[str] = Counter()

    @settings(max_examples=600)
    @given(phone_columns(), st.booleans())
    @example(["4477009001", "+4477009001"], False)
    @example(["+4477009001", "4477009001"], True)
    @example(["+4477009001", "++4477009001"], False)
    @example(["4477009001\n4477009001"], False)
    @example(["447700\n9001"], False)
    @example(["+447700\n9001"], True)
    @example(["4477+009001"], False)
    @example(["+1234567890123456"], True)
    @example(["123456"], False)
    @example(["٣٣٣٣٣٣٣٣"], False)
    @example(["4477009001", "\ud800"], False)  # a lone surrogate: not UTF-8 at all
    def check(values: list[object], e164: bool) -> None:
        read = normalize_phones(values, e164=e164)
        assert read == one_by_one(values, e164)
        seen["valid" if read is not None else "invalid"] += 1

    check()
    assert seen["valid"] > 0 and seen["invalid"] > 0, seen
