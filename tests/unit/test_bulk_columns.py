"""The bulk fast path (whole columns at once) agrees with message-by-message validation.

``parse_bulk`` first tries ``_plain_bulk``, which only ever says "all plainly valid"
or "look one by one". These properties hold it to that: whenever it answers, its
columns are exactly what the per-message path builds, and a plainly valid bulk is
answered by it (so it cannot quietly always step aside).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_puresms.api.sms_requests import _message, _plain_bulk, parse_bulk
from mock_puresms.domain.encoding import measure, measure_all
from mock_puresms.domain.sending import Outbound, OutboundSms
from mock_puresms.web.body import lowercase_keys

valid_phones = st.from_regex(r"\+?[0-9]{7,15}", fullmatch=True)
phones = st.one_of(
    valid_phones,
    st.from_regex(r"[0-9+ ٣²a-]{0,17}", fullmatch=True),
    st.integers(),
    st.none(),
    st.lists(st.just("447700900100"), max_size=1),
)
valid_senders = st.sampled_from(["Acme", "A", "12345", "+447700900", "Shop 24"])
senders = st.one_of(valid_senders, st.sampled_from(["", "x" * 12, "12", "Ünï", "!"]), st.none())
gsm_contents = st.text(alphabet="Hello world 0123456789.,!?@£", min_size=1, max_size=200)
contents = st.one_of(
    gsm_contents,
    st.text(max_size=40),  # anything: UCS-2, extension characters, empty
    st.text(alphabet="^{}€[]", max_size=40),  # extension characters count twice
    st.sampled_from(["x" * 1530, "x" * 1531, "€" * 765, "€" * 766, "ç" * 670, "ç" * 671]),
    st.none(),
    st.integers(),
    st.dictionaries(st.just("a"), st.just(1), max_size=1),
)
references = st.one_of(
    st.none(), st.text(max_size=3), st.sampled_from(["r" * 100, "r" * 101]), st.integers()
)
urls = st.one_of(
    st.none(),
    st.sampled_from(["https://example.test/dlr", "http://127.0.0.1:9/x", "ftp://x", "nope"]),
)
# Property names in the canonical spelling and in others, plus one the API ignores.
names = {
    "to": st.sampled_from(["to", "To", "TO"]),
    "from": st.sampled_from(["from", "From"]),
    "content": st.sampled_from(["content", "CONTENT"]),
    "clientReference": st.sampled_from(["clientReference", "clientreference"]),
    "deliveryReceiptUrl": st.sampled_from(["deliveryReceiptUrl", "DeliveryReceiptURL"]),
}
values = {
    "to": phones,
    "from": senders,
    "content": contents,
    "clientReference": references,
    "deliveryReceiptUrl": urls,
}


@st.composite
def any_message(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 30)) == 0:
        return draw(st.one_of(st.none(), st.integers(), st.just([])))
    message: dict[str, Any] = {}
    for field, strategy in values.items():
        if draw(st.booleans()):
            message[draw(names[field])] = draw(strategy)
    if draw(st.booleans()):
        message["extra"] = draw(st.integers())
    return message


@st.composite
def plain_message(draw: st.DrawFn) -> dict[str, Any]:
    message: dict[str, Any] = {"to": draw(valid_phones), "content": draw(gsm_contents)}
    if draw(st.booleans()):
        message["from"] = draw(valid_senders)
    if draw(st.booleans()):
        message["clientReference"] = draw(st.text(min_size=1, max_size=100))
    return message


@st.composite
def nearly_plain_bulk(draw: st.DrawFn) -> list[Any]:
    """Plainly valid messages, one of which may have one field set to anything."""
    messages: list[Any] = draw(st.lists(plain_message(), min_size=1, max_size=5))
    index = draw(st.integers(0, len(messages) - 1))
    change = draw(st.integers(0, 7))
    if change == 7:
        messages[index] = draw(st.one_of(st.none(), st.integers(), st.just([])))
    elif change >= 5:
        del messages[index][draw(st.sampled_from(sorted(messages[index])))]
    else:
        field = list(values)[change]
        messages[index][draw(names[field])] = draw(values[field])
    return messages


def one_by_one(
    messages: list[Any], sender: str | None, content: str | None, url: str | None
) -> Outbound | None:
    """The per-message path's columns when every message is valid, else None."""
    items: list[OutboundSms] = []
    for raw in messages:
        item = _message(lowercase_keys(raw), sender, content, url) if isinstance(raw, dict) else {}
        if isinstance(item, dict):
            return None
        items.append(item)
    return Outbound.of(items)


def assert_fast_path_agrees(
    messages: list[Any], sender: str | None, content: str | None, url: str | None
) -> None:
    """When the column pass answers at all, it answers what one-by-one checking would."""
    fast = _plain_bulk(messages, sender, content, url)
    if fast is not None:
        assert fast == one_by_one(messages, sender, content, url)


@settings(max_examples=400)
@given(
    st.lists(any_message(), min_size=1, max_size=6),
    st.one_of(st.none(), valid_senders),
    st.one_of(st.none(), gsm_contents),
    st.one_of(st.none(), st.just("https://example.test/batch")),
)
def test_fast_path_answers_only_what_the_slow_path_accepts(
    messages: list[Any], sender: str | None, content: str | None, url: str | None
) -> None:
    assert_fast_path_agrees(messages, sender, content, url)


@settings(max_examples=600)
@given(
    nearly_plain_bulk(),
    st.one_of(st.none(), valid_senders),
    st.one_of(st.none(), gsm_contents),
    st.one_of(st.none(), st.just("https://example.test/batch")),
)
def test_one_odd_field_is_judged_like_the_slow_path_judges_it(
    messages: list[Any], sender: str | None, content: str | None, url: str | None
) -> None:
    assert_fast_path_agrees(messages, sender, content, url)


@settings(max_examples=200)
@given(st.lists(plain_message(), min_size=1, max_size=20), st.one_of(st.none(), valid_senders))
def test_plainly_valid_bulks_take_the_fast_path(
    messages: list[dict[str, Any]], sender: str | None
) -> None:
    fallback = sender or "Acme"
    fast = _plain_bulk(messages, fallback, None, None)
    assert fast is not None
    assert fast == one_by_one(messages, fallback, None, None)
    validation = parse_bulk({"from": fallback, "messages": messages})
    assert validation.errors == []
    assert validation.request.items == fast


@given(st.lists(st.text(max_size=400), min_size=1, max_size=8))
def test_measuring_many_bodies_measures_each(bodies: list[str]) -> None:
    assert measure_all(bodies) == [measure(body) for body in bodies]


ODD_VALUES = [
    ("to", value)
    for value in ["123456", "1234567", "+123456789012345", "1234567890123456", "+", "", None,
                  "++1234567", "12345 678", "٣٣٣٣٣٣٣", 447700900100, ["447700900100"]]
] + [
    ("from", value)
    for value in ["A", "x" * 11, "x" * 12, "12", "+123", "123456789012345", "", None, 5, {}]
] + [
    ("content", value)
    for value in ["x" * 1530, "x" * 1531, "€" * 765, "€" * 766, "ç" * 670, "ç" * 671,
                  "", None, 7, ["Hi"], "\u00e7", "😀"]
] + [
    ("clientReference", value)
    for value in ["r", "r" * 100, "r" * 101, "", None, 12, ["r"]]
] + [
    ("deliveryReceiptUrl", value)
    for value in ["https://example.test/x", "http://h:0/x", "ftp://h/x", "", None, 1, ["x"]]
]  # fmt: skip


@pytest.mark.parametrize(("field", "value"), ODD_VALUES)
def test_each_odd_value_is_judged_like_the_slow_path(field: str, value: Any) -> None:
    messages = [
        {"to": "447700900100", "content": "Hi"},
        {"to": "447700900101", "content": "Hi", field: value},
    ]
    for fallback in (None, "Acme"):
        fast = _plain_bulk(messages, fallback, None, None)
        assert fast == one_by_one(messages, fallback, None, None)
